// eval: the RollingDepth paper's protocol on videos with known depth. For every video, AbsRel
// and delta1 after one least-squares scale and shift per video, for the co-aligned result and
// for the snippets merged without co-alignment, plus temporal consistency, with two priors
// beside them that see no image: a constant and "lower rows are nearer". Videos come from
// tools/synth (rendered here or read from a folder) or from a real RGB-D sequence (--rgbd).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "core/coalign.h"
#include "core/depth_metrics.h"
#include "core/model/device.h"
#include "core/merge.h"
#include "core/model/model_loader.h"
#include "core/media/depth_image.h"
#include "core/media/npy.h"
#include "core/pipeline.h"
#include "core/pipeline_options.h"
#include "core/media/video_io.h"
#include "tools/synth/synth.h"

ABSL_FLAG(std::string, model, "", "model (default: the embedded model)");
ABSL_FLAG(std::string, videos, "", "folder of videos as tools/synth writes them (rgb.mp4 + depth.npy)");
ABSL_FLAG(std::string, rgbd, "",
          "a real RGB-D sequence: a folder with rgb/ and depth/ holding images of the same names "
          "(depth: 16-bit PNG, metres = value / --depth_scale, 0 = no measurement), e.g. TUM RGB-D");
ABSL_FLAG(double, depth_scale, 5000.0, "with --rgbd: depth PNG units per metre (TUM: 5000)");
ABSL_FLAG(std::string, look, "",
          "videos without depth (a folder, or files separated by commas): instead of scores, what "
          "the prediction looks like (correlation with grey level and with the row, mean and 1-99 "
          "percentile spread of the [0, 1] output, top and bottom rows), to compare models on "
          "footage that has no ground truth");
ABSL_FLAG(std::string, stills_dir, "",
          "write stills here: for --stills frames of every video, <video>_<frame>.png with the frame, "
          "the prediction and (when known) the truth side by side, each coloured over its own 1-99 "
          "percentile range of the video (the service's Spectral_r colours: blue near, red far; no truth: black)");
ABSL_FLAG(int, stills, 3, "with --stills_dir: frames per video, evenly spaced");
ABSL_FLAG(int, max_frames, 0, "with --look or --rgbd: read at most this many frames (0: all)");
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

// A real RGB-D sequence: rgb/NAME and depth/NAME pairs, sorted by name. Depth is resized to the
// processing size by nearest neighbour, so no invalid (0) pixel is blended into a valid one.
absl::StatusOr<Sample> LoadRgbd(const std::filesystem::path& dir, double depth_scale,
                                const VideoReadOptions& read) {
  if (!(depth_scale > 0)) return absl::InvalidArgumentError("--depth_scale must be > 0");
  auto video = ReadVideo((dir / "rgb").string(), read);
  if (!video.ok()) return video.status();
  std::vector<std::filesystem::path> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "rgb")) {
    names.push_back(entry.path().filename());
  }
  std::sort(names.begin(), names.end());
  if (names.size() != static_cast<size_t>(video->num_frames())) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: %d files in rgb/ but %d frames read",
                                                      dir.string(), names.size(), video->num_frames()));
  }
  const cv::Size size(video->width(), video->height());
  std::vector<cv::Mat> depth;
  for (const auto& name : names) {
    const std::string path = (dir / "depth" / name).string();
    const cv::Mat raw = cv::imread(path, cv::IMREAD_UNCHANGED);
    if (raw.empty()) return absl::NotFoundError("cannot read depth image " + path);
    if (raw.type() != CV_16UC1) {
      return absl::InvalidArgumentError(path + ": depth must be a 16-bit single-channel PNG");
    }
    if (raw.cols * video->height() != raw.rows * video->width()) {
      return absl::InvalidArgumentError(path + ": depth and colour differ in aspect ratio");
    }
    cv::Mat metres;
    raw.convertTo(metres, CV_32FC1, 1.0 / depth_scale);
    depth.push_back(ResizeTo(metres, size, Resample::kNearest));
  }
  return Sample{dir.filename().string(), *std::move(video), std::move(depth)};
}

