// bench_coalign: co-alignment solvers side by side on realistic snippet sets.
//
//  (a) synthetic: a depth video rendered by tools/synth, every snippet distorted by a random
//      scale and shift plus noise; the truth is known, so AbsRel against it is reported.
//  (b) real predictions: the embedded model's snippets on a rendered video and on real videos.
//
// For every case and solver: median wall time over --runs, iterations, the reference objective
// at the result, the merged depth's MAE against the `reference` solver's, AbsRel against the
// truth (when known), and for `fast` the MAE between its result and a 100x tighter tolerance.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/coalign.h"
#include "core/coalign_window.h"
#include "core/media/depth_image.h"
#include "core/depth_metrics.h"
#include "core/depth_normalizer.h"
#include "core/video_session.h"
#include "core/model/device.h"
#include "core/merge.h"
#include "core/model/model_loader.h"
#include "core/pipeline.h"
#include "core/pipeline_options.h"
#include "core/media/video_io.h"
#include "tools/synth/distorted_snippets.h"
#include "tools/synth/synth.h"

ABSL_FLAG(int, frames, 100, "frames of the synthetic case");
ABSL_FLAG(int, width, 768, "processing width of the synthetic case");
ABSL_FLAG(int, height, 432, "processing height of the synthetic case");
ABSL_FLAG(int, long_frames, 1000, "frames of the long synthetic case (fast only); 0 skips it");
ABSL_FLAG(std::string, dilation_sets, "1,25;1,10,25", "dilation sets, ';'-separated");
ABSL_FLAG(std::string, solvers, "reference,early_stop,fast",
          "solvers to run in case (a) (without reference there is no speed-up or MAE against it)");
ABSL_FLAG(int, runs, 5, "timed runs per solver (median reported)");
ABSL_FLAG(int, reference_runs, 5, "timed runs of the reference solver (it is slow)");
ABSL_FLAG(double, scale_sigma, 0.3, "log-normal sigma of the per-snippet scale");
ABSL_FLAG(double, shift_sigma, 0.3, "sigma of the per-snippet shift");
ABSL_FLAG(double, noise_sigma, 0.01, "per-pixel noise");
ABSL_FLAG(uint64_t, seed, 100123, "synth seed (held-out range) and distortion seed");
ABSL_FLAG(int, threads, 2, "LibTorch intra-op threads");
ABSL_FLAG(bool, model_cases, true, "also run case (b) with the embedded model");
ABSL_FLAG(std::string, videos, "../shared/videos", "folder of real videos for case (b), if present");
ABSL_FLAG(int, model_res, 384, "processing resolution of case (b)");
ABSL_FLAG(std::string, windows, "0,10,25,50,100",
          "windowed scope: window lengths to run beside the global fast solve (empty skips it)");
ABSL_FLAG(int, solve_every, 10, "windowed scope: frames between solves");
ABSL_FLAG(std::string, live_dilations, "1,7",
          "model cases: the dilations of a live job (depthd's default latency of 15 frames gives "
          "1,7), co-aligned as live jobs are (window 0, a solve every frame); empty skips it");
ABSL_FLAG(std::string, json, "", "write the results as JSON here");
ABSL_FLAG(std::string, svg, "", "write a speed-against-quality chart (SVG) here");

namespace depthd {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::vector<int>> ParseDilationSets(const std::string& text) {
  std::vector<std::vector<int>> sets;
  for (absl::string_view set : absl::StrSplit(text, ';', absl::SkipEmpty())) {
    std::vector<int> dilations;
    for (absl::string_view d : absl::StrSplit(set, ',', absl::SkipEmpty())) {
      dilations.push_back(std::stoi(std::string(d)));
    }
    sets.push_back(dilations);
  }
  return sets;
}

// Peak resident memory in bytes, and a way to reset it (Linux clear_refs "5").
int64_t PeakRssBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return -1;
}
int64_t RssBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return -1;
}
void ResetPeakRss() { std::ofstream("/proc/self/clear_refs") << "5"; }

struct Case {
  std::string name;
  std::vector<int> dilations;
  SnippetDepths depths;
  std::vector<cv::Mat> truth;  // metres, 0 = unknown; empty when there is none
};

struct SolverRow {
  std::string solver;
  double median_seconds = 0;
  int iterations = 0;
  bool converged = false;
  double objective = 0;
  std::optional<double> mae_vs_reference;
  std::optional<double> abs_rel;
  std::optional<double> mae_vs_truth;  // on the truth scaled to [0, 1] (the figure)
  std::optional<double> tight_tolerance_mae;
};

