#pragma once
// Helpers of the CUDA tests: the same net on the reference backend (the oracle) and on the CUDA
// backend, with the same initial values (Model initialises on the host from the seed), run on the
// same random inputs — uniform floats, so max-pooling windows and arg-maxes have no ties.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "backends/cuda/all.hpp"
#include "backends/reference/all.hpp"
#include "ctnn/layers.hpp"
#include "ctnn/loss.hpp"
#include "ctnn/model.hpp"

namespace cuda_test {

inline std::vector<float> uniform(std::size_t n, std::uint64_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

/// Every |got − want| ≤ atol + rtol·|want|; the report names the worst element.
inline void check_close(std::span<const float> got, std::span<const float> want, double rtol, double atol,
                        const std::string& what) {
  REQUIRE_MESSAGE(got.size() == want.size(), what << ": " << got.size() << " values, expected " << want.size());
  std::size_t worst = 0;
  double ratio = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (got[i] == want[i]) continue;
    double r = std::abs(double(got[i]) - want[i]) / (atol + rtol * std::abs(double(want[i])));
    if (std::isnan(r)) r = INFINITY;
    if (r > ratio) ratio = r, worst = i;
  }
  INFO(what << ": worst element " << worst << " of " << got.size() << ": got " << (got.empty() ? 0.f : got[worst])
            << ", expected " << (want.empty() ? 0.f : want[worst]) << " (error " << ratio << " x tolerance)");
  CHECK(ratio <= 1.0);
}

/// ‖got − want‖₂ ≤ tol·‖want‖₂: for large tensors whose elements near zero carry the rounding
/// of the whole sum (convolution algorithms differ in summation order).
inline void check_rel_l2(std::span<const float> got, std::span<const float> want, double tol, const std::string& what) {
  REQUIRE_MESSAGE(got.size() == want.size(), what << ": " << got.size() << " values, expected " << want.size());
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < got.size(); ++i)
    diff += (double(got[i]) - want[i]) * (double(got[i]) - want[i]), norm += double(want[i]) * want[i];
  INFO(what << ": relative L2 error " << std::sqrt(diff / norm));
  CHECK(std::sqrt(diff) <= tol * std::sqrt(norm));
}

template <class M>
std::vector<float> copy(M& m, std::span<const float> x, int n) {
  auto y = m.forward(x, n);
  return {y.begin(), y.end()};
}

/// Net on both backends. run() does one forward and backward (with dx) on both and compares
/// output, dx, gradients, parameters and buffers.
template <class Net, class In>
struct Pair {
  ctnn::Model<Net, In, ctnn::reference> ref;
  ctnn::Model<Net, In, ctnn::cuda> gpu;
  double rtol = 1e-4, atol = 1e-5;

  explicit Pair(std::uint64_t seed = 1) : ref(seed), gpu(seed) {
    gpu.context().allow_tf32 = false;  // plain fp32 arithmetic, as the reference
  }

  void run(int n, bool training, std::uint64_t data_seed, const std::string& what) {
    ref.train(training), gpu.train(training);
    const auto x = uniform(std::size_t(n) * In::size, data_seed);
    const auto yr = copy(ref, x, n), yg = copy(gpu, x, n);
    check_close(yg, yr, rtol, atol, what + ": forward");
    const auto dy = uniform(yr.size(), data_seed + 1);
    std::vector<float> dxr(x.size()), dxg(x.size());
    ref.backward(dy, dxr), gpu.backward(dy, dxg);
    check_close(dxg, dxr, rtol, atol, what + ": dx");
    check_close(gpu.gradients(), ref.gradients(), rtol, atol, what + ": parameter gradients");
    check_close(gpu.parameters(), ref.parameters(), 0, 0, what + ": parameters unchanged");
    check_close(gpu.buffers(), ref.buffers(), rtol, atol, what + ": buffers (running statistics)");
  }
};

}  // namespace cuda_test
