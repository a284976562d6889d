#include "core/model/depth_model.h"

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace depthd {

absl::StatusOr<torch::Tensor> DepthModel::PredictSnippets(const torch::Tensor& rgb) {
  const int multiple = contract().size_multiple;
  const int length = contract().snippet_length;
  if (rgb.dim() != 5 || rgb.size(1) != length || rgb.size(2) != 3 || rgb.size(3) % multiple != 0 ||
      rgb.size(4) % multiple != 0) {
    return absl::InvalidArgumentError(absl::StrCat("model ", contract().name, ": expected [B, ",
                                                   length, ", 3, H, W] with H and W multiples of ",
                                                   multiple));
  }
  const int64_t b = rgb.size(0);
  DEPTHD_ASSIGN_OR_RETURN(std::unique_ptr<ModelVideo> video,
                          NewVideo(static_cast<int>(rgb.size(3)), static_cast<int>(rgb.size(4)),
                                   /*seed=*/0));
  const torch::Tensor frames = rgb.reshape({b * length, 3, rgb.size(3), rgb.size(4)}).cpu();
  const int batch = std::max(1, video->frame_batch());
  for (int64_t begin = 0; begin < b * length; begin += batch) {
    const int64_t count = std::min<int64_t>(batch, b * length - begin);
    DEPTHD_RETURN_IF_ERROR(video->AddFrames(frames.narrow(0, begin, count), static_cast<int>(begin)));
  }
  std::vector<std::vector<int>> snippets(b);
  for (int64_t s = 0; s < b; ++s) {
    for (int j = 0; j < length; ++j) snippets[s].push_back(static_cast<int>(s * length + j));
  }
  return video->PredictSnippets(snippets);
}

}  // namespace depthd
