#pragma once
// Eigen ReLU, Sigmoid, LeakyReLU, Tanh, GELU, Scale, Dropout and Flatten (contracts in
// ctnn/layers/activation.hpp, leaky_relu.hpp, tanh.hpp, gelu.hpp, scale.hpp, dropout.hpp,
// flatten.hpp). Each is an Eigen array expression over a block of elements; blocks run on the
// OpenMP threads. GELU (erf) and Dropout (the shared counter hash) are per-element functions.
#include <cmath>
#include <numbers>

#include "backends/eigen/context.hpp"
#include "ctnn/core/random.hpp"
#include "ctnn/layers/activation.hpp"
#include "ctnn/layers/dropout.hpp"
#include "ctnn/layers/flatten.hpp"
#include "ctnn/layers/gelu.hpp"
#include "ctnn/layers/leaky_relu.hpp"
#include "ctnn/layers/scale.hpp"
#include "ctnn/layers/tanh.hpp"

namespace ctnn::eigen_backend {

/// Calls f(offset, length) on consecutive blocks covering [0, size), blocks in parallel.
template <class F>
void blocks(std::size_t size, F&& f) {
  constexpr std::size_t kBlock = std::size_t(kParallelWork) / 2;
  parallel_for(std::ptrdiff_t((size + kBlock - 1) / kBlock), std::ptrdiff_t(size), [&](std::ptrdiff_t b) {
    const std::size_t lo = std::size_t(b) * kBlock;
    f(lo, std::ptrdiff_t(std::min(kBlock, size - lo)));
  });
}
inline ConstArrMap seg(const EigenTensor& t, std::size_t lo, std::ptrdiff_t len) { return {t.ptr() + lo, len}; }
inline ArrMap seg(EigenTensor& t, std::size_t lo, std::ptrdiff_t len) { return {t.ptr() + lo, len}; }

/// Shared shell of the shape-preserving layers: Derived supplies fwd(x, y) and bwd(x, y, dy, dx)
/// over Eigen array segments (offset lo into the tensor, for the layers that hash indices).
template <class Derived, class In>
struct Elementwise {
  EigenTensor y, dx;
  void setup(Context<eigen>&, int batch, const EigenTensor&, Bound, Links) { y.resize(batch, In::c, In::h, In::w); }
  const EigenTensor& output() const { return y; }
  const EigenTensor& forward(Context<eigen>& ctx, const EigenTensor& x) {
    auto& d = static_cast<Derived&>(*this);
    d.begin(ctx);
    blocks(x.size(), [&](std::size_t lo, std::ptrdiff_t len) { d.fwd(seg(x, lo, len), seg(y, lo, len), lo); });
    return y;
  }
  const EigenTensor& backward(Context<eigen>&, const EigenTensor& x, const EigenTensor& dy, bool need_dx) {
    auto& d = static_cast<Derived&>(*this);
    if (need_dx) dx.ensure(x.n, In::c, In::h, In::w);
    if (need_dx)
      blocks(x.size(), [&](std::size_t lo, std::ptrdiff_t len) {
        d.bwd(seg(x, lo, len), seg(std::as_const(y), lo, len), seg(dy, lo, len), seg(dx, lo, len), lo);
      });
    return dx;
  }
  void begin(Context<eigen>&) {}
};

}  // namespace ctnn::eigen_backend

