#include "tools/synth/texture_bank.h"

#include <algorithm>
#include <filesystem>

#include <opencv2/imgproc.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/media/video_io.h"
#include "tools/synth/scene.h"

namespace depthd::synth {

absl::StatusOr<std::vector<cv::Mat>> CutTextures(const std::vector<std::string>& videos,
                                                 const TextureBankOptions& options) {
  if (options.size < 8 || options.patches_per_video < 1) {
    return absl::InvalidArgumentError("texture patches need size >= 8 and at least one per video");
  }
  Rng rng(options.seed);
  std::vector<cv::Mat> patches;
  VideoReadOptions read;
  read.processing_res = 320;
  for (const std::string& path : videos) {
    auto video = ReadVideo(path, read);
    if (!video.ok()) return video.status();
    const int shorter = std::min(video->width(), video->height());
    for (int i = 0; i < options.patches_per_video; ++i) {
      const cv::Mat& frame = video->frames[rng.Int(0, video->num_frames() - 1)];
      const int side = rng.Int(std::max(8, shorter / 8), std::max(8, shorter / 2));
      const int x = rng.Int(0, frame.cols - side), y = rng.Int(0, frame.rows - side);
      cv::Mat patch;
      cv::resize(frame(cv::Rect(x, y, side, side)), patch, cv::Size(options.size, options.size), 0,
                 0, side > options.size ? cv::INTER_AREA : cv::INTER_LINEAR);
      patches.push_back(patch);
    }
  }
  return patches;
}

absl::StatusOr<std::vector<std::string>> ListVideos(const std::string& folder) {
  std::error_code error;
  std::vector<std::string> videos;
  for (const auto& entry : std::filesystem::directory_iterator(folder, error)) {
    const std::string ext = entry.path().extension().string();
    if (ext == ".mp4" || ext == ".mov" || ext == ".mkv" || ext == ".webm" || ext == ".avi") {
      videos.push_back(entry.path().string());
    }
  }
  if (error)
    return absl::NotFoundError(absl::StrCat("cannot list ", folder, ": ", error.message()));
  if (videos.empty()) return absl::NotFoundError(absl::StrCat("no videos in ", folder));
  std::sort(videos.begin(), videos.end());
  return videos;
}

}  // namespace depthd::synth
