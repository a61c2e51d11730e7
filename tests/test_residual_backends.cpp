// Residual blocks on the oneDNN backend beyond the PyTorch comparison (test_residual_pytorch.cpp):
// bf16 (where the CPU has bf16 instructions; activations, weights and the sums in bf16) against the
// reference backend in f32, and a block that is the net's first layer (its input is the plain
// NCHW f32 upload, its input gradient wanted or not).
#include <cmath>
#include <vector>

#include "helpers.hpp"

using namespace ctnn;
using namespace ctnn_test;

#if CTNN_WITH_ONEDNN
namespace {

using Block = Residual<Sequential<Conv2d<16, 16, 3, 1, 1, false>, BatchNorm2d, ReLU, Conv2d<16, 16, 3, 1, 1, false, 4>,
                                  BatchNorm2d, ReLU>>;
using Down = Residual<Sequential<Conv2d<16, 32, 3, 2, 1, false>, BatchNorm2d, ReLU>,
                      Sequential<Conv2d<16, 32, 1, 2, 0, false>, BatchNorm2d>>;
using Net = Sequential<Conv2d<3, 16, 3, 1, 1, false>, BatchNorm2d, ReLU, Block, MaxPool2d<2>, Down,
                       AdaptiveMaxPool2d<1>, Flatten, Linear<32, 10, false>, Scale<0.125_r>>;
using In = Shape<3, 16, 16>;

/// ‖a − b‖ / ‖b‖.
double rel(std::span<const float> a, std::span<const float> b) {
  double d = 0, n = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d += (a[i] - b[i]) * double(a[i] - b[i]), n += double(b[i]) * b[i];
  return std::sqrt(d / n);
}

}  // namespace

TEST_CASE("Residual net in bf16 on oneDNN follows the f32 reference (bf16 CPUs only)") {
  if (!Context<cpu>::native_bf16()) {
    MESSAGE("skipped: no bf16 instructions on this CPU");
    return;
  }
  Model<Net, In, reference> ref(5);
  Model<Net, In, cpu> bf(5, Precision::bf16);
  const int n = 8;
  const auto x = uniform(std::size_t(n) * In::size, 9);
  const auto yr_span = ref.forward(x, n);
  const std::vector<float> y_ref(yr_span.begin(), yr_span.end());
  const auto y = bf.forward(x, n);
  const double ey = rel(y, y_ref);
  const auto dy = uniform(y.size(), 10);
  ref.backward(dy), bf.backward(dy);
  const double eg = rel(bf.gradients(), ref.gradients());
  MESSAGE("bf16 vs f32: logits " << ey << ", gradients " << eg << " (relative)");
  // bf16 keeps 8 bits of mantissa, and train-mode BatchNorm at batch 8 amplifies it in the
  // gradients: measured here 0.005 (logits) and 0.18 (gradients), and 0.17 for the same layers
  // without the skip connections. A lost branch gradient (skip or body) moves them by O(1).
  CHECK(ey < 0.05);
  CHECK(eg < 0.35);
}

TEST_CASE("Residual as the first layer: oneDNN matches the reference, with and without dx") {
  using First = Sequential<Residual<Sequential<Conv2d<3, 3, 3, 1, 1>, BatchNorm2d, ReLU>>, Flatten, Linear<48, 2>>;
  Model<First, Shape<3, 4, 4>, reference> ref(2);
  Model<First, Shape<3, 4, 4>, cpu> one(2);
  const auto x = uniform(2 * 48, 3);
  const auto yr_span = ref.forward(x, 2);
  const std::vector<float> yr(yr_span.begin(), yr_span.end());
  check_close(one.forward(x, 2), yr, 1e-5, 1e-6, "y");
  const auto dy = uniform(4, 4);
  std::vector<float> dxr(x.size()), dxo(x.size());
  ref.backward(dy, dxr);
  one.backward(dy, dxo);
  check_close(dxo, dxr, 1e-5, 1e-6, "dx");
  check_close(one.gradients(), ref.gradients(), 1e-5, 1e-6, "gradients");
  one.forward(x, 2);
  one.backward(dy);  // no dx wanted
  check_close(one.gradients(), ref.gradients(), 1e-5, 1e-6, "gradients without dx");
}
#endif