namespace ctnn {

template <class In>
struct Impl<ReLU, In, eigen> : eigen_backend::Elementwise<Impl<ReLU, In, eigen>, In> {
  template <class X, class Y>
  void fwd(const X& x, Y&& y, std::size_t) const {
    y = (x > 0.f).select(x, 0.f);
  }
  template <class X, class Y, class DY, class DX>
  void bwd(const X& x, const Y&, const DY& dy, DX&& dx, std::size_t) const {
    dx = (x > 0.f).select(dy, 0.f);
  }
};

template <class In>
struct Impl<Sigmoid, In, eigen> : eigen_backend::Elementwise<Impl<Sigmoid, In, eigen>, In> {
  template <class X, class Y>
  void fwd(const X& x, Y&& y, std::size_t) const {
    y = 1.f / (1.f + (-x).exp());
  }
  template <class X, class Y, class DY, class DX>
  void bwd(const X&, const Y& y, const DY& dy, DX&& dx, std::size_t) const {
    dx = dy * y * (1.f - y);
  }
};

template <Ratio Slope, class In>
struct Impl<LeakyReLU<Slope>, In, eigen> : eigen_backend::Elementwise<Impl<LeakyReLU<Slope>, In, eigen>, In> {
  static constexpr float a = Slope;
  template <class X, class Y>
  void fwd(const X& x, Y&& y, std::size_t) const {
    y = (x > 0.f).select(x, x * a);
  }
  template <class X, class Y, class DY, class DX>
  void bwd(const X& x, const Y&, const DY& dy, DX&& dx, std::size_t) const {
    dx = (x > 0.f).select(dy, dy * a);
  }
};

template <class In>
struct Impl<Tanh, In, eigen> : eigen_backend::Elementwise<Impl<Tanh, In, eigen>, In> {
  template <class X, class Y>
  void fwd(const X& x, Y&& y, std::size_t) const {
    y = x.tanh();
  }
  template <class X, class Y, class DY, class DX>
  void bwd(const X&, const Y& y, const DY& dy, DX&& dx, std::size_t) const {
    dx = dy * (1.f - y.square());
  }
};

// GELU per element in double, rounded once, as the reference backend (the exact erf form).
template <class In>
struct Impl<GELU, In, eigen> : eigen_backend::Elementwise<Impl<GELU, In, eigen>, In> {
  static double cdf(double x) { return 0.5 * (1.0 + std::erf(x / std::numbers::sqrt2)); }
  template <class X, class Y>
  void fwd(const X& x, Y&& y, std::size_t) const {
    for (std::ptrdiff_t i = 0; i < x.size(); ++i) y[i] = float(x[i] * cdf(x[i]));
  }
  template <class X, class Y, class DY, class DX>
  void bwd(const X& x, const Y&, const DY& dy, DX&& dx, std::size_t) const {
    for (std::ptrdiff_t i = 0; i < x.size(); ++i) {
      const double pdf = std::exp(-0.5 * double(x[i]) * x[i]) / std::sqrt(2 * std::numbers::pi);
      dx[i] = float(dy[i] * (cdf(x[i]) + x[i] * pdf));
    }
  }
};

template <Ratio F, class In>
struct Impl<Scale<F>, In, eigen> : eigen_backend::Elementwise<Impl<Scale<F>, In, eigen>, In> {
  static constexpr float f = F;
  template <class X, class Y>
  void fwd(const X& x, Y&& y, std::size_t) const {
    y = x * f;
  }
  template <class X, class Y, class DY, class DX>
  void bwd(const X&, const Y&, const DY& dy, DX&& dx, std::size_t) const {
    dx = dy * f;
  }
};

template <class In>
struct Impl<Flatten, In, eigen> : eigen_backend::Elementwise<Impl<Flatten, In, eigen>, In> {
  void setup(Context<eigen>&, int batch, const EigenTensor&, Bound, Links) {
    this->y.resize(batch, int(In::size), 1, 1);
  }
  template <class X, class Y>
  void fwd(const X& x, Y&& y, std::size_t) const {
    y = x;
  }
  template <class X, class Y, class DY, class DX>
  void bwd(const X&, const Y&, const DY& dy, DX&& dx, std::size_t) const {
    dx = dy;
  }
};

// Dropout masks: ctnn::dropout_keep / dropout_stream (ctnn/core/random.hpp), the same on every backend.
template <Ratio Pr, class In>
struct Impl<DropoutP<Pr>, In, eigen> : eigen_backend::Elementwise<Impl<DropoutP<Pr>, In, eigen>, In> {
  static constexpr float P = Pr;
  std::uint64_t stream = 0;
  float p = P, scale = 1.f;
  int layer = 0;
  void setup(Context<eigen>& ctx, int batch, const EigenTensor& x, Bound b, Links l) {
    eigen_backend::Elementwise<Impl, In>::setup(ctx, batch, x, b, l);
    layer = l.index;
  }
  void begin(Context<eigen>& ctx) {
    p = ctx.training ? (ctx.dropout_override >= 0 ? ctx.dropout_override : P) : 0.f;
    scale = 1.f / (1.f - p);
    stream = dropout_stream(ctx.seed, ctx.step, layer);
  }
  template <class X, class Y>
  void fwd(const X& x, Y&& y, std::size_t lo) const {
    if (p == 0.f) {
      y = x;
      return;
    }
    for (std::ptrdiff_t i = 0; i < x.size(); ++i) y[i] = dropout_keep(stream, lo + i, p) ? x[i] * scale : 0.f;
  }
  template <class X, class Y, class DY, class DX>
  void bwd(const X&, const Y&, const DY& dy, DX&& dx, std::size_t lo) const {
    if (p == 0.f) {
      dx = dy;
      return;
    }
    for (std::ptrdiff_t i = 0; i < dy.size(); ++i) dx[i] = dropout_keep(stream, lo + i, p) ? dy[i] * scale : 0.f;
  }
};

}  // namespace ctnn
