// Photographs for the renderer's image textures (SceneOptions::image_textures): square patches
// cut from frames of real videos.
#ifndef DEPTHD_TOOLS_SYNTH_TEXTURE_BANK_H_
#define DEPTHD_TOOLS_SYNTH_TEXTURE_BANK_H_

#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "absl/status/statusor.h"

namespace depthd::synth {

struct TextureBankOptions {
  int patches_per_video = 24;
  int size = 128;     // patches are size x size
  uint64_t seed = 1;  // which frames and crops; the same seed and videos cut the same patches
};

// Cuts `patches_per_video` patches from each video (at random frames, positions and sizes from
// 1/8 to 1/2 of the frame's shorter side, each resized to `size`), CV_8UC3 RGB. Videos are read
// at 320 px, one at a time. An unreadable video is an error.
absl::StatusOr<std::vector<cv::Mat>> CutTextures(const std::vector<std::string>& videos,
                                                 const TextureBankOptions& options);

// The video files (.mp4, .mov, .mkv, .webm, .avi) in `folder`, sorted by name.
absl::StatusOr<std::vector<std::string>> ListVideos(const std::string& folder);

}  // namespace depthd::synth

#endif  // DEPTHD_TOOLS_SYNTH_TEXTURE_BANK_H_
