// bench_model_speed: how fast the model's inference over all snippets keeps up with video.
// Runs the `fast` preset's snippet inference (dilations 1 and 25, 3-frame snippets) on a video of
// --frames frames at --res, through the same code path as the server (PredictSnippetDepths),
// and reports video frames per second = frames / inference time (median of --runs).
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "core/model/device.h"
#include "core/model/model_loader.h"
#include "core/pipeline.h"
#include "core/pipeline_options.h"

ABSL_FLAG(std::string, model, "", "model (default: the embedded model)");
ABSL_FLAG(std::string, device, "cpu", "auto | cpu | cuda | mps");
ABSL_FLAG(std::string, dtype, "", "fp32 | fp16 | bf16 (default: the device's)");
ABSL_FLAG(int, threads, 2, "LibTorch intra-op threads");
ABSL_FLAG(int, res, 384, "processing resolution (longer side)");
ABSL_FLAG(int, frames, 100, "video frames");
ABSL_FLAG(int, batch, 4, "snippets per forward call");
ABSL_FLAG(int, runs, 5, "timed runs");
ABSL_FLAG(std::string, json, "", "write results as JSON here");

int main(int argc, char** argv) {
  using namespace depthd;
  absl::SetProgramUsageMessage("Measures snippet inference throughput of a depth model.");
  absl::ParseCommandLine(argc, argv);
  SetTorchThreads(absl::GetFlag(FLAGS_threads));
  ModelLoadOptions load{absl::GetFlag(FLAGS_model), absl::GetFlag(FLAGS_device), absl::GetFlag(FLAGS_dtype)};
  auto model = LoadDepthModel(load);
  if (!model.ok()) {
    std::cerr << "bench_model_speed: " << model.status() << "\n";
    return 1;
  }
  PipelineOverrides overrides;
  overrides.processing_res = absl::GetFlag(FLAGS_res);
  overrides.batch_size = absl::GetFlag(FLAGS_batch);
  auto options = ResolveOptions("fast", overrides);
  // A 16:9 video of textured noise: the network's cost does not depend on the content.
  const int width = absl::GetFlag(FLAGS_res), height = width * 9 / 16;
  VideoFrames video;
  cv::RNG rng(1);
  for (int f = 0; f < absl::GetFlag(FLAGS_frames); ++f) {
    cv::Mat frame(height, width, CV_8UC3);
    rng.fill(frame, cv::RNG::UNIFORM, 0, 255);
    video.frames.push_back(frame);
  }
  std::vector<double> seconds;
  int snippets = 0;
  for (int run = 0; run < absl::GetFlag(FLAGS_runs) + 1; ++run) {
    const auto start = std::chrono::steady_clock::now();
    auto depths = PredictSnippetDepths(**model, video, *options);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!depths.ok()) {
      std::cerr << "bench_model_speed: " << depths.status() << "\n";
      return 1;
    }
    snippets = depths->plan().TotalSnippets();
    if (run > 0) seconds.push_back(s);  // the first run warms up
  }
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  const double fps = video.num_frames() / median;
  const ModelInfo info = DescribeModel(**model);
  std::cout << absl::StrFormat(
      "model %s on %s/%s, %d threads: %d frames at %dx%d, %d snippets (fast preset), batch %d\n"
      "inference median %.3f s over %d runs = %.1f ms per snippet = %.2f video frames/s\n",
      info.contract.name, DeviceName(info.device), DTypeName(info.dtype), TorchThreads(),
      video.num_frames(), width, height, snippets, absl::GetFlag(FLAGS_batch), median,
      static_cast<int>(seconds.size()), 1000.0 * median / snippets, fps);
  if (!absl::GetFlag(FLAGS_json).empty()) {
    nlohmann::json j = {{"model", info.contract.name}, {"device", DeviceName(info.device)},
                        {"dtype", DTypeName(info.dtype)}, {"threads", TorchThreads()},
                        {"frames", video.num_frames()}, {"width", width}, {"height", height},
                        {"snippets", snippets}, {"batch", absl::GetFlag(FLAGS_batch)},
                        {"median_seconds", median}, {"video_fps", fps}};
    std::ofstream(absl::GetFlag(FLAGS_json)) << j.dump(2) << "\n";
  }
  return 0;
}
