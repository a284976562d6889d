#include "tools/train/tiny_snippet_net.h"

#include <cmath>
#include <string>

#include <torch/torch.h>

namespace depthd::train {
namespace {

// Most of the work happens at 1/8 and 1/16 of the input; frames of a snippet meet in an
// attention block over all their tokens at 1/32, as RollingDepth's cross-frame attention does.
constexpr char kForward[] = R"JIT(
def conv(self, x: Tensor, w: Tensor, b: Tensor, stride: int, padding: int) -> Tensor:
    return torch.conv2d(x, w, b, [stride, stride], [padding, padding])

def forward(self, x: Tensor) -> Tensor:
    B = x.size(0)
    L = x.size(1)
    H = x.size(3)
    W = x.size(4)
    f = x.reshape(B * L, 3, H, W)
    s4 = torch.pixel_unshuffle(f, 4)
    s8 = torch.pixel_unshuffle(s4, 2)
    e8 = torch.relu(self.conv(s8, self.e8a_w, self.e8a_b, 1, 0))
    e8 = torch.relu(self.conv(e8, self.e8b_w, self.e8b_b, 1, 1))
    e16 = torch.relu(self.conv(e8, self.e16a_w, self.e16a_b, 2, 1))
    e16 = torch.relu(self.conv(e16, self.e16b_w, self.e16b_b, 1, 1))
    e32 = torch.relu(self.conv(e16, self.e32a_w, self.e32a_b, 2, 1))
    # Cross-frame attention: tokens of all L frames of a snippet attend to each other.
    C = e32.size(1)
    h = e32.size(2)
    w = e32.size(3)
    tokens = e32.reshape(B, L, C, h * w).permute(0, 1, 3, 2).reshape(B, L * h * w, C)
    q = torch.matmul(tokens, self.q_w)
    k = torch.matmul(tokens, self.k_w)
    v = torch.matmul(tokens, self.v_w)
    attn = torch.softmax(torch.matmul(q, k.transpose(1, 2)) * self.attn_scale, -1)
    mixed = torch.matmul(torch.matmul(attn, v), self.o_w)
    tokens = tokens + mixed
    tokens = tokens + torch.matmul(torch.relu(torch.matmul(tokens, self.m1_w)), self.m2_w)
    e32 = tokens.reshape(B, L, h * w, C).permute(0, 1, 3, 2).reshape(B * L, C, h, w)
    e32 = torch.relu(self.conv(e32, self.e32b_w, self.e32b_b, 1, 1))
    d16 = torch.upsample_bilinear2d(e32, [e16.size(2), e16.size(3)], False, None, None)
    d16 = torch.relu(self.conv(torch.cat([d16, e16], 1), self.d16a_w, self.d16a_b, 1, 0))
    d16 = torch.relu(self.conv(d16, self.d16b_w, self.d16b_b, 1, 1))
    d8 = torch.upsample_bilinear2d(d16, [e8.size(2), e8.size(3)], False, None, None)
    d8 = torch.relu(self.conv(torch.cat([d8, e8], 1), self.d8a_w, self.d8a_b, 1, 0))
    d8 = torch.relu(self.conv(d8, self.d8b_w, self.d8b_b, 1, 1))
    d4 = torch.upsample_bilinear2d(d8, [s4.size(2), s4.size(3)], False, None, None)
    d4 = torch.relu(self.conv(torch.cat([d4, s4], 1), self.d4a_w, self.d4a_b, 1, 0))
    d4 = torch.relu(self.conv(d4, self.d4b_w, self.d4b_b, 1, 1))
    out = self.conv(d4, self.head_w, self.head_b, 1, 0)
    out = torch.upsample_bilinear2d(out, [H, W], False, None, None)
    return out.reshape(B, L, 1, H, W)
)JIT";

struct ConvSpec {
  const char* name;
  int in, out, kernel;
};

}  // namespace

torch::jit::Module BuildTinySnippetNet(uint64_t seed) {
  torch::manual_seed(seed);
  torch::jit::Module m("TinySnippet");
  const ConvSpec convs[] = {
      {"e8a", 192, 80, 1},   {"e8b", 80, 80, 3},    {"e16a", 80, 128, 3}, {"e16b", 128, 128, 3},
      {"e32a", 128, 160, 3}, {"e32b", 160, 160, 3}, {"d16a", 288, 128, 1}, {"d16b", 128, 96, 3},
      {"d8a", 176, 64, 1},   {"d8b", 64, 64, 3},    {"d4a", 112, 48, 1},  {"d4b", 48, 48, 3},
      {"head", 48, 1, 1},
  };
  for (const ConvSpec& c : convs) {
    const double fan_in = static_cast<double>(c.in) * c.kernel * c.kernel;
    const double gain = std::string(c.name) == "head" ? 1.0 : std::sqrt(2.0);
    torch::Tensor w = torch::randn({c.out, c.in, c.kernel, c.kernel}) * (gain / std::sqrt(fan_in));
    m.register_parameter(std::string(c.name) + "_w", w, false);
    m.register_parameter(std::string(c.name) + "_b", torch::zeros({c.out}), false);
  }
  const int C = 160;
  for (const char* name : {"q_w", "k_w", "v_w"}) {
    m.register_parameter(name, torch::randn({C, C}) / std::sqrt(static_cast<double>(C)), false);
  }
  m.register_parameter("o_w", torch::zeros({C, C}), false);  // attention starts as identity
  m.register_parameter("m1_w", torch::randn({C, 2 * C}) * std::sqrt(2.0 / C), false);
  m.register_parameter("m2_w", torch::zeros({2 * C, C}), false);
  m.register_attribute("attn_scale", c10::FloatType::get(), 1.0 / std::sqrt(static_cast<double>(C)));
  m.define(kForward);
  return m;
}

int64_t ParameterCount(const torch::jit::Module& module) {
  int64_t count = 0;
  for (const torch::Tensor& p : module.parameters()) count += p.numel();
  return count;
}

}  // namespace depthd::train
