#pragma once
// Shared test helpers: PyTorch reference files, tolerant comparisons with a useful report,
// deterministic fillers, access to a model's named tensors and gradients, and the list of
// backends every layer test runs on.
//
//   TEST_CASE_TEMPLATE("conv2d matches PyTorch", B, CTNN_TEST_BACKENDS) {
//     ctnn::Model<ctnn::Sequential<ctnn::Conv2d<3, 4, 3>>, ctnn::Shape<3, 6, 6>, B> model;
//     auto ref = ctnn_test::load_reference("conv2d.safetensors");
//     ctnn_test::set_tensor(model, "0.weight", ctnn_test::get(ref, "a.weight"));
//     ...
//     ctnn_test::check_close(y, ctnn_test::get(ref, "a.y"), 1e-4, 1e-5, "conv2d a: y");
//   }
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/io/safetensors.hpp"

#ifndef CTNN_SOURCE_DIR
#error "CTNN_SOURCE_DIR (the repository root) must be defined by the build (tests/CMakeLists.txt does)"
#endif

/// Backends every layer/model test is instantiated for (doctest TEST_CASE_TEMPLATE type list); a
/// build may name its own (tests/cuda compiles test_alexnet_pytorch.cpp for ctnn::cuda).
/// CTNN_TEST_CPU_BACKENDS: the fast CPU backends of this build (oneDNN, Eigen), for the tests that
/// compare a backend with the reference one.
#if CTNN_WITH_ONEDNN && CTNN_WITH_EIGEN
#define CTNN_TEST_CPU_BACKENDS ctnn::cpu, ctnn::eigen
#elif CTNN_WITH_ONEDNN
#define CTNN_TEST_CPU_BACKENDS ctnn::cpu
#elif CTNN_WITH_EIGEN
#define CTNN_TEST_CPU_BACKENDS ctnn::eigen  // = ctnn::cpu in this build; named so test names say Eigen
#endif
#if defined(CTNN_TEST_BACKENDS)
#elif defined(CTNN_TEST_CPU_BACKENDS)
#define CTNN_TEST_BACKENDS ctnn::reference, CTNN_TEST_CPU_BACKENDS
#else
#define CTNN_TEST_BACKENDS ctnn::reference
#endif

namespace ctnn_test {

/// The CPU backend of this build (ctnn::cpu: oneDNN, else Eigen, else reference), for the tests
/// of training machinery that run on one backend.
using DefaultBackend = ctnn::cpu;

// ---------------------------------------------------------------------------------------------
// Reference files (tests/reference/*.safetensors, written by tests/reference/make_reference.py)
// ---------------------------------------------------------------------------------------------

inline std::string reference_path(std::string_view file) {
  return std::string(CTNN_SOURCE_DIR) + "/tests/reference/" + std::string(file);
}

/// Loads tests/reference/<file>. Throws ctnn::Error if it is missing or malformed.
inline ctnn::io::SafetensorsFile load_reference(std::string_view file) {
  return ctnn::io::load_safetensors(reference_path(file));
}

/// The float32 values of tensor `name` (throws ctnn::Error naming the file if it is absent).
inline std::vector<float> get(const ctnn::io::SafetensorsFile& f, std::string_view name) {
  return f.at(name).to_floats();
}

/// Class indices stored as float32 (the reference files' convention) as int32.
inline std::vector<std::int32_t> get_labels(const ctnn::io::SafetensorsFile& f, std::string_view name) {
  std::vector<std::int32_t> out;
  for (float v : get(f, name)) out.push_back(std::int32_t(std::lround(v)));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Comparisons
// ---------------------------------------------------------------------------------------------

/// Element-wise |actual − expected| <= abs + rel·|expected|. On failure a doctest CHECK fails
/// with `what`, the number of bad elements, the first one and the worst one (by excess over its
/// tolerance), each with index, both values and the difference. Returns whether all were close.
inline bool check_close(std::span<const float> actual, std::span<const float> expected, double rel, double abs,
                        const std::string& what) {
  INFO(what);
  REQUIRE_MESSAGE(actual.size() == expected.size(),
                  what << ": size " << actual.size() << ", expected " << expected.size());
  std::size_t bad = 0, first = 0, worst = 0;
  double worst_excess = -1, max_diff = 0;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const double a = actual[i], e = expected[i], d = std::abs(a - e), tol = abs + rel * std::abs(e);
    max_diff = std::max(max_diff, std::isnan(d) ? INFINITY : d);
    if (d <= tol) continue;  // NaN compares false: reported as a mismatch
    if (bad++ == 0) first = i;
    const double excess = std::isnan(d) ? INFINITY : d / tol;
    if (excess > worst_excess) worst_excess = excess, worst = i;
  }
  if (bad == 0) {
    CHECK(true);  // counts the assertion
    return true;
  }
  std::ostringstream os;
  os.precision(9);
  auto line = [&](const char* label, std::size_t i) {
    os << "\n  " << label << " [" << i << "]: actual " << actual[i] << ", expected " << expected[i] << ", diff "
       << std::abs(double(actual[i]) - expected[i]) << " (tolerance " << abs + rel * std::abs(double(expected[i]))
       << ")";
  };
  os << what << ": " << bad << " of " << actual.size() << " values differ (rel " << rel << ", abs " << abs
     << "); max |diff| " << max_diff;
  line("first", first);
  line("worst", worst);
  CHECK_MESSAGE(bad == 0, os.str());
  return false;
}

/// ‖a − b‖₂ / ‖b‖₂ in double (0 when both are zero).
inline double relative_error(std::span<const double> a, std::span<const double> b) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < a.size(); ++i) num += (a[i] - b[i]) * (a[i] - b[i]), den += b[i] * b[i];
  return den == 0 ? std::sqrt(num) : std::sqrt(num / den);
}