double FarthestDepth(const std::vector<cv::Mat>& depth) {
  double far = 0;
  for (const cv::Mat& d : depth) {
    double lo, hi;
    cv::minMaxLoc(d, &lo, &hi);
    far = std::max(far, hi);
  }
  return far;
}

double MeanAbsDiff(const std::vector<cv::Mat>& a, const std::vector<cv::Mat>& b) {
  double sum = 0;
  int64_t n = 0;
  for (size_t f = 0; f < a.size(); ++f) {
    sum += cv::norm(a[f], b[f], cv::NORM_L1);
    n += a[f].total();
  }
  return sum / n;
}

SolverRow RunSolver(const Case& c, CoalignSolver solver, int runs,
                    const std::vector<cv::Mat>* reference_merge,
                    std::vector<cv::Mat>* merged_out) {
  SolverRow row;
  row.solver = CoalignSolverName(solver);
  CoalignOptions options;
  options.solver = solver;
  std::vector<double> times;
  CoalignResult result;
  for (int r = 0; r < runs; ++r) {
    const auto start = Clock::now();
    auto solved = Coalign(c.depths, options);
    times.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    if (!solved.ok()) {
      std::cerr << "bench_coalign: " << solved.status() << "\n";
      std::exit(1);
    }
    result = *solved;
  }
  std::sort(times.begin(), times.end());
  row.median_seconds = times[times.size() / 2];
  row.iterations = result.iterations;
  row.converged = result.converged;
  row.objective = result.final_loss;
  auto merged = MergeToFrames(c.depths, result);
  if (!merged.ok()) std::exit(1);
  if (reference_merge) row.mae_vs_reference = MeanAbsDiff(*merged, *reference_merge);
  if (!c.truth.empty()) {
    auto accuracy = EvaluateDepth(*merged, c.truth);
    const double far = FarthestDepth(c.truth);
    if (accuracy.ok()) {
      row.abs_rel = accuracy->abs_rel;
      // The fit is affine, so dividing the truth by `far` divides the aligned MAE by it.
      if (far > 0) row.mae_vs_truth = accuracy->mae / far;
    }
  }
  if (solver == CoalignSolver::kFast) {
    CoalignOptions tight = options;
    tight.tolerance = options.tolerance / 100.0;
    auto tight_result = Coalign(c.depths, tight);
    if (tight_result.ok()) {
      row.tight_tolerance_mae = MeanAbsDiff(*merged, *MergeToFrames(c.depths, *tight_result));
    }
  }
  if (merged_out) *merged_out = std::move(*merged);
  return row;
}

std::string Opt(const std::optional<double>& v, const char* fmt = "%.4f") {
  return v ? absl::StrFormat(fmt, *v) : std::string("-");
}

// The windowed scope beside the global fast solve: per window length, the time of
// co-alignment and merge, the merged depth's MAE against the global one after one affine fit,
// and, with a truth, its error against the truth relative to the global solve's.
nlohmann::json RunWindowed(const Case& c, const std::vector<int>& windows, int solve_every,
                           std::vector<std::string>* table) {
  nlohmann::json rows = nlohmann::json::array();
  auto start = Clock::now();
  auto global = Coalign(c.depths, {});
  if (!global.ok()) std::exit(1);
  auto global_merged = MergeToFrames(c.depths, *global);
  const double global_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::optional<double> global_error;
  const double far = c.truth.empty() ? 0.0 : FarthestDepth(c.truth);
  if (far > 0) {
    auto accuracy = EvaluateDepth(*global_merged, c.truth);
    if (accuracy.ok()) global_error = accuracy->mae / far;
  }
  table->push_back(absl::StrFormat("%-40s %-8s %10.3f %10s %10s %10s", c.name, "global",
                                   global_seconds, "-", Opt(global_error), "1.000"));
  for (int w : windows) {
    WindowOptions options;
    options.window = w;
    options.solve_every = solve_every;
    std::vector<cv::Mat> aligned;
    WindowStats stats;
    start = Clock::now();
    absl::Status status = CoalignWindowedOffline(c.depths, options, [&](int, const cv::Mat& frame) {
      aligned.push_back(frame.clone());
      return absl::OkStatus();
    }, &stats);
    if (!status.ok()) {
      std::cerr << "bench_coalign: windowed: " << status << "\n";
      std::exit(1);
    }
    double lo = 1e30, hi = -1e30;
    for (const cv::Mat& f : aligned) {
      double a, b;
      cv::minMaxLoc(f, &a, &b);
      lo = std::min(lo, a);
      hi = std::max(hi, b);
    }
    for (cv::Mat& f : aligned) NormalizeDepth(lo, hi, &f);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    const double mae_vs_global = synth::AlignedMae(aligned, *global_merged);
    std::optional<double> error, ratio;
    if (far > 0) {
      auto accuracy = EvaluateDepth(aligned, c.truth);
      if (accuracy.ok()) error = accuracy->mae / far;
      if (error && global_error && *global_error > 0) ratio = *error / *global_error;
    }
    table->push_back(absl::StrFormat("%-40s %-8s %10.3f %10.5f %10s %10s", c.name,
                                     absl::StrCat("w=", w), seconds, mae_vs_global, Opt(error),
                                     Opt(ratio, "%.3f")));
    nlohmann::json row = {{"window", w},
                          {"solve_every", solve_every},
                          {"seconds", seconds},
                          {"solves", stats.solves},
                          {"iterations", stats.iterations},
                          {"mae_vs_global", mae_vs_global}};
    if (error) row["mae_vs_truth"] = *error;
    if (ratio) row["error_ratio_to_global"] = *ratio;
    rows.push_back(row);
  }
  nlohmann::json out = {{"name", c.name},
                        {"frames", c.depths.num_frames()},
                        {"dilations", c.dilations},
                        {"global_seconds", global_seconds},
                        {"windowed", rows}};
  if (global_error) out["global_mae_vs_truth"] = *global_error;
  return out;
}

