// The CUDA backend's headers compiled by nvcc: a consumer translation unit may be a .cu file
// (its own kernels next to ctnn). Every Impl is instantiated by this net; with a GPU it also runs
// one training step and checks the output is finite. Exit 77 = skipped (no device).
#include <cmath>
#include <cstdio>
#include <vector>

#include "backends/cuda/all.hpp"
#include "ctnn/layers.hpp"
#include "ctnn/loss.hpp"
#include "ctnn/model.hpp"

using namespace ctnn;
using Net = Sequential<Conv2d<3, 4, 3, 1, 1>, BatchNorm2d, ReLU, MaxPool2d<2, 2>, Flatten, Linear<64, 8>, BatchNorm1d,
                       Sigmoid, Dropout, Linear<8, 3>>;
// The layers added later: activations, average and global pools, Scale.
using Net2 = Sequential<Conv2d<3, 4, 3, 1, 1, false>, GELU, AvgPool2d<3, 2, 1>, LeakyReLU<>, Tanh, AdaptiveAvgPool2d<1>,
                        AdaptiveMaxPool2d<1>, Flatten, Linear<4, 3>, Scale<0.125_r>>;
// Residual blocks (identity and projection skips) and grouped/depthwise convolutions.
using Net3 =
    Sequential<Conv2d<3, 4, 3, 1, 1, false>, BatchNorm2d, ReLU,
               Residual<Sequential<Conv2d<4, 4, 3, 1, 1, false, 2>, BatchNorm2d, ReLU>>,
               Residual<Sequential<Conv2d<4, 8, 3, 2, 1, false>, BatchNorm2d, ReLU, Conv2d<8, 8, 3, 1, 1, true, 8>>,
                        Sequential<Conv2d<4, 8, 1, 2, 0, false>, BatchNorm2d>>,
               AdaptiveMaxPool2d<1>, Flatten, Linear<8, 3, false>>;

template <class N>
int step() {
  Model<N, Shape<3, 8, 8>, cuda> m(1);
  const int n = 4;
  std::vector<float> x(std::size_t(n) * 3 * 64);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(float(i));
  const auto logits = m.forward(x, n);
  std::vector<float> d(logits.size());
  const std::vector<std::int32_t> t{0, 1, 2, 0};
  const double loss = CrossEntropyLoss{}(logits, t, 3, d).loss;
  m.backward(d);
  SGD sgd(0.1f);
  m.context().update(sgd);
  m.context().pull(sgd);
  for (float v : m.parameters())
    if (!std::isfinite(v)) return std::printf("test_cuda_nvcc: non-finite parameter\n"), 1;
  std::printf("test_cuda_nvcc: loss %.4f, one step done\n", loss);
  return std::isfinite(loss) ? 0 : 1;
}

int main() {
  if (!gpu::device_available()) {
    std::printf("test_cuda_nvcc: SKIPPED: no CUDA device\n");
    return 77;
  }
  int rc = step<Net>();
  if (!rc) rc = step<Net2>();
  return rc ? rc : step<Net3>();
}
