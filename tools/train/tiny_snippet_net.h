// TinySnippet: the embedded snippet depth network, defined as a TorchScript module in C++ so
// that what is trained is exactly what ships (models/tinysnippet.pt).
#ifndef DEPTHD_TOOLS_TRAIN_TINY_SNIPPET_NET_H_
#define DEPTHD_TOOLS_TRAIN_TINY_SNIPPET_NET_H_

#include <cstdint>

#include <torch/script.h>

namespace depthd::train {

// H and W of the input must be multiples of this.
inline constexpr int kTinySnippetStride = 32;

// Input [B, 3, 3, H, W] RGB in [-1, 1]; output [B, 3, 1, H, W] affine-invariant depth.
// Parameters are initialised deterministically from `seed`.
torch::jit::Module BuildTinySnippetNet(uint64_t seed);

int64_t ParameterCount(const torch::jit::Module& module);

}  // namespace depthd::train

#endif  // DEPTHD_TOOLS_TRAIN_TINY_SNIPPET_NET_H_