// Per-frame median of [0, 1] depth, and the steps between consecutive frames' medians split by
// whether the frame opened a batch (the first frame a solve let out) or not.
struct StepStats {
  double at_batch_starts = 0.0, elsewhere = 0.0;  // mean |median(f) - median(f - 1)|
  int batch_starts = 0, others = 0;
};

double MedianOf(const cv::Mat& depth) {
  std::vector<float> v(depth.begin<float>(), depth.end<float>());
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

StepStats Steps(const std::vector<double>& medians, const std::vector<bool>& batch_start) {
  StepStats out;
  for (size_t f = 1; f < medians.size(); ++f) {
    const double step = std::abs(medians[f] - medians[f - 1]);
    if (batch_start[f]) {
      out.at_batch_starts += step;
      ++out.batch_starts;
    } else {
      out.elsewhere += step;
      ++out.others;
    }
  }
  if (out.batch_starts > 0) out.at_batch_starts /= out.batch_starts;
  if (out.others > 0) out.elsewhere /= out.others;
  return out;
}

// The windowed co-alignment of `c` with `options`, each frame through RUNNING normalisation as it
// leaves: the frames ([0, 1]) and which of them opened a batch.
struct WindowedRun {
  std::vector<cv::Mat> running;  // RUNNING-normalised frames
  std::vector<cv::Mat> aligned;  // aligned units (min-max normalised afterwards for quality)
  std::vector<bool> batch_start;
};

WindowedRun RunWindowedRunning(const Case& c, const WindowOptions& options) {
  WindowedRun run;
  auto normalizer = DepthNormalizer::Create(Normalization::kRunning, "");
  if (!normalizer.ok()) std::exit(1);
  int position = -1, emitted_at = -2;  // the stream's newest frame; where the last frame left
  const SnippetPlan& plan = c.depths.plan();
  absl::Status status = CoalignWindowedStream(
      plan, c.depths.height(), c.depths.width(), options,
      [&](int group, int index) -> absl::StatusOr<const float*> {
        position = plan.groups[group].snippets[index].back();
        return c.depths.Slot(group, index, 0);
      },
      [&](int index, const cv::Mat& frame) -> absl::Status {
        run.batch_start.push_back(position != emitted_at);
        emitted_at = position;
        run.aligned.push_back(frame.clone());
        return (*normalizer)->Add(index, frame, [&](int, const cv::Mat& out) {
          run.running.push_back(out.clone());
          return absl::OkStatus();
        });
      });
  if (!status.ok()) {
    std::cerr << "bench_coalign: windowed: " << status << "\n";
    std::exit(1);
  }
  double lo = 1e30, hi = -1e30;
  for (const cv::Mat& f : run.aligned) {
    double a, b;
    cv::minMaxLoc(f, &a, &b);
    lo = std::min(lo, a);
    hi = std::max(hi, b);
  }
  for (cv::Mat& f : run.aligned) NormalizeDepth(lo, hi, &f);
  return run;
}

// A live job against the file job on the same video: the live plan (`live`: its own dilations'
// predictions, window 0, a solve per frame) against the global fast solve of `file`, and the
// RUNNING range's steps at batch starts against elsewhere for both the live run and the file
// job's windowed defaults, beside the GLOBAL-normalised video's own steps at the same frames.
nlohmann::json RunLive(const Case& file, const Case& live, int window, int solve_every,
                       std::vector<std::string>* table) {
  auto global = Coalign(file.depths, {});
  if (!global.ok()) std::exit(1);
  auto global_merged = MergeToFrames(file.depths, *global);
  std::vector<double> global_medians;
  for (const cv::Mat& f : *global_merged) global_medians.push_back(MedianOf(f));
  const double far = file.truth.empty() ? 0.0 : FarthestDepth(file.truth);
  std::optional<double> global_error;
  if (far > 0) {
    auto accuracy = EvaluateDepth(*global_merged, file.truth);
    if (accuracy.ok()) global_error = accuracy->mae / far;
  }
  nlohmann::json out = {{"name", file.name}};
  auto one = [&](const char* label, const Case& c, int w, int every) {
    WindowOptions options;
    options.window = w;
    options.solve_every = every;
    const WindowedRun run = RunWindowedRunning(c, options);
    std::vector<double> medians;
    for (const cv::Mat& f : run.running) medians.push_back(MedianOf(f));
    const StepStats running = Steps(medians, run.batch_start);
    const StepStats natural = Steps(global_medians, run.batch_start);
    const double mae_vs_global = synth::AlignedMae(run.aligned, *global_merged);
    std::optional<double> error, ratio;
    if (far > 0) {
      auto accuracy = EvaluateDepth(run.aligned, c.truth);
      if (accuracy.ok()) error = accuracy->mae / far;
      if (error && global_error && *global_error > 0) ratio = *error / *global_error;
    }
    table->push_back(absl::StrFormat(
        "%-32s %-22s %10.5f %9s %9s  %8.5f %8.5f  %8.5f %8.5f", file.name,
        absl::StrFormat("%s [%s] w=%d/%d", label, absl::StrJoin(c.dilations, ","), w, every),
        mae_vs_global, Opt(error), Opt(ratio, "%.3f"), running.at_batch_starts, running.elsewhere,
        natural.at_batch_starts, natural.elsewhere));
    nlohmann::json row = {{"dilations", c.dilations},
                          {"window", w},
                          {"solve_every", every},
                          {"mae_vs_file_global", mae_vs_global},
                          {"running_step_at_batch_starts", running.at_batch_starts},
                          {"running_step_elsewhere", running.elsewhere},
                          {"global_step_at_batch_starts", natural.at_batch_starts},
                          {"global_step_elsewhere", natural.elsewhere},
                          {"batch_starts", running.batch_starts}};
    if (error) row["mae_vs_truth"] = *error;
    if (ratio) row["error_ratio_to_file_global"] = *ratio;
    out[label] = row;
  };
  one("file", file, window, solve_every);
  one("live", live, 0, 1);
  if (global_error) out["file_global_mae_vs_truth"] = *global_error;
  return out;
}

// Speed against quality: one point per solver and synthetic case, seconds on a log axis,
// AbsRel against the truth on the other. Written by hand so no plotting package is needed.
std::string SpeedQualitySvg(const nlohmann::json& report) {
  struct Point {
    double seconds, abs_rel;
    std::string solver, label;
  };
  std::vector<Point> points;
  for (const auto& c : report["cases"]) {
    for (const auto& row : c["solvers"]) {
      if (!row.contains("abs_rel")) continue;
      points.push_back({row["median_seconds"].get<double>(), row["abs_rel"].get<double>(),
                        row["solver"].get<std::string>(), c["name"].get<std::string>()});
    }
  }
  if (points.empty()) return "";
  double lo_t = 1e9, hi_t = 0, lo_q = 1e9, hi_q = 0;
  for (const Point& p : points) {
    lo_t = std::min(lo_t, p.seconds); hi_t = std::max(hi_t, p.seconds);
    lo_q = std::min(lo_q, p.abs_rel); hi_q = std::max(hi_q, p.abs_rel);
  }
  lo_t = std::log10(lo_t) - 0.3; hi_t = std::log10(hi_t) + 0.3;
  const double pad = std::max(1e-4, 0.15 * (hi_q - lo_q));
  lo_q -= pad; hi_q += pad;
  const int W = 720, H = 440, L = 80, R = 200, T = 40, B = 60;
  auto x = [&](double s) { return L + (std::log10(s) - lo_t) / (hi_t - lo_t) * (W - L - R); };
  auto y = [&](double q) { return T + (hi_q - q) / (hi_q - lo_q) * (H - T - B); };
  const std::map<std::string, std::string> colour = {{"reference", "#d62728"}, {"early_stop", "#ff7f0e"}, {"fast", "#2ca02c"}};
  std::string svg = absl::StrFormat(
      "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' font-family='sans-serif' font-size='12'>\n"
      "<rect width='100%%' height='100%%' fill='white'/>\n"
      "<text x='%d' y='22' font-size='15'>Co-alignment: time against error (AbsRel vs truth), median of runs</text>\n"
      "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='black'/><line x1='%d' y1='%d' x2='%d' y2='%d' stroke='black'/>\n",
      W, H, L, L, H - B, W - R, H - B, L, T, L, H - B);
  for (int e = static_cast<int>(std::ceil(lo_t)); e <= static_cast<int>(std::floor(hi_t)); ++e) {
    const double px = x(std::pow(10.0, e));
    svg += absl::StrFormat("<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' stroke='#ddd'/><text x='%.1f' y='%d' text-anchor='middle'>%g s</text>\n",
                           px, T, px, H - B, px, H - B + 18, std::pow(10.0, e));
  }
  for (int i = 0; i <= 4; ++i) {
    const double q = lo_q + (hi_q - lo_q) * i / 4;
    svg += absl::StrFormat("<text x='%d' y='%.1f' text-anchor='end'>%.4f</text>\n", L - 6, y(q) + 4, q);
  }
  svg += absl::StrFormat("<text x='%d' y='%d' text-anchor='middle'>wall time (log scale)</text>\n", (L + W - R) / 2, H - 18);
  svg += absl::StrFormat("<text x='18' y='%d' transform='rotate(-90 18 %d)' text-anchor='middle'>AbsRel vs truth</text>\n", (T + H - B) / 2, (T + H - B) / 2);
  int legend = 0;
  for (const auto& [solver, c] : colour) {
    svg += absl::StrFormat("<circle cx='%d' cy='%d' r='6' fill='%s'/><text x='%d' y='%d'>%s</text>\n", W - R + 20,
                           T + 20 + 22 * legend, c, W - R + 32, T + 24 + 22 * legend, solver);
    ++legend;
  }
  for (const Point& p : points) {
    const auto it = colour.find(p.solver);
    svg += absl::StrFormat("<circle cx='%.1f' cy='%.1f' r='6' fill='%s' fill-opacity='0.8'><title>%s %s: %.3f s, AbsRel %.4f</title></circle>\n",
                           x(p.seconds), y(p.abs_rel), it == colour.end() ? "#777" : it->second, p.label, p.solver,
                           p.seconds, p.abs_rel);
  }
  return svg + "</svg>\n";
}


}  // namespace
}  // namespace depthd

