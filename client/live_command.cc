// depthctl live: frames from a camera (/dev/videoN) or a file paced at its own frame rate go up as
// they come; depth frames come back as soon as they are final. Shows the latency and the frame
// rates, writes what `run` writes, and can show a preview window.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include <opencv2/highgui.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "client/commands.h"
#include "client/connection.h"
#include "client/flags.h"
#include "client/output_writer.h"
#include "client/progress_line.h"
#include "core/media/depth_image.h"

namespace depthd::client {
namespace {

using Clock = std::chrono::steady_clock;

double Percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0.0;
  const size_t k = std::min(values.size() - 1, static_cast<size_t>(q * (values.size() - 1) + 0.5));
  std::nth_element(values.begin(), values.begin() + k, values.end());
  return values[k];
}

absl::StatusOr<cv::VideoCapture> OpenSource(const std::string& source, bool* camera) {
  cv::VideoCapture capture;
  int index = -1;
  *camera = absl::StartsWith(source, "/dev/video") || absl::SimpleAtoi(source, &index);
  if (absl::StartsWith(source, "/dev/video")) (void)absl::SimpleAtoi(source.substr(10), &index);
  const bool opened = *camera ? capture.open(index, cv::CAP_V4L2) : capture.open(source, cv::CAP_FFMPEG);
  if (!opened || !capture.isOpened()) {
    return absl::NotFoundError(absl::StrCat("cannot open ", source, *camera ? " (a camera)" : " (a video file)"));
  }
  return capture;
}

}  // namespace

