#include "tools/train/tiny_snippet_net.h"

#include <cmath>
#include <string>

#include <torch/torch.h>

namespace depthd::train {
namespace {

// Most of the convolution work happens at 1/8 and 1/16 of the input. At 1/32 the tokens of all
// three frames of a snippet meet in two transformer blocks (RollingDepth's cross-frame
// attention), with 2-D sinusoidal positions so that a token can relate itself to the horizon
// and the image edges. The head predicts log depth: a ground plane spans two decades of depth,
// which a linear head with bilinear upsampling renders poorly, while in log depth every pixel's
// error is the relative error that AbsRel counts. Depth = exp(log depth - its snippet maximum):
// positive, at most 1 and scale-normalised per snippet (still affine-invariant depth to the
// pipeline).
constexpr char kForward[] = R"JIT(
def conv(self, x: Tensor, w: Tensor, b: Tensor, stride: int, padding: int) -> Tensor:
    return torch.conv2d(x, w, b, [stride, stride], [padding, padding])

def positions(self, h: int, w: int, C: int, like: Tensor) -> Tensor:
    # [h * w, C]: sin/cos of row and column at C / 4 frequencies each (periods 4 .. ~400 tokens).
    quarter = C // 4
    freq = torch.pow(torch.full([quarter], 100.0, dtype=like.dtype, device=like.device),
                     -torch.arange(quarter, dtype=like.dtype, device=like.device) / quarter) * 1.5707963
    rows = torch.arange(h, dtype=like.dtype, device=like.device).unsqueeze(1) * freq.unsqueeze(0)
    cols = torch.arange(w, dtype=like.dtype, device=like.device).unsqueeze(1) * freq.unsqueeze(0)
    r = torch.cat([torch.sin(rows), torch.cos(rows)], 1).unsqueeze(1).expand(h, w, 2 * quarter)
    c = torch.cat([torch.sin(cols), torch.cos(cols)], 1).unsqueeze(0).expand(h, w, 2 * quarter)
    return torch.cat([r, c], 2).reshape(h * w, 4 * quarter)

def block(self, t: Tensor, i: int) -> Tensor:
    # Pre-norm transformer block over [B, T, C] tokens: multi-head attention, then an MLP.
    B = t.size(0)
    T = t.size(1)
    C = t.size(2)
    heads = self.heads
    n = torch.layer_norm(t, [C], self.ln_w[i][0], self.ln_b[i][0], 1e-5)
    qkv = torch.matmul(n, self.qkv_w[i]).reshape(B, T, 3, heads, C // heads).permute(2, 0, 3, 1, 4)
    attn = torch.softmax(torch.matmul(qkv[0], qkv[1].transpose(2, 3)) * self.attn_scale, -1)
    mixed = torch.matmul(attn, qkv[2]).permute(0, 2, 1, 3).reshape(B, T, C)
    t = t + torch.matmul(mixed, self.o_w[i])
    n = torch.layer_norm(t, [C], self.ln_w[i][1], self.ln_b[i][1], 1e-5)
    return t + torch.matmul(torch.gelu(torch.matmul(n, self.m1_w[i])), self.m2_w[i])

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
    e16 = e16 + self.conv(torch.relu(self.conv(e16, self.e16c_w, self.e16c_b, 1, 1)), self.e16d_w, self.e16d_b, 1, 1)
    e32 = torch.relu(self.conv(e16, self.e32a_w, self.e32a_b, 2, 1))
    C = e32.size(1)
    h = e32.size(2)
    w = e32.size(3)
    # Cross-frame attention: the tokens of all L frames of a snippet attend to each other.
    tokens = e32.reshape(B, L, C, h * w).permute(0, 1, 3, 2)
    tokens = tokens + torch.matmul(self.positions(h, w, C, tokens), self.pos_w)
    tokens = tokens.reshape(B, L * h * w, C)
    for i in range(self.blocks):
        tokens = self.block(tokens, i)
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
    log_depth = self.conv(d4, self.head_w, self.head_b, 1, 0)
    log_depth = torch.upsample_bilinear2d(log_depth, [H, W], False, None, None).reshape(B, L, 1, H, W)
    # One scale per snippet: its farthest pixel is 1, as in RollingDepth's [0, 1] depth, the
    # range co-alignment's regularisers are written for. The nearest stays above e^-12 through
    # a soft floor that, unlike a clamp, never stops the gradient.
    below = log_depth.amax([1, 2, 3, 4], True) - log_depth
    return torch.exp(-12.0 * torch.tanh(below / 12.0))
)JIT";

struct ConvSpec {
  const char* name;
  int in, out, kernel;
  double gain;  // sqrt(2) before a ReLU; small for the last conv of a residual branch and the head
};

constexpr int kTokenDims = 192;
constexpr int kHeads = 4;
constexpr int kBlocks = 2;

}  // namespace

torch::jit::Module BuildTinySnippetNet(uint64_t seed) {
  torch::manual_seed(seed);
  torch::jit::Module m("TinySnippet");
  const double relu = std::sqrt(2.0);
  const ConvSpec convs[] = {
      {"e8a", 192, 80, 1, relu},    {"e8b", 80, 80, 3, relu},     {"e16a", 80, 128, 3, relu},
      {"e16b", 128, 128, 3, relu},  {"e16c", 128, 128, 3, relu},  {"e16d", 128, 128, 3, 0.1},
      {"e32a", 128, kTokenDims, 3, relu},  {"e32b", kTokenDims, kTokenDims, 3, relu},
      {"d16a", kTokenDims + 128, 128, 1, relu}, {"d16b", 128, 96, 3, relu},
      {"d8a", 96 + 80, 64, 1, relu}, {"d8b", 64, 64, 3, relu},   {"d4a", 64 + 48, 32, 1, relu},
      {"d4b", 32, 32, 3, relu},     {"head", 32, 1, 1, 1.0},
  };
  for (const ConvSpec& c : convs) {
    const double fan_in = static_cast<double>(c.in) * c.kernel * c.kernel;
    torch::Tensor w = torch::randn({c.out, c.in, c.kernel, c.kernel}) * (c.gain / std::sqrt(fan_in));
    m.register_parameter(std::string(c.name) + "_w", w, false);
    m.register_parameter(std::string(c.name) + "_b", torch::zeros({c.out}), false);
  }
  const int C = kTokenDims;
  const double unit = 1.0 / std::sqrt(static_cast<double>(C));
  m.register_parameter("pos_w", torch::randn({C, C}) * (0.5 * unit), false);
  // Stacked per block; the output projections start at zero so every block starts as identity.
  m.register_parameter("ln_w", torch::ones({kBlocks, 2, C}), false);
  m.register_parameter("ln_b", torch::zeros({kBlocks, 2, C}), false);
  m.register_parameter("qkv_w", torch::randn({kBlocks, C, 3 * C}) * unit, false);
  m.register_parameter("o_w", torch::zeros({kBlocks, C, C}), false);
  m.register_parameter("m1_w", torch::randn({kBlocks, C, 2 * C}) * unit, false);
  m.register_parameter("m2_w", torch::zeros({kBlocks, 2 * C, C}), false);
  m.register_attribute("heads", c10::IntType::get(), kHeads);
  m.register_attribute("blocks", c10::IntType::get(), kBlocks);
  m.register_attribute("attn_scale", c10::FloatType::get(), 1.0 / std::sqrt(static_cast<double>(C / kHeads)));
  m.define(kForward);
  return m;
}

int64_t ParameterCount(const torch::jit::Module& module) {
  int64_t count = 0;
  for (const torch::Tensor& p : module.parameters()) count += p.numel();
  return count;
}

}  // namespace depthd::train