int main(int argc, char** argv) {
  using namespace depthd;
  absl::SetProgramUsageMessage("Benchmarks the co-alignment solvers (reference, early_stop, fast).");
  absl::ParseCommandLine(argc, argv);
  SetTorchThreads(absl::GetFlag(FLAGS_threads));

  const int frames = absl::GetFlag(FLAGS_frames);
  const int width = absl::GetFlag(FLAGS_width), height = absl::GetFlag(FLAGS_height);
  synth::Distortion distortion;
  distortion.log_scale_sigma = absl::GetFlag(FLAGS_scale_sigma);
  distortion.shift_sigma = absl::GetFlag(FLAGS_shift_sigma);
  distortion.noise_sigma = absl::GetFlag(FLAGS_noise_sigma);
  distortion.seed = absl::GetFlag(FLAGS_seed);

  // The synthetic depth video: metric depth, sky (0) set to the farthest valid depth before
  // normalising to [0, 1] so the distorted snippets stay finite.
  auto render = [&](int n) {
    synth::SceneOptions scene;
    scene.seed = absl::GetFlag(FLAGS_seed);
    scene.width = width;
    scene.height = height;
    scene.num_frames = n;
    auto video = synth::RenderVideo(scene);
    if (!video.ok()) {
      std::cerr << "bench_coalign: " << video.status() << "\n";
      std::exit(1);
    }
    return std::move(*video);
  };
  auto normalised = [](const std::vector<cv::Mat>& depth) {
    const double far = FarthestDepth(depth);
    std::vector<cv::Mat> out;
    for (const cv::Mat& d : depth) {
      cv::Mat n = d.clone();
      n.setTo(far, d <= 0);
      out.push_back(n / far);
    }
    return out;
  };

  nlohmann::json report;
  report["machine"] = {{"threads", absl::GetFlag(FLAGS_threads)},
                       {"hardware_concurrency", std::thread::hardware_concurrency()}};
  report["distortion"] = {{"scale_sigma", distortion.log_scale_sigma},
                          {"shift_sigma", distortion.shift_sigma},
                          {"noise_sigma", distortion.noise_sigma}};
  std::vector<std::string> table;
  table.push_back(absl::StrFormat("%-34s %-11s %10s %8s %6s %11s %10s %8s %9s %10s %9s", "case",
                                  "solver", "median_s", "iters", "conv", "objective", "mae_vs_ref",
                                  "absrel", "mae_truth", "tight_mae", "speedup"));

  std::vector<int> windows;
  for (absl::string_view w : absl::StrSplit(absl::GetFlag(FLAGS_windows), ',', absl::SkipEmpty())) {
    windows.push_back(std::stoi(std::string(w)));
  }
  std::vector<std::string> live_table = {absl::StrFormat(
      "%-32s %-22s %10s %9s %9s  %8s %8s  %8s %8s", "case", "job", "mae_vs_glb", "mae_truth",
      "vs_global", "run@bat", "run@else", "glb@bat", "glb@else")};
  std::vector<std::string> windowed_table;
  windowed_table.push_back(absl::StrFormat("%-40s %-8s %10s %10s %10s %10s", "case", "scope",
                                           "coal+merge", "mae_vs_glb", "mae_truth", "vs_global"));
  auto run_windowed = [&](const Case& c) {
    if (windows.empty()) return;
    report["windowed"].push_back(RunWindowed(c, windows, absl::GetFlag(FLAGS_solve_every), &windowed_table));
    std::cout << windowed_table.back() << std::endl;
  };

  auto run_case = [&](const Case& c, bool with_reference, int runs) {
    nlohmann::json rows = nlohmann::json::array();
    std::vector<cv::Mat> reference_merge;
    std::optional<SolverRow> reference;
    const std::vector<std::string> wanted = absl::StrSplit(absl::GetFlag(FLAGS_solvers), ',');
    auto want = [&](const std::string& name) {
      return std::find(wanted.begin(), wanted.end(), name) != wanted.end();
    };
    if (with_reference && want("reference")) {
      reference = RunSolver(c, CoalignSolver::kReference, absl::GetFlag(FLAGS_reference_runs),
                            nullptr, &reference_merge);
    }
    std::vector<SolverRow> results;
    if (reference) results.push_back(*reference);
    for (CoalignSolver solver : {CoalignSolver::kEarlyStop, CoalignSolver::kFast}) {
      if (solver == CoalignSolver::kEarlyStop && (!with_reference || !want("early_stop"))) continue;
      if (solver == CoalignSolver::kFast && with_reference && !want("fast")) continue;
      results.push_back(RunSolver(c, solver, runs, reference ? &reference_merge : nullptr,
                                  nullptr));
    }
    for (const SolverRow& row : results) {
      std::optional<double> speedup;
      if (reference) speedup = reference->median_seconds / row.median_seconds;
      table.push_back(absl::StrFormat(
          "%-34s %-11s %10.4f %8d %6s %11.6f %10s %8s %9s %10s %9s", c.name, row.solver,
          row.median_seconds, row.iterations, row.converged ? "yes" : "no", row.objective,
          Opt(row.mae_vs_reference), Opt(row.abs_rel), Opt(row.mae_vs_truth),
          Opt(row.tight_tolerance_mae, "%.5f"),
          speedup ? absl::StrFormat("%.1fx", *speedup) : "-"));
      nlohmann::json j = {{"solver", row.solver},
                          {"median_seconds", row.median_seconds},
                          {"iterations", row.iterations},
                          {"converged", row.converged},
                          {"objective", row.objective}};
      if (row.mae_vs_reference) j["mae_vs_reference"] = *row.mae_vs_reference;
      if (row.abs_rel) j["abs_rel"] = *row.abs_rel;
      if (row.mae_vs_truth) j["mae_vs_truth"] = *row.mae_vs_truth;
      if (row.tight_tolerance_mae) j["tight_tolerance_mae"] = *row.tight_tolerance_mae;
      if (speedup) j["speedup_vs_reference"] = *speedup;
      rows.push_back(j);
    }
    report["cases"].push_back({{"name", c.name},
                               {"frames", c.depths.num_frames()},
                               {"width", c.depths.width()},
                               {"height", c.depths.height()},
                               {"dilations", c.dilations},
                               {"snippets", c.depths.plan().TotalSnippets()},
                               {"solvers", rows}});
    std::cout << table.back() << std::endl;
  };

  // (a) synthetic, 100 frames, each dilation set, all solvers.
  const synth::RenderedVideo video = render(frames);
  const std::vector<cv::Mat> truth_norm = normalised(video.depth);
  std::map<std::string, double> fast_seconds;
  for (const std::vector<int>& dilations : ParseDilationSets(absl::GetFlag(FLAGS_dilation_sets))) {
    SnippetPlanOptions plan_options;
    plan_options.dilations = dilations;
    auto plan = PlanSnippets(frames, plan_options);
    if (!plan.ok()) {
      std::cerr << plan.status() << "\n";
      return 1;
    }
    Case c{absl::StrFormat("synthetic %df %dx%d [%s]", frames, width, height,
                           absl::StrJoin(dilations, ",")),
           dilations, synth::DistortedSnippets(truth_norm, *plan, distortion), video.depth};
    run_case(c, /*with_reference=*/true, absl::GetFlag(FLAGS_runs));
    run_windowed(c);
  }

  // (a') long synthetic: fast only, with time and peak memory.
  const int long_frames = absl::GetFlag(FLAGS_long_frames);
  // The truth stays for the windowed comparison; each set's baseline is taken with it resident.
  const synth::RenderedVideo long_video =
      long_frames > 0 ? render(long_frames) : synth::RenderedVideo{};
  for (const std::vector<int>& long_dilations :
       long_frames > 0 ? ParseDilationSets(absl::GetFlag(FLAGS_dilation_sets))
                       : std::vector<std::vector<int>>{}) {
    const int64_t baseline = RssBytes();
    SnippetPlanOptions plan_options;
    plan_options.dilations = long_dilations;
    auto plan = PlanSnippets(long_frames, plan_options);
    SnippetDepths long_depths = [&] {
      const std::vector<cv::Mat> long_truth = normalised(long_video.depth);
      return synth::DistortedSnippets(long_truth, *plan, distortion);
    }();
    const int64_t before = RssBytes();
    ResetPeakRss();
    const auto start = Clock::now();
    auto result = Coalign(long_depths, {});
    const double coalign_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (!result.ok()) {
      std::cerr << "bench_coalign: " << result.status() << "\n";
      return 1;
    }
    int64_t merged_frames = 0;
    auto status = MergeAndNormalize(long_depths, *result, [&](int, const cv::Mat&) {
      ++merged_frames;
      return absl::OkStatus();
    });
    const double total_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    const int64_t peak = PeakRssBytes();
    const double predictions = static_cast<double>(long_depths.bytes());
    const double ratio = (peak - baseline) / predictions;
    // Converged for real at this length too: the merged depth with a 100x tighter tolerance.
    double tight_mae = 0.0;
    {
      CoalignOptions tight;
      tight.tolerance /= 100.0;
      auto tight_result = Coalign(long_depths, tight);
      if (!tight_result.ok()) {
        std::cerr << "bench_coalign: " << tight_result.status() << "\n";
        return 1;
      }
      auto merged = MergeToFrames(long_depths, *result);
      auto tight_merged = MergeToFrames(long_depths, *tight_result);
      if (!merged.ok() || !tight_merged.ok()) {
        std::cerr << "bench_coalign: the long case's merge failed\n";
        return 1;
      }
      tight_mae = MeanAbsDiff(*merged, *tight_merged);
    }
    std::cout << absl::StrFormat(
                     "long case: %d frames [%s], fast co-alignment %.3f s (%d iterations), "
                     "co-alignment + merge %.3f s; predictions %.2f GB, resident before %.2f GB, "
                     "peak over baseline %.2f GB = %.2fx the predictions; objective %.6f, "
                     "merged depth moves by %.5f MAE with a 100x tighter tolerance",
                     long_frames, absl::StrJoin(plan_options.dilations, ","), coalign_seconds,
                     result->iterations, total_seconds, predictions / 1e9, before / 1e9,
                     (peak - baseline) / 1e9, ratio, result->final_loss, tight_mae)
              << std::endl;
    report["long_cases"].push_back({{"frames", long_frames},
                           {"dilations", plan_options.dilations},
                           {"fast_coalign_seconds", coalign_seconds},
                           {"coalign_plus_merge_seconds", total_seconds},
                           {"iterations", result->iterations},
                           {"objective", result->final_loss},
                           {"tight_tolerance_mae", tight_mae},
                           {"prediction_bytes", predictions},
                           {"peak_over_baseline_bytes", peak - baseline},
                           {"peak_ratio_to_predictions", ratio},
                           {"merged_frames", merged_frames}});
    run_windowed(Case{absl::StrFormat("synthetic %df %dx%d [%s]", long_frames, width, height,
                                      absl::StrJoin(long_dilations, ",")),
                      long_dilations, std::move(long_depths), long_video.depth});
  }

  // (b) the embedded model's own snippet predictions.
  if (absl::GetFlag(FLAGS_model_cases)) {
    ModelLoadOptions load;
    load.device = "cpu";
    auto model = LoadDepthModel(load);
    if (!model.ok()) {
      std::cerr << "bench_coalign: skipping model cases: " << model.status() << "\n";
    } else {
      auto options = ResolveOptions("fast", {});
      options->processing_res = absl::GetFlag(FLAGS_model_res);
      struct Input {
        std::string name;
        VideoFrames video;
        std::vector<cv::Mat> truth;
      };
      std::vector<Input> inputs;
      {
        synth::SceneOptions scene;
        scene.seed = absl::GetFlag(FLAGS_seed) + 1;
        scene.num_frames = frames;
        scene.width = options->processing_res;
        scene.height = options->processing_res * 9 / 16;
        auto rendered = synth::RenderVideo(scene);
        VideoFrames v;
        v.frames = rendered->rgb;
        v.original_width = scene.width;
        v.original_height = scene.height;
        inputs.push_back({"model on rendered video", v, rendered->depth});
      }
      const std::filesystem::path videos(absl::GetFlag(FLAGS_videos));
      if (std::filesystem::is_directory(videos)) {
        for (const auto& entry : std::filesystem::directory_iterator(videos)) {
          if (entry.path().extension() != ".mp4") continue;
          VideoReadOptions read;
          read.processing_res = options->processing_res;
          auto v = ReadVideo(entry.path().string(), read);
          if (v.ok()) inputs.push_back({"model on " + entry.path().filename().string(), *v, {}});
        }
      }
      std::vector<int> live_dilations;
      for (absl::string_view d :
           absl::StrSplit(absl::GetFlag(FLAGS_live_dilations), ',', absl::SkipEmpty())) {
        live_dilations.push_back(std::stoi(std::string(d)));
      }
      for (size_t i = 0; i < inputs.size(); ++i) {
        auto depths = PredictSnippetDepths(**model, inputs[i].video, *options);
        if (!depths.ok()) {
          std::cerr << "bench_coalign: " << depths.status() << "\n";
          continue;
        }
        Case c{inputs[i].name, options->snippets.dilations, std::move(*depths), inputs[i].truth};
        run_case(c, /*with_reference=*/true, absl::GetFlag(FLAGS_runs));
        run_windowed(c);
        if (!live_dilations.empty()) {
          PipelineOptions live_options = *options;
          live_options.snippets.dilations = live_dilations;
          live_options.snippets.cap_dilation = false;
          auto live_depths = PredictSnippetDepths(**model, inputs[i].video, live_options);
          if (!live_depths.ok()) {
            std::cerr << "bench_coalign: " << live_depths.status() << "\n";
            continue;
          }
          Case live{inputs[i].name, live_dilations, std::move(*live_depths), inputs[i].truth};
          report["live"].push_back(RunLive(c, live, 50, 10, &live_table));
          std::cout << live_table.back() << std::endl;
        }
      }
    }
  }

  std::cout << "\n";
  for (const std::string& line : table) std::cout << line << "\n";
  std::cout << "\nwindowed co-alignment beside the global fast solve:\n";
  for (const std::string& line : windowed_table) std::cout << line << "\n";
  if (live_table.size() > 1) {
    std::cout << "\nlive jobs against file jobs, and the RUNNING range's steps in per-frame median "
                 "depth (mean |median(f) - median(f-1)|) at the frames that open a batch and "
                 "elsewhere, beside the GLOBAL-normalised file job's steps at the same frames:\n";
    for (const std::string& line : live_table) std::cout << line << "\n";
  }
  if (!absl::GetFlag(FLAGS_svg).empty()) {
    std::ofstream(absl::GetFlag(FLAGS_svg)) << SpeedQualitySvg(report);
    std::cout << "wrote " << absl::GetFlag(FLAGS_svg) << "\n";
  }
  const std::string json_path = absl::GetFlag(FLAGS_json);
  if (!json_path.empty()) {
    std::ofstream(json_path) << report.dump(2) << "\n";
    std::cout << "wrote " << json_path << "\n";
  }
  return 0;
}
