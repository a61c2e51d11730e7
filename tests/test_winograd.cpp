// Winograd convolution (onednn::ConvAlgorithm): the oneDNN backend against the reference backend
// with Winograd forced, at the seed net's shapes, and which algorithm `automatic` picks.
// Winograd F(4×4, 3×3) transforms 6×6 input tiles with constants up to ±5.3 (its matrices'
// entries); rounding in the transformed domain makes it less exact than direct convolution.
// Measured here (AMD EPYC Zen 5, oneDNN 2.6 jit_wino_4x3, fp32, batch 4, against the reference
// loops): relative L2 error ≤ 1.4e-6 on outputs and gradients, against ≤ 8.6e-7 for direct
// convolution on the same layer; the tests allow 2e-5.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "backends/reference/all.hpp"
#include "ctnn/ctnn.hpp"

#if CTNN_WITH_ONEDNN
#include "backends/onednn/all.hpp"

using namespace ctnn;

namespace {

std::vector<float> uniform(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

double rel_l2(std::span<const float> a, std::span<const float> e) {
  double d = 0, n = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    d += (double(a[i]) - e[i]) * (double(a[i]) - e[i]), n += double(e[i]) * e[i];
  return std::sqrt(d / n);
}

/// Whether this CPU's oneDNN has Winograd kernels (jit_wino_4x3 needs AVX-512).
bool winograd_available() {
  using namespace dnnl;
  const memory::desc a({1, 64, 8, 8}, memory::data_type::f32, memory::format_tag::any),
      w({64, 64, 3, 3}, memory::data_type::f32, memory::format_tag::any);
  try {
    convolution_forward::primitive_desc(
        {prop_kind::forward_training, algorithm::convolution_winograd, a, w, a, {1, 1}, {1, 1}, {1, 1}},
        engine(engine::kind::cpu, 0));
    return true;
  } catch (const dnnl::error&) {
    return false;
  }
}

/// One Conv2d layer on its own: which implementations its three passes got.
template <class Conv, class In>
std::string implementations(onednn::ConvAlgorithm algo) {
  Context<cpu> ctx;
  ctx.conv_algorithm = algo;
  constexpr auto specs = Conv::template params<In>();
  std::vector<float> w(specs[0].numel()), b(specs[1].numel()), dw(w.size()), db(b.size());
  Bound bound;
  bound.value = {w.data(), b.data()}, bound.grad = {dw.data(), db.data()};
  Links links;
  links.index = 1;  // not the first layer: backward-data is built at setup
  dnnl::memory x;
  ctx.upload_shape(2, In::c, In::h, In::w, x);
  Impl<Conv, In, cpu> impl;
  impl.setup(ctx, 2, x, bound, links);
  return impl.implementations();
}

template <class Net, class In>
void check_winograd(const char* what, int n = 4, onednn::ConvAlgorithm algo = onednn::ConvAlgorithm::winograd) {
  Model<Net, In, reference> ref(3);
  Model<Net, In, cpu> cpu_model(3);
  cpu_model.context().conv_algorithm = algo;
  const auto x = uniform(std::size_t(n) * In::size, 5);
  const auto yr = ref.forward(x, n);
  const std::vector<float> yr_copy(yr.begin(), yr.end());
  const auto yc = cpu_model.forward(x, n);
  const auto dy = uniform(yr_copy.size(), 6);
  std::vector<float> dxr(x.size()), dxc(x.size());
  ref.backward(dy, dxr);
  cpu_model.backward(dy, dxc);
  const double ey = rel_l2(yc, yr_copy), edx = rel_l2(dxc, dxr), edw = rel_l2(cpu_model.gradients(), ref.gradients());
  MESSAGE(std::string(what) << std::string(algo == onednn::ConvAlgorithm::direct ? " (direct)" : " (Winograd)")
                            << ": relative L2 error y " << ey << ", dx " << edx << ", dW/db " << edw);
  CHECK(ey < 2e-5);
  CHECK(edx < 2e-5);
  CHECK(edw < 2e-5);
}

}  // namespace

TEST_CASE("Winograd convolution matches the reference at the seed net's 3x3 shapes") {
  if (!winograd_available()) {
    MESSAGE("no Winograd kernel in oneDNN on this CPU (needs AVX-512): nothing to compare");
    return;
  }
  CHECK(implementations<Conv2d<256, 256, 3, 1, 1>, Shape<256, 13, 13>>(onednn::ConvAlgorithm::winograd).find("wino") !=
        std::string::npos);
  check_winograd<Sequential<Conv2d<128, 256, 3>>, Shape<128, 15, 15>>("features.8 128->256 pad 0");
  check_winograd<Sequential<Conv2d<256, 256, 3, 1, 1>>, Shape<256, 13, 13>>("features.11 256->256 pad 1");
  check_winograd<Sequential<Conv2d<64, 64, 3, 1, 1>, BatchNorm2d, ReLU>, Shape<64, 8, 8>>("64->64 + BN + ReLU", 8);
  // The same bound holds for direct convolution (its error is the yardstick in the header).
  check_winograd<Sequential<Conv2d<256, 256, 3, 1, 1>>, Shape<256, 13, 13>>("features.11 256->256 pad 1", 4,
                                                                            onednn::ConvAlgorithm::direct);
}

TEST_CASE("automatic picks Winograd for wide 3x3 stride-1 fp32 layers only; direct forces direct") {
  using A = onednn::ConvAlgorithm;
  const bool wino = winograd_available();
  const auto big = implementations<Conv2d<256, 256, 3, 1, 1>, Shape<256, 13, 13>>(A::automatic);
  const auto first = implementations<Conv2d<3, 96, 3, 1, 1>, Shape<3, 32, 32>>(A::automatic);
  const auto five = implementations<Conv2d<96, 128, 5, 1, 2>, Shape<96, 16, 16>>(A::automatic);
  const auto forced = implementations<Conv2d<256, 256, 3, 1, 1>, Shape<256, 13, 13>>(A::direct);
  MESSAGE("256->256: " << big << "; 3->96: " << first << "; 5x5: " << five << "; direct: " << forced);
  CHECK((big.find("wino") != std::string::npos) == wino);
  CHECK(first.find("wino") == std::string::npos);
  CHECK(five.find("wino") == std::string::npos);
  CHECK(forced.find("wino") == std::string::npos);
}
#endif
