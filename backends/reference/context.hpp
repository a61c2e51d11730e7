#pragma once
// The reference backend: plain C++ loops over NCHW float32, written for obviousness, not speed.
// It is the oracle the fast backends are tested against, and what runs without oneDNN.
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "ctnn/backend.hpp"
#include "ctnn/error.hpp"

namespace ctnn {

/// Activation of the reference backend: n × c × h × w float32, NCHW, contiguous.
struct HostTensor {
  std::vector<float> data;
  int n = 0, c = 0, h = 1, w = 1;
  void resize(int n_, int c_, int h_, int w_) {
    n = n_, c = c_, h = h_, w = w_;
    data.assign(std::size_t(n) * c * h * w, 0.f);
  }
  float* ptr() { return data.data(); }
  const float* ptr() const { return data.data(); }
  std::size_t size() const { return data.size(); }
};

template <>
inline constexpr const char* backend_name_v<reference> = "reference";

template <>
struct Context<reference> {
  using Act = HostTensor;
  explicit Context(Precision p = Precision::f32) : precision(p == Precision::automatic ? Precision::f32 : p) {
    if (precision != Precision::f32) throw Error("reference backend: only float32 is implemented");
  }
  bool training = true;
  Precision precision;
  std::uint64_t seed = 0, step = 0;
  float dropout_override = -1.f;

  void upload_shape(int n, int c, int h, int w, Act& a) const { a.resize(n, c, h, w); }
  void upload(std::span<const float> x, int n, int c, int h, int w, Act& a) const {
    if (a.n != n || a.c != c) a.resize(n, c, h, w);
    std::copy(x.begin(), x.end(), a.data.begin());
  }
  void download(const Act& a, std::span<float> out) const { std::copy(a.data.begin(), a.data.end(), out.begin()); }
};

}  // namespace ctnn
