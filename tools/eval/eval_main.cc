// eval: the RollingDepth paper's protocol on videos with known depth. For every video, AbsRel
// and delta1 after one least-squares scale and shift per video, for the co-aligned result and
// for the snippets merged without co-alignment, plus temporal consistency.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "core/coalign.h"
#include "core/depth_metrics.h"
#include "core/model/device.h"
#include "core/merge.h"
#include "core/model/model_loader.h"
#include "core/media/npy.h"
#include "core/pipeline.h"
#include "core/pipeline_options.h"
#include "core/media/video_io.h"
#include "tools/synth/synth.h"

ABSL_FLAG(std::string, model, "", "model (default: the embedded model)");
ABSL_FLAG(std::string, videos, "", "folder of videos as tools/synth writes them (rgb.mp4 + depth.npy)");
ABSL_FLAG(uint64_t, first_seed, 100000, "without --videos: render held-out seeds first_seed ..");
ABSL_FLAG(int, count, 8, "without --videos: number of videos to render");
ABSL_FLAG(int, frames, 60, "without --videos: frames per rendered video");
ABSL_FLAG(int, width, 384, "without --videos: rendered width");
ABSL_FLAG(int, height, 216, "without --videos: rendered height");
ABSL_FLAG(std::string, preset, "fast", "pipeline preset");
ABSL_FLAG(int, res, 384, "processing resolution");
ABSL_FLAG(std::string, solver, "fast", "co-alignment solver");
ABSL_FLAG(int, threads, 2, "LibTorch threads");
ABSL_FLAG(std::string, json, "", "write per-video and overall figures here");
ABSL_FLAG(std::string, save_dir, "",
          "write <video>_pred.npy (co-aligned, merged) and <video>_gt.npy (metres, 0 = invalid) here");

namespace depthd {
namespace {

struct Sample {
  std::string name;
  VideoFrames video;
  std::vector<cv::Mat> depth;  // metres, 0 = invalid, at the processing size
};

std::vector<cv::Mat> ResizeDepth(const std::vector<cv::Mat>& depth, cv::Size size) {
  std::vector<cv::Mat> out;
  for (const cv::Mat& d : depth) out.push_back(ResizeTo(d, size, Resample::kNearest));
  return out;
}

absl::StatusOr<std::vector<Sample>> LoadSamples(const VideoReadOptions& read) {
  std::vector<Sample> samples;
  const std::string dir = absl::GetFlag(FLAGS_videos);
  if (!dir.empty()) {
    std::vector<std::filesystem::path> folders;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (std::filesystem::exists(entry.path() / "depth.npy")) folders.push_back(entry.path());
    }
    std::sort(folders.begin(), folders.end());
    for (const auto& folder : folders) {
      const std::string rgb = std::filesystem::exists(folder / "rgb.mp4") ? (folder / "rgb.mp4").string()
                                                                          : (folder / "rgb").string();
      auto video = ReadVideo(rgb, read);
      if (!video.ok()) return video.status();
      auto npy = ReadNpy((folder / "depth.npy").string());
      if (!npy.ok()) return npy.status();
      auto values = npy->AsFloat();
      const int n = npy->shape[0], h = npy->shape[1], w = npy->shape[2];
      std::vector<cv::Mat> depth;
      for (int f = 0; f < std::min(n, video->num_frames()); ++f) {
        depth.push_back(cv::Mat(h, w, CV_32FC1, values->data() + static_cast<size_t>(f) * h * w).clone());
      }
      video->frames.resize(depth.size());
      const cv::Size size(video->width(), video->height());
      samples.push_back({folder.filename().string(), *std::move(video), ResizeDepth(depth, size)});
    }
    return samples;
  }
  for (int i = 0; i < absl::GetFlag(FLAGS_count); ++i) {
    synth::SceneOptions scene;
    scene.seed = absl::GetFlag(FLAGS_first_seed) + i;
    scene.num_frames = absl::GetFlag(FLAGS_frames);
    scene.width = absl::GetFlag(FLAGS_width);
    scene.height = absl::GetFlag(FLAGS_height);
    auto rendered = synth::RenderVideo(scene);
    if (!rendered.ok()) return rendered.status();
    auto video = FramesToVideo(rendered->rgb, rendered->fps, read);
    if (!video.ok()) return video.status();
    const cv::Size size(video->width(), video->height());
    samples.push_back({absl::StrFormat("seed_%d", scene.seed), *std::move(video),
                       ResizeDepth(rendered->depth, size)});
  }
  return samples;
}

absl::Status SaveFrames(const std::string& path, const std::vector<cv::Mat>& frames) {
  auto writer = NpyFrameWriter::Open(path, frames[0].rows, frames[0].cols);
  if (!writer.ok()) return writer.status();
  for (const cv::Mat& f : frames) {
    const cv::Mat continuous = f.isContinuous() ? f : f.clone();
    if (absl::Status s = writer->Append(continuous.ptr<float>()); !s.ok()) return s;
  }
  return writer->Close();
}

// Temporal consistency: frame-to-frame change of the aligned prediction over the truth's.
double TemporalRatio(const std::vector<cv::Mat>& pred, const AffineFit& fit, const std::vector<cv::Mat>& gt) {
  std::vector<cv::Mat> aligned, masks;
  for (size_t f = 0; f < pred.size(); ++f) {
    aligned.push_back(pred[f] * fit.scale + fit.shift);
    masks.push_back(gt[f] > 0);
  }
  const double truth = MeanTemporalChange(gt, masks);
  return truth > 0 ? MeanTemporalChange(aligned, masks) / truth : 0.0;
}

}  // namespace
}  // namespace depthd

