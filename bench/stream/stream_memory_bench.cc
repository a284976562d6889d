// Memory and time of the windowed co-alignment against video length: synthetic snippets (a
// procedural depth video, each snippet under its own scale, shift and noise) are made as the
// stream needs them, so neither a model nor the predictions of the whole video are held. Each
// (length, dilation set) runs in a child process of its own, so its peak RSS is its own.
//
//   build/bench/stream/bench_stream_memory --frames 1000,10000 --json docs/bench/stream_memory.json
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/coalign_window.h"
#include "core/snippet_plan.h"

ABSL_FLAG(std::string, frames, "1000,10000", "video lengths, comma-separated");
ABSL_FLAG(int, width, 768, "processing width");
ABSL_FLAG(int, height, 432, "processing height");
ABSL_FLAG(std::string, dilation_sets, "1,25;1,10,25", "dilation sets, ';'-separated");
ABSL_FLAG(int, window, 50, "co-alignment window (frames)");
ABSL_FLAG(int, solve_every, 10, "frames between solves");
ABSL_FLAG(int, soft_horizon, depthd::WindowOptions{}.soft_horizon,
          "snippets per group the soft constraints average over at most (a huge value: the "
          "whole video so far)");
ABSL_FLAG(std::string, json, "", "write the results as JSON here");
ABSL_FLAG(std::string, child, "", "internal: run one case, 'frames;dilations', print its JSON");

namespace depthd {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

int64_t PeakRssBytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;
}

// A depth video in [0.2, 1]: two moving separable waves and a floor-like ramp, cheap to redraw
// for any frame (an outer product per frame).
class ProceduralDepth {
 public:
  ProceduralDepth(int height, int width) : height_(height), width_(width) {}
  cv::Mat Frame(int t) const {
    cv::Mat col(height_, 1, CV_32F), row(1, width_, CV_32F);
    for (int y = 0; y < height_; ++y) {
      col.at<float>(y) = 0.5f + 0.5f * std::cos(y * 0.021f - t * 0.013f);
    }
    for (int x = 0; x < width_; ++x) {
      row.at<float>(x) = 0.5f + 0.5f * std::sin(x * 0.017f + t * 0.029f);
    }
    cv::Mat depth = col * row;  // height x width
    depth = depth * 0.5 + 0.2;
    for (int y = 0; y < height_; ++y) depth.row(y) += 0.3 * (1.0 - static_cast<double>(y) / height_);
    return depth;
  }

 private:
  const int height_, width_;
};

nlohmann::json RunChild(int frames, const std::vector<int>& dilations) {
  const int height = absl::GetFlag(FLAGS_height), width = absl::GetFlag(FLAGS_width);
  SnippetPlanOptions plan_options;
  plan_options.dilations = dilations;
  auto plan = PlanSnippets(frames, plan_options);
  if (!plan.ok()) {
    std::cerr << plan.status() << "\n";
    std::exit(1);
  }
  const ProceduralDepth truth(height, width);
  const int64_t pixels = static_cast<int64_t>(height) * width;
  // Noise planes are windows into one larger field at random offsets.
  std::mt19937 random(12345);
  cv::Mat noise(height + 64, width + 64, CV_32F);
  cv::randn(noise, 0.0, 0.01);
  std::lognormal_distribution<float> scale(0.0f, 0.3f);
  std::normal_distribution<float> shift(0.0f, 0.3f);
  std::uniform_int_distribution<int> offset(0, 63);
  std::vector<float> buffer;
  Clock::duration making{};
  auto source = [&](int group, int index) -> absl::StatusOr<const float*> {
    const auto start = Clock::now();
    const std::vector<int>& members = plan->groups[group].snippets[index];
    buffer.resize(members.size() * pixels);
    const float s = scale(random), b = shift(random);
    for (size_t j = 0; j < members.size(); ++j) {
      cv::Mat plane(height, width, CV_32F, buffer.data() + j * pixels);
      const cv::Mat n = noise(cv::Rect(offset(random), offset(random), width, height));
      cv::addWeighted(truth.Frame(members[j]), s, n, 1.0, b, plane);
    }
    making += Clock::now() - start;
    return buffer.data();
  };
  // The output against the truth after one least-squares scale and shift over the whole video,
  // from running sums (nothing of the output is kept).
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
  int out = 0;
  Clock::duration checking{};
  auto sink = [&](int index, const cv::Mat& aligned) -> absl::Status {
    const auto start = Clock::now();
    const cv::Mat t = truth.Frame(index);
    n += static_cast<double>(pixels);
    sx += cv::sum(aligned)[0];
    sy += cv::sum(t)[0];
    sxx += aligned.dot(aligned);
    sxy += aligned.dot(t);
    syy += t.dot(t);
    ++out;
    checking += Clock::now() - start;
    return absl::OkStatus();
  };
  WindowOptions options;
  options.window = absl::GetFlag(FLAGS_window);
  options.solve_every = absl::GetFlag(FLAGS_solve_every);
  options.soft_horizon = absl::GetFlag(FLAGS_soft_horizon);
  WindowStats stats;
  const int64_t rss_before = PeakRssBytes();
  const auto start = Clock::now();
  absl::Status status = CoalignWindowedStream(*plan, height, width, options, source, sink, &stats);
  const double total = Seconds(Clock::now() - start);
  if (!status.ok() || out != frames) {
    std::cerr << "bench_stream_memory: " << status << " (" << out << " frames out)\n";
    std::exit(1);
  }
  const double a = (n * sxy - sx * sy) / (n * sxx - sx * sx), b = (sy - a * sx) / n;
  const double residual = syy - 2 * a * sxy - 2 * b * sy + a * a * sxx + 2 * a * b * sx + b * b * n;
  return {{"frames", frames},
          {"dilations", dilations},
          {"snippets", plan->TotalSnippets()},
          {"window", options.window},
          {"solve_every", options.solve_every},
          {"soft_horizon", options.soft_horizon},
          {"solves", stats.solves},
          {"iterations", stats.iterations},
          {"coalign_merge_seconds", total - Seconds(making) - Seconds(checking)},
          {"making_snippets_seconds", Seconds(making)},
          {"peak_rss_bytes", PeakRssBytes()},
          {"peak_rss_before_bytes", rss_before},
          {"rmse_vs_truth_after_affine_fit", std::sqrt(std::max(0.0, residual) / n)}};
}