absl::StatusOr<std::vector<Sample>> LoadSamples(const VideoReadOptions& read) {
  std::vector<Sample> samples;
  if (const std::string rgbd = absl::GetFlag(FLAGS_rgbd); !rgbd.empty()) {
    auto sample = LoadRgbd(std::filesystem::path(rgbd).lexically_normal(), absl::GetFlag(FLAGS_depth_scale), read);
    if (!sample.ok()) return sample.status();
    samples.push_back(*std::move(sample));
    return samples;
  }
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

// The priors: predictions that see no image, scored by the same protocol. A constant scores the
// truth's own spread around its mean; "lower rows are nearer" is what a camera looking at a
// ground plane would see.
// A constant has no scale to fit (EvaluateDepth refuses it): the least-squares answer is the
// mean of the valid truth, scored here by the same formulas.
DepthAccuracy ConstantPrior(const std::vector<cv::Mat>& gt) {
  double sum = 0, n = 0;
  for (const cv::Mat& g : gt) {
    for (int64_t i = 0; i < static_cast<int64_t>(g.total()); ++i) {
      const double v = g.ptr<float>()[i];
      if (v > 0 && std::isfinite(v)) sum += v, n += 1;
    }
  }
  DepthAccuracy accuracy;
  accuracy.fit = {0.0, n > 0 ? sum / n : 0.0};
  const double p = std::max(1e-6, accuracy.fit.shift);
  for (const cv::Mat& g : gt) {
    for (int64_t i = 0; i < static_cast<int64_t>(g.total()); ++i) {
      const double v = g.ptr<float>()[i];
      if (!(v > 0 && std::isfinite(v))) continue;
      accuracy.abs_rel += std::fabs(p - v) / v / n;
      accuracy.delta1 += (std::max(p / v, v / p) < 1.25 ? 1.0 : 0.0) / n;
      accuracy.mae += std::fabs(p - v) / n;
    }
  }
  return accuracy;
}

std::vector<cv::Mat> RowPrior(const std::vector<cv::Mat>& like) {
  std::vector<cv::Mat> frames;
  for (const cv::Mat& f : like) {
    cv::Mat prior(f.size(), CV_32FC1);
    for (int y = 0; y < prior.rows; ++y) prior.row(y).setTo(static_cast<float>(prior.rows - y));
    frames.push_back(prior);
  }
  return frames;
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

// Values of the frames (where `mask` is set, if given) at the 1st and 99th percentile.
std::pair<double, double> RobustRange(const std::vector<cv::Mat>& frames, const std::vector<cv::Mat>& masks) {
  std::vector<float> values;
  for (size_t f = 0; f < frames.size(); ++f) {
    for (int y = 0; y < frames[f].rows; ++y) {
      for (int x = 0; x < frames[f].cols; ++x) {
        if (masks.empty() || masks[f].at<uchar>(y, x)) values.push_back(frames[f].at<float>(y, x));
      }
    }
  }
  if (values.empty()) return {0.0, 1.0};
  std::sort(values.begin(), values.end());
  return {values[values.size() / 100], values[values.size() * 99 / 100]};
}

cv::Mat Coloured(const cv::Mat& depth, std::pair<double, double> range, const cv::Mat& mask) {
  cv::Mat unit = (depth - range.first) / std::max(1e-9, range.second - range.first);
  cv::Mat rgb = ColorizeSpectralR(unit);
  if (!mask.empty()) rgb.setTo(cv::Scalar(0, 0, 0), ~mask);
  return rgb;
}

// Stills of a video: frame | prediction | truth (if any), as PNG (written as BGR).
absl::Status WriteStills(const std::string& name, const VideoFrames& video, const std::vector<cv::Mat>& pred,
                         const std::vector<cv::Mat>& truth) {
  const std::string dir = absl::GetFlag(FLAGS_stills_dir);
  if (dir.empty()) return absl::OkStatus();
  std::filesystem::create_directories(dir);
  std::vector<cv::Mat> masks;
  for (const cv::Mat& t : truth) masks.push_back(t > 0);
  const auto pred_range = RobustRange(pred, {});
  const auto truth_range = truth.empty() ? std::make_pair(0.0, 1.0) : RobustRange(truth, masks);
  const int count = std::max(1, absl::GetFlag(FLAGS_stills));
  for (int i = 0; i < count; ++i) {
    const int f = static_cast<int>((static_cast<int64_t>(pred.size()) - 1) * (2 * i + 1) / (2 * count));
    std::vector<cv::Mat> panels = {video.frames[f].size() == pred[f].size()
                                       ? video.frames[f]
                                       : ResizeTo(video.frames[f], pred[f].size(), Resample::kBilinear),
                                   Coloured(pred[f], pred_range, cv::Mat())};
    if (!truth.empty()) panels.push_back(Coloured(truth[f], truth_range, masks[f]));
    cv::Mat row, bgr;
    cv::hconcat(panels, row);
    cv::cvtColor(row, bgr, cv::COLOR_RGB2BGR);
    const std::string path = absl::StrFormat("%s/%s_%03d.png", dir, name, f);
    if (!cv::imwrite(path, bgr)) return absl::InternalError("cannot write " + path);
  }
  return absl::OkStatus();
}

double Correlation(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = static_cast<double>(a.size());
  double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    sa += a[i], sb += b[i], saa += a[i] * a[i], sbb += b[i] * b[i], sab += a[i] * b[i];
  }
  const double va = saa - sa * sa / n, vb = sbb - sb * sb / n;
  return va > 0 && vb > 0 ? (sab - sa * sb / n) / std::sqrt(va * vb) : 0.0;
}

// What the output looks like on a video without depth: the merged, [0, 1]-normalised video
// (0 nearest) against the frames' grey level and rows.
absl::Status Look(DepthModel& model, const PipelineOptions& options, const VideoReadOptions& read,
                  nlohmann::json* report) {
  const std::string where = absl::GetFlag(FLAGS_look);
  std::vector<std::string> files;
  if (std::filesystem::is_directory(where)) {
    for (const auto& entry : std::filesystem::directory_iterator(where)) files.push_back(entry.path().string());
    std::sort(files.begin(), files.end());
  } else {
    files = absl::StrSplit(where, ',', absl::SkipEmpty());
  }
  std::cout << absl::StrFormat("%-36s %6s %8s %8s %7s %7s %7s %7s\n", "video", "frames", "grey_r", "row_r", "mean",
                               "p1-p99", "top", "bottom");
  for (const std::string& file : files) {
    auto video = ReadVideo(file, read);
    if (!video.ok()) return video.status();
    auto depths = PredictSnippetDepths(model, *video, options);
    if (!depths.ok()) return depths.status();
    auto aligned = Coalign(*depths, options.coalign);
    if (!aligned.ok()) return aligned.status();
    auto merged = MergeToFrames(*depths, *aligned);
    if (!merged.ok()) return merged.status();
    std::vector<double> depth, grey, row;
    double top = 0, bottom = 0, top_n = 0, bottom_n = 0;
    for (size_t f = 0; f < merged->size(); ++f) {
      const cv::Mat& d = (*merged)[f];
      cv::Mat g;
      cv::cvtColor(video->frames[f], g, cv::COLOR_RGB2GRAY);
      if (g.size() != d.size()) g = ResizeTo(g, d.size(), Resample::kBilinear);
      for (int y = 0; y < d.rows; ++y) {
        for (int x = 0; x < d.cols; ++x) {
          const double v = d.at<float>(y, x);
          depth.push_back(v);
          grey.push_back(g.at<uchar>(y, x));
          row.push_back(-y);  // up the frame
          if (y < d.rows / 5) top += v, ++top_n;
          if (y >= d.rows - d.rows / 5) bottom += v, ++bottom_n;
        }
      }
    }
    std::vector<double> sorted = depth;
    std::sort(sorted.begin(), sorted.end());
    const double p1 = sorted[sorted.size() / 100], p99 = sorted[sorted.size() * 99 / 100];
    double mean = 0;
    for (double v : depth) mean += v / depth.size();
    const std::string name = std::filesystem::path(file).stem().string();
    const double grey_r = Correlation(depth, grey), row_r = Correlation(depth, row);
    std::cout << absl::StrFormat("%-36s %6d %8.3f %8.3f %7.3f %7.3f %7.3f %7.3f\n", name, video->num_frames(), grey_r,
                                 row_r, mean, p99 - p1, top / top_n, bottom / bottom_n);
    (*report)["videos"].push_back({{"name", name}, {"frames", video->num_frames()}, {"grey_correlation", grey_r},
                                   {"row_correlation", row_r}, {"mean", mean}, {"p1", p1}, {"p99", p99},
                                   {"top_fifth_mean", top / top_n}, {"bottom_fifth_mean", bottom / bottom_n}});
    if (const std::string dir = absl::GetFlag(FLAGS_save_dir); !dir.empty()) {
      std::filesystem::create_directories(dir);
      if (absl::Status saved = SaveFrames(dir + "/" + name + "_pred.npy", *merged); !saved.ok()) return saved;
    }
    if (absl::Status s = WriteStills(name, *video, *merged, {}); !s.ok()) return s;
  }
  return absl::OkStatus();
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
  read.frame_count = absl::GetFlag(FLAGS_max_frames);
  if (!absl::GetFlag(FLAGS_look).empty()) {
    nlohmann::json report = {{"model", DescribeModel(**model).contract.name}, {"preset", options->preset},
                             {"processing_res", options->processing_res}};
    if (absl::Status s = Look(**model, *options, read, &report); !s.ok()) {
      std::cerr << "eval: " << s << "\n";
      return 1;
    }
    if (!absl::GetFlag(FLAGS_json).empty()) std::ofstream(absl::GetFlag(FLAGS_json)) << report.dump(2) << "\n";
    return 0;
  }
  auto samples = LoadSamples(read);
  if (!samples.ok()) {
    std::cerr << "eval: " << samples.status() << "\n";
    return 1;
  }
  nlohmann::json report = {{"model", DescribeModel(**model).contract.name},
                           {"preset", options->preset},
                           {"processing_res", options->processing_res},
                           {"solver", CoalignSolverName(options->coalign.solver)}};
  std::cout << absl::StrFormat("%-16s %6s %7s %7s %8s %10s %7s %8s %8s %9s %7s %9s %7s\n", "video", "frames",
                               "AbsRel", "delta1", "scale", "AbsRel_raw", "d1_raw", "temporal", "temp_raw",
                               "const_AR", "const_d1", "row_AR", "row_d1");
  // Per video: co-aligned AbsRel, delta1; without co-alignment AbsRel, delta1; temporal ratio
  // of both; the constant's and the row prior's AbsRel, delta1.
  constexpr int kValues = 10;
  double sum[kValues] = {0};
  int positive_scale = 0;
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
    if (!merged.ok() || !raw.ok()) {
      std::cerr << "eval: " << sample.name << ": " << (!merged.ok() ? merged.status() : raw.status()) << "\n";
      return 1;
    }
    auto a = EvaluateDepth(*merged, sample.depth);
    auto b = EvaluateDepth(*raw, sample.depth);
    const DepthAccuracy c = ConstantPrior(sample.depth);
    auto r = EvaluateDepth(RowPrior(sample.depth), sample.depth);
    for (const absl::StatusOr<DepthAccuracy>* result : {&a, &b, &r}) {
      if (!result->ok()) {
        std::cerr << "eval: " << sample.name << ": " << result->status() << "\n";
        return 1;
      }
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
    if (absl::Status stills = WriteStills(sample.name, sample.video, *merged, sample.depth); !stills.ok()) {
      std::cerr << "eval: " << stills << "\n";
      return 1;
    }
    const double ta = TemporalRatio(*merged, a->fit, sample.depth), tb = TemporalRatio(*raw, b->fit, sample.depth);
    // The fit's scale is held at >= 0: 0 means the prediction runs against the truth.
    if (a->fit.scale > 0) ++positive_scale;
    std::cout << absl::StrFormat("%-16s %6d %7.4f %7.4f %8.3g %10.4f %7.4f %8.3f %8.3f %9.4f %7.4f %9.4f %7.4f\n",
                                 sample.name, sample.video.num_frames(), a->abs_rel, a->delta1, a->fit.scale,
                                 b->abs_rel, b->delta1, ta, tb, c.abs_rel, c.delta1, r->abs_rel, r->delta1);
    report["videos"].push_back(
        {{"name", sample.name},
         {"frames", sample.video.num_frames()},
         {"coaligned",
          {{"abs_rel", a->abs_rel}, {"delta1", a->delta1}, {"temporal_ratio", ta}, {"scale", a->fit.scale}}},
         {"no_coalignment",
          {{"abs_rel", b->abs_rel}, {"delta1", b->delta1}, {"temporal_ratio", tb}, {"scale", b->fit.scale}}},
         {"constant_prior", {{"abs_rel", c.abs_rel}, {"delta1", c.delta1}}},
         {"row_prior", {{"abs_rel", r->abs_rel}, {"delta1", r->delta1}}},
         {"coalign_iterations", aligned->iterations}});
    const double values[kValues] = {a->abs_rel, a->delta1, b->abs_rel, b->delta1, ta,
                                    tb,         c.abs_rel, c.delta1, r->abs_rel, r->delta1};
    for (int i = 0; i < kValues; ++i) sum[i] += values[i];
  }
  const double n = samples->size();
  double mean[kValues];
  for (int i = 0; i < kValues; ++i) mean[i] = sum[i] / n;
  std::cout << absl::StrFormat("%-16s %6s %7.4f %7.4f %8s %10.4f %7.4f %8.3f %8.3f %9.4f %7.4f %9.4f %7.4f\n",
                               "overall", "", mean[0], mean[1], absl::StrFormat("%d/%d>0", positive_scale,
                               samples->size()), mean[2], mean[3], mean[4], mean[5], mean[6], mean[7], mean[8],
                               mean[9]);
  report["overall"] = {
      {"coaligned", {{"abs_rel", mean[0]}, {"delta1", mean[1]}, {"temporal_ratio", mean[4]}}},
      {"no_coalignment", {{"abs_rel", mean[2]}, {"delta1", mean[3]}, {"temporal_ratio", mean[5]}}},
      {"constant_prior", {{"abs_rel", mean[6]}, {"delta1", mean[7]}}},
      {"row_prior", {{"abs_rel", mean[8]}, {"delta1", mean[9]}}},
      {"videos_with_positive_scale", positive_scale},
      {"videos", samples->size()}};
  if (!absl::GetFlag(FLAGS_json).empty()) std::ofstream(absl::GetFlag(FLAGS_json)) << report.dump(2) << "\n";
  return 0;
}