int main(int argc, char** argv) {
  using namespace depthd;
  absl::SetProgramUsageMessage("Evaluates a depth model on videos with known depth (AbsRel, delta1).");
  absl::ParseCommandLine(argc, argv);
  SetTorchThreads(absl::GetFlag(FLAGS_threads));
  auto model = LoadDepthModel({absl::GetFlag(FLAGS_model), "cpu", ""});
  if (!model.ok()) {
    std::cerr << "eval: " << model.status() << "\n";
    return 1;
  }
  PipelineOverrides overrides;
  overrides.processing_res = absl::GetFlag(FLAGS_res);
  auto solver = ParseCoalignSolver(absl::GetFlag(FLAGS_solver));
  if (!solver.ok()) {
    std::cerr << "eval: " << solver.status() << "\n";
    return 2;
  }
  overrides.solver = *solver;
  auto options = ResolveOptions(absl::GetFlag(FLAGS_preset), overrides);
  if (!options.ok()) {
    std::cerr << "eval: " << options.status() << "\n";
    return 2;
  }
  VideoReadOptions read;
  read.processing_res = options->processing_res;
  auto samples = LoadSamples(read);
  if (!samples.ok()) {
    std::cerr << "eval: " << samples.status() << "\n";
    return 1;
  }
  nlohmann::json report = {{"model", DescribeModel(**model).contract.name},
                           {"preset", options->preset},
                           {"processing_res", options->processing_res},
                           {"solver", CoalignSolverName(options->coalign.solver)}};
  std::cout << absl::StrFormat("%-14s %7s %9s %8s %11s %9s %8s %9s\n", "video", "frames", "AbsRel", "delta1",
                               "AbsRel_raw", "d1_raw", "temporal", "temp_raw");
  double sum[6] = {0};
  for (const Sample& sample : *samples) {
    auto depths = PredictSnippetDepths(**model, sample.video, *options);
    if (!depths.ok()) {
      std::cerr << "eval: " << sample.name << ": " << depths.status() << "\n";
      return 1;
    }
    auto aligned = Coalign(*depths, options->coalign);
    if (!aligned.ok()) {
      std::cerr << "eval: " << aligned.status() << "\n";
      return 1;
    }
    auto merged = MergeToFrames(*depths, *aligned);
    auto raw = MergeToFrames(*depths, IdentityAlignment(*depths));
    auto a = EvaluateDepth(*merged, sample.depth);
    auto b = EvaluateDepth(*raw, sample.depth);
    if (!a.ok() || !b.ok()) {
      std::cerr << "eval: " << sample.name << ": " << (!a.ok() ? a.status() : b.status()) << "\n";
      return 1;
    }
    if (const std::string dir = absl::GetFlag(FLAGS_save_dir); !dir.empty()) {
      std::filesystem::create_directories(dir);
      absl::Status saved = SaveFrames(dir + "/" + sample.name + "_pred.npy", *merged);
      if (saved.ok()) saved = SaveFrames(dir + "/" + sample.name + "_gt.npy", sample.depth);
      if (!saved.ok()) {
        std::cerr << "eval: " << saved << "\n";
        return 1;
      }
    }
    const double ta = TemporalRatio(*merged, a->fit, sample.depth), tb = TemporalRatio(*raw, b->fit, sample.depth);
    std::cout << absl::StrFormat("%-14s %7d %9.4f %8.4f %11.4f %9.4f %8.3f %9.3f\n", sample.name,
                                 sample.video.num_frames(), a->abs_rel, a->delta1, b->abs_rel, b->delta1, ta, tb);
    report["videos"].push_back({{"name", sample.name}, {"frames", sample.video.num_frames()},
                                {"coaligned", {{"abs_rel", a->abs_rel}, {"delta1", a->delta1}, {"temporal_ratio", ta}}},
                                {"no_coalignment", {{"abs_rel", b->abs_rel}, {"delta1", b->delta1}, {"temporal_ratio", tb}}},
                                {"coalign_iterations", aligned->iterations}});
    const double values[6] = {a->abs_rel, a->delta1, b->abs_rel, b->delta1, ta, tb};
    for (int i = 0; i < 6; ++i) sum[i] += values[i];
  }
  const double n = samples->size();
  std::cout << absl::StrFormat("%-14s %7s %9.4f %8.4f %11.4f %9.4f %8.3f %9.3f\n", "overall", "", sum[0] / n,
                               sum[1] / n, sum[2] / n, sum[3] / n, sum[4] / n, sum[5] / n);
  report["overall"] = {{"coaligned", {{"abs_rel", sum[0] / n}, {"delta1", sum[1] / n}, {"temporal_ratio", sum[4] / n}}},
                       {"no_coalignment", {{"abs_rel", sum[2] / n}, {"delta1", sum[3] / n}, {"temporal_ratio", sum[5] / n}}},
                       {"videos", samples->size()}};
  if (!absl::GetFlag(FLAGS_json).empty()) std::ofstream(absl::GetFlag(FLAGS_json)) << report.dump(2) << "\n";
  return 0;
}
