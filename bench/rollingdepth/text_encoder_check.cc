// rollingdepth_text_check: prints the empty-prompt embedding that depthd computes from a
// checkpoint's text_encoder/ and tokenizer/, one value per line, to compare with transformers'
// CLIPTextModel on the same weights (scripts/check-text-encoder.py does that).
#include <iostream>

#include "core/model/diffusion/clip_text.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: rollingdepth_text_check CHECKPOINT_DIR\n";
    return 2;
  }
  auto embedding = depthd::diffusion::EncodeEmptyPrompt(argv[1]);
  if (!embedding.ok()) {
    std::cerr << embedding.status() << "\n";
    return 1;
  }
  torch::Tensor flat = embedding->contiguous().view(-1);
  std::cout.precision(9);
  for (int64_t i = 0; i < flat.numel(); ++i) std::cout << flat[i].item<float>() << "\n";
  return 0;
}