int LiveCommand(const std::vector<std::string>& args) {
  if (args.size() != 1) {
    std::cerr << "usage: depthctl live SOURCE [-o DIR] [--max_latency_frames N] [--skip_frames]\n"
                 "         [--fps F] [--show] [--json STATS]   SOURCE: /dev/video0, a camera\n"
                 "         index, or a video file (sent at its own frame rate)\n";
    return 2;
  }
  const std::string source = args[0];
  bool camera = false;
  auto opened = OpenSource(source, &camera);
  if (!opened.ok()) return Fail(opened.status());
  cv::VideoCapture capture = *std::move(opened);
  double fps = absl::GetFlag(FLAGS_fps);
  if (fps <= 0) fps = capture.get(cv::CAP_PROP_FPS);
  if (!(fps > 0 && fps < 1000)) fps = 30.0;

  auto spec = SpecFromFlags();
  if (!spec.ok()) return Fail(spec.status());
  spec->set_live(true);
  if (absl::GetFlag(FLAGS_max_latency_frames) > 0) spec->set_max_latency_frames(absl::GetFlag(FLAGS_max_latency_frames));
  spec->set_skip_frames_when_behind(absl::GetFlag(FLAGS_skip_frames));
  if (spec->normalization() == v1::NORMALIZATION_UNSPECIFIED) spec->set_normalization(v1::NORMALIZATION_RUNNING);
  if (absl::GetFlag(FLAGS_show)) spec->set_preview(false);

  OutputOptions output;
  output.dir = absl::GetFlag(FLAGS_out);
  output.name = absl::GetFlag(FLAGS_name);
  if (output.name.empty()) output.name = camera ? "live" : std::filesystem::path(source).stem().string();
  output.colorize = absl::GetFlag(FLAGS_colorize);
  output.rgbd = absl::GetFlag(FLAGS_rgbd) && !camera;
  output.png16 = absl::GetFlag(FLAGS_save_png16);
  OutputWriter writer(output);
  const bool show = absl::GetFlag(FLAGS_show) && std::getenv("DISPLAY") != nullptr;
  if (absl::GetFlag(FLAGS_show) && !show) std::cerr << "depthctl: no display (DISPLAY unset): --show is off\n";

  auto stub = ConnectService();
  if (!stub.ok()) return Fail(stub.status());
  grpc::ClientContext context;
  Prepare(context, /*with_timeout=*/false);
  auto stream = (*stub)->Estimate(&context);
  std::mutex mu;
  std::map<int, Clock::time_point> sent_at;
  std::atomic<int> sent{0};
  std::atomic<bool> stop{false};
  const std::string live_encoding = absl::GetFlag(FLAGS_live_encoding);
  const bool pace = absl::GetFlag(FLAGS_pace) && !camera;

  std::thread sender([&] {
    v1::EstimateRequest first;
    *first.mutable_spec() = *spec;
    if (!stream->Write(first)) return;
    const Clock::time_point start = Clock::now();
    cv::Mat bgr;
    for (int i = 0; !stop; ++i) {
      if (!capture.read(bgr) || bgr.empty()) break;
      if (pace) std::this_thread::sleep_until(start + std::chrono::microseconds(static_cast<int64_t>(1e6 * i / fps)));
      v1::EstimateRequest message;
      v1::Frame* frame = message.mutable_frame();
      frame->set_fps(fps);
      if (live_encoding == "raw") {
        cv::Mat rgb;
        cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
        frame->mutable_raw_rgb()->set_width(rgb.cols);
        frame->mutable_raw_rgb()->set_height(rgb.rows);
        frame->mutable_raw_rgb()->set_data(std::string(reinterpret_cast<char*>(rgb.data), rgb.total() * 3));
      } else {
        std::vector<uchar> bytes;
        cv::imencode(live_encoding == "png" ? ".png" : ".jpg", bgr, bytes, {cv::IMWRITE_JPEG_QUALITY, 92});
        frame->set_encoded(std::string(bytes.begin(), bytes.end()));
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        sent_at[i] = Clock::now();
      }
      if (!stream->Write(message)) break;
      sent = i + 1;
    }
    stream->WritesDone();
  });

  ProgressLine progress(absl::GetFlag(FLAGS_quiet));
  std::vector<double> latency_ms, latency_frames;
  int skipped = 0, stated_latency = -1;
  v1::Summary summary;
  bool have_summary = false;
  absl::Status write_status;
  const Clock::time_point start = Clock::now();
  v1::EstimateResponse response;
  while (stream->Read(&response)) {
    if (response.has_accepted()) {
      stated_latency = response.accepted().latency_frames();
      progress.Job(response.accepted().job_id());
      progress.Note(absl::StrFormat("live job %s: latency %d frames (%.0f ms at %.1f fps)",
                                    response.accepted().job_id(), stated_latency,
                                    1000.0 * stated_latency / fps, fps));
    } else if (response.has_skipped()) {
      ++skipped;
    } else if (response.has_frame()) {
      const v1::DepthFrame& frame = response.frame();
      Clock::time_point at;
      {
        std::lock_guard<std::mutex> lock(mu);
        at = sent_at[frame.input_index()];
        sent_at.erase(sent_at.begin(), sent_at.upper_bound(frame.input_index()));
      }
      latency_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - at).count());
      latency_frames.push_back(sent.load() - 1 - frame.input_index());
      write_status = writer.Add(frame);
      if (!write_status.ok()) {
        stop = true;
        context.TryCancel();
      }
      if (show) {
        auto depth = DecodeDepthFrame(frame);
        if (depth.ok()) {
          cv::Mat bgr;
          cv::cvtColor(ColorizeSpectralR(*depth), bgr, cv::COLOR_RGB2BGR);
          cv::imshow("depthctl live", bgr);
          if (cv::waitKey(1) == 27) {  // Esc ends the stream
            stop = true;
          }
        }
      }
      const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
      progress.Stage(absl::StrFormat("live in %.1f fps, out %.1f fps, latency %.0f ms / %.0f frames",
                                     sent.load() / seconds, writer.frames() / seconds,
                                     latency_ms.back(), latency_frames.back()),
                     0, 0);
      progress.Frames(writer.frames());
    } else if (response.has_summary()) {
      summary = response.summary();
      have_summary = true;
    }
  }
  stop = true;
  sender.join();
  const grpc::Status status = stream->Finish();
  progress.Done();
  if (!write_status.ok()) return Fail(write_status);
  if (!status.ok()) return Fail(status);
  if (!have_summary) return Fail(absl::DataLossError("the stream ended without a Summary"));
  if (absl::Status s = writer.Finish(summary, camera ? "" : source, 0, 0); !s.ok()) return Fail(s);
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  const std::string stats = absl::StrFormat(
      "{\"input_fps\": %.2f, \"sent\": %d, \"received\": %d, \"skipped\": %d, \"stated_latency_frames\": %d, "
      "\"latency_ms\": {\"p50\": %.1f, \"p95\": %.1f, \"max\": %.1f}, "
      "\"latency_frames\": {\"p50\": %.1f, \"p95\": %.1f, \"max\": %.1f}, \"output_fps\": %.2f}",
      fps, sent.load(), writer.frames(), skipped, stated_latency, Percentile(latency_ms, 0.5),
      Percentile(latency_ms, 0.95), latency_ms.empty() ? 0.0 : *std::max_element(latency_ms.begin(), latency_ms.end()),
      Percentile(latency_frames, 0.5), Percentile(latency_frames, 0.95),
      latency_frames.empty() ? 0.0 : *std::max_element(latency_frames.begin(), latency_frames.end()),
      writer.frames() / wall);
  std::cout << DescribeSummary(summary, wall) << "  live: " << stats << "\n";
  for (const std::string& path : writer.paths()) std::cout << "  wrote " << path << "\n";
  const std::string json = absl::GetFlag(FLAGS_json);
  if (!json.empty()) std::ofstream(json) << stats << "\n";
  return 0;
}

}  // namespace depthd::client