// ---------------------------------------------------------------------------------------------
// Deterministic data
// ---------------------------------------------------------------------------------------------

/// Uniform value in [lo, hi) for (seed, i): a pure function, the same on every platform.
inline float uniform_at(std::uint64_t seed, std::size_t i, float lo = -1.f, float hi = 1.f) {
  const std::uint64_t r = ctnn::mix64(ctnn::mix64(seed) ^ (std::uint64_t(i) * 0x9E3779B97F4A7C15ull));
  return lo + (hi - lo) * float(double(r >> 11) * 0x1.0p-53);
}
/// Fills `out` with uniform_at(seed, i, lo, hi).
inline void fill_uniform(std::span<float> out, std::uint64_t seed, float lo = -1.f, float hi = 1.f) {
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = uniform_at(seed, i, lo, hi);
}
inline std::vector<float> uniform(std::size_t n, std::uint64_t seed, float lo = -1.f, float hi = 1.f) {
  std::vector<float> v(n);
  fill_uniform(v, seed, lo, hi);
  return v;
}
/// n distinct values spaced `gap` apart, centred on 0, in a seed-dependent order (for max-pool
/// and ReLU inputs whose arg-max / sign must not flip under small perturbations).
inline std::vector<float> distinct(std::size_t n, std::uint64_t seed, float gap = 0.1f) {
  std::vector<std::size_t> perm(n);
  for (std::size_t i = 0; i < n; ++i) perm[i] = i;
  for (std::size_t i = n; i > 1; --i) std::swap(perm[i - 1], perm[ctnn::mix64(seed + i) % i]);
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = (float(perm[i]) - float(n) / 2 + 0.5f) * gap;
  return v;
}

// ---------------------------------------------------------------------------------------------
// Model access by PyTorch name
// ---------------------------------------------------------------------------------------------

/// The named tensor `name` of `model` (parameter or buffer). REQUIREs that it exists.
template <class M>
ctnn::NamedTensor named(M& model, std::string_view name) {
  std::string names;
  for (auto& t : model.named_tensors()) {
    if (t.name == name) return t;
    names += " " + t.name;
  }
  FAIL("model has no tensor named '" << name << "'; it has:" << names);
  return {};
}

/// Copies `values` into the model's tensor `name`. REQUIREs the sizes to match.
template <class M>
void set_tensor(M& model, std::string_view name, std::span<const float> values) {
  auto t = named(model, name);
  REQUIRE_MESSAGE(t.data.size() == values.size(),
                  "tensor '" << name << "' holds " << t.data.size() << " values, got " << values.size());
  std::copy(values.begin(), values.end(), t.data.begin());
}

/// The model's current values of tensor `name`.
template <class M>
std::span<const float> tensor(M& model, std::string_view name) {
  return named(model, name).data;
}

/// The gradient of trainable tensor `name` (same layout as model.parameters()).
template <class M>
std::span<const float> grad(M& model, std::string_view name) {
  auto t = named(model, name);
  REQUIRE_MESSAGE(t.trainable, "tensor '" << name << "' is a buffer, it has no gradient");
  const auto params = model.parameters();
  const std::size_t offset = std::size_t(t.data.data() - params.data());
  REQUIRE(offset + t.data.size() <= params.size());
  return model.gradients().subspan(offset, t.data.size());
}

}  // namespace ctnn_test
