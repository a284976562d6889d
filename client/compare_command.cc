// depthctl compare: the seed report's quality comparison of two depth videos (.npy [N, H, W]).
#include <fstream>
#include <iostream>

#include "absl/flags/flag.h"
#include "client/commands.h"
#include "client/flags.h"
#include "core/depth_metrics.h"
#include "core/media/npy.h"

namespace depthd::client {
namespace {

absl::StatusOr<std::vector<cv::Mat>> LoadVideo(const std::string& path) {
  auto array = ReadNpy(path);
  if (!array.ok()) return array.status();
  if (array->shape.size() != 3) {
    return absl::InvalidArgumentError(path + ": expected an array of shape [N, H, W]");
  }
  auto values = array->AsFloat();
  if (!values.ok()) return values.status();
  const int n = static_cast<int>(array->shape[0]), h = static_cast<int>(array->shape[1]),
            w = static_cast<int>(array->shape[2]);
  std::vector<cv::Mat> frames;
  for (int f = 0; f < n; ++f) {
    frames.push_back(cv::Mat(h, w, CV_32FC1, values->data() + static_cast<size_t>(f) * h * w).clone());
  }
  return frames;
}

}  // namespace

int CompareCommand(const std::vector<std::string>& args) {
  if (args.size() != 2) {
    std::cerr << "usage: depthctl compare A.npy B.npy [--json OUT]  (B is the baseline)\n";
    return 2;
  }
  auto a = LoadVideo(args[0]);
  auto b = a.ok() ? LoadVideo(args[1]) : a;
  if (!a.ok() || !b.ok()) {
    std::cerr << "depthctl: " << (!a.ok() ? a.status() : b.status()).message() << "\n";
    return 1;
  }
  auto comparison = CompareDepth(*a, *b);
  if (!comparison.ok()) {
    std::cerr << "depthctl: " << comparison.status().message() << "\n";
    return 1;
  }
  std::cout << comparison->ToTable();
  const std::string json = absl::GetFlag(FLAGS_json);
  if (!json.empty()) {
    std::ofstream(json) << comparison->ToJson() << "\n";
    std::cout << "wrote " << json << "\n";
  }
  return 0;
}

}  // namespace depthd::client