std::vector<std::vector<int>> ParseSets(const std::string& text) {
  std::vector<std::vector<int>> sets;
  for (absl::string_view set : absl::StrSplit(text, ';', absl::SkipEmpty())) {
    std::vector<int> d;
    for (absl::string_view v : absl::StrSplit(set, ',', absl::SkipEmpty())) d.push_back(std::stoi(std::string(v)));
    sets.push_back(d);
  }
  return sets;
}

}  // namespace
}  // namespace depthd

int main(int argc, char** argv) {
  using namespace depthd;
  absl::SetProgramUsageMessage("Peak memory and time of windowed co-alignment against video length.");
  absl::ParseCommandLine(argc, argv);
  const std::string child = absl::GetFlag(FLAGS_child);
  if (!child.empty()) {
    const std::vector<std::string> parts = absl::StrSplit(child, ';');
    std::cout << RunChild(std::stoi(parts.at(0)), ParseSets(parts.at(1)).at(0)).dump() << std::endl;
    return 0;
  }
  nlohmann::json report = nlohmann::json::array();
  std::vector<std::string> table = {absl::StrFormat("%-8s %-10s %8s %7s %11s %10s %12s %10s", "frames",
                                                    "dilations", "snippets", "solves", "iter/solve",
                                                    "coal+merge", "peak_rss_GB", "rmse")};
  // The children are this binary (popen's shell would be /proc/self/exe for them).
  std::string self(4096, '\0');
  const ssize_t length = readlink("/proc/self/exe", self.data(), self.size());
  self.resize(length > 0 ? length : 0);
  for (const std::vector<int>& set : ParseSets(absl::GetFlag(FLAGS_dilation_sets))) {
    for (absl::string_view f : absl::StrSplit(absl::GetFlag(FLAGS_frames), ',', absl::SkipEmpty())) {
      const std::string command = absl::StrFormat(
          "'%s' --child '%s;%s' --width %d --height %d --window %d --solve_every %d --soft_horizon %d",
          self,
          std::string(f), absl::StrJoin(set, ","), absl::GetFlag(FLAGS_width),
          absl::GetFlag(FLAGS_height), absl::GetFlag(FLAGS_window), absl::GetFlag(FLAGS_solve_every),
          absl::GetFlag(FLAGS_soft_horizon));
      std::string line;
      FILE* pipe = popen(command.c_str(), "r");
      if (pipe == nullptr) return 1;
      char chunk[4096];
      while (fgets(chunk, sizeof chunk, pipe)) line += chunk;
      if (pclose(pipe) != 0) {
        std::cerr << "bench_stream_memory: the case " << f << " [" << absl::StrJoin(set, ",")
                  << "] failed\n";
        return 1;
      }
      const nlohmann::json row = nlohmann::json::parse(line);
      report.push_back(row);
      table.push_back(absl::StrFormat("%-8d %-10s %8d %7d %11.1f %10.2f %12.3f %10.5f", row["frames"].get<int>(),
                                      absl::StrJoin(set, ","), row["snippets"].get<int>(),
                                      row["solves"].get<int>(),
                                      row["iterations"].get<double>() / std::max(1, row["solves"].get<int>()),
                                      row["coalign_merge_seconds"].get<double>(),
                                      row["peak_rss_bytes"].get<double>() / 1e9,
                                      row["rmse_vs_truth_after_affine_fit"].get<double>()));
      std::cout << table.back() << std::endl;
    }
  }
  std::cout << "\n";
  for (const std::string& line : table) std::cout << line << "\n";
  if (!absl::GetFlag(FLAGS_json).empty()) std::ofstream(absl::GetFlag(FLAGS_json)) << report.dump(2) << "\n";
  return 0;
}
