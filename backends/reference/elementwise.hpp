#pragma once
// Reference ReLU, Sigmoid, LeakyReLU, Tanh, GELU, Scale, Dropout and Flatten (contracts in
// ctnn/layers/activation.hpp, leaky_relu.hpp, tanh.hpp, gelu.hpp, scale.hpp, dropout.hpp, flatten.hpp).
#include <cmath>
#include <numbers>

#include "backends/reference/context.hpp"
#include "ctnn/layers/activation.hpp"
#include "ctnn/layers/dropout.hpp"
#include "ctnn/layers/flatten.hpp"
#include "ctnn/layers/gelu.hpp"
#include "ctnn/layers/leaky_relu.hpp"
#include "ctnn/layers/scale.hpp"
#include "ctnn/layers/tanh.hpp"

namespace ctnn {

/// Shared shell of the shape-preserving layers: Derived supplies fwd(x) → y and bwd(x, y, dy) → dx
/// per element.
template <class Derived, class In>
struct ElementwiseRef {
  HostTensor y, dx;
  void setup(Context<reference>&, int batch, const HostTensor&, Bound, Links) {
    y.resize(batch, In::c, In::h, In::w);
    dx = y;
  }
  const HostTensor& output() const { return y; }
  const HostTensor& forward(Context<reference>& ctx, const HostTensor& x) {
    auto& d = static_cast<Derived&>(*this);
    d.begin(ctx);
    for (std::size_t i = 0; i < x.size(); ++i) y.data[i] = d.fwd(x.data[i], i);
    return y;
  }
  const HostTensor& backward(Context<reference>&, const HostTensor& x, const HostTensor& dy, bool need_dx) {
    auto& d = static_cast<Derived&>(*this);
    if (need_dx)
      for (std::size_t i = 0; i < x.size(); ++i) dx.data[i] = d.bwd(x.data[i], y.data[i], dy.data[i], i);
    return dx;
  }
  void begin(Context<reference>&) {}
};

template <class In>
struct Impl<ReLU, In, reference> : ElementwiseRef<Impl<ReLU, In, reference>, In> {
  float fwd(float x, std::size_t) const { return x > 0 ? x : 0.f; }
  float bwd(float x, float, float dy, std::size_t) const { return x > 0 ? dy : 0.f; }
};

template <class In>
struct Impl<Sigmoid, In, reference> : ElementwiseRef<Impl<Sigmoid, In, reference>, In> {
  float fwd(float x, std::size_t) const { return 1.f / (1.f + std::exp(-x)); }
  float bwd(float, float y, float dy, std::size_t) const { return dy * y * (1.f - y); }
};

template <Ratio Slope, class In>
struct Impl<LeakyReLU<Slope>, In, reference> : ElementwiseRef<Impl<LeakyReLU<Slope>, In, reference>, In> {
  static constexpr float a = Slope;
  float fwd(float x, std::size_t) const { return x > 0 ? x : x * a; }
  float bwd(float x, float, float dy, std::size_t) const { return x > 0 ? dy : dy * a; }
};

template <class In>
struct Impl<Tanh, In, reference> : ElementwiseRef<Impl<Tanh, In, reference>, In> {
  float fwd(float x, std::size_t) const { return float(std::tanh(double(x))); }
  float bwd(float, float y, float dy, std::size_t) const { return float(dy * (1.0 - double(y) * y)); }
};

// GELU in double, rounded once: the exact erf form (ctnn/layers/gelu.hpp).
template <class In>
struct Impl<GELU, In, reference> : ElementwiseRef<Impl<GELU, In, reference>, In> {
  static double cdf(double x) { return 0.5 * (1.0 + std::erf(x / std::numbers::sqrt2)); }
  float fwd(float x, std::size_t) const { return float(x * cdf(x)); }
  float bwd(float x, float, float dy, std::size_t) const {
    const double pdf = std::exp(-0.5 * double(x) * x) / std::sqrt(2 * std::numbers::pi);
    return float(dy * (cdf(x) + x * pdf));
  }
};

template <Ratio F, class In>
struct Impl<Scale<F>, In, reference> : ElementwiseRef<Impl<Scale<F>, In, reference>, In> {
  static constexpr float f = F;
  float fwd(float x, std::size_t) const { return x * f; }
  float bwd(float, float, float dy, std::size_t) const { return dy * f; }
};

template <class In>
struct Impl<Flatten, In, reference> : ElementwiseRef<Impl<Flatten, In, reference>, In> {
  void setup(Context<reference>&, int batch, const HostTensor&, Bound, Links) {
    this->y.resize(batch, int(In::size), 1, 1);
    this->dx.resize(batch, In::c, In::h, In::w);
  }
  float fwd(float x, std::size_t) const { return x; }
  float bwd(float, float, float dy, std::size_t) const { return dy; }
};

// Dropout masks: ctnn::dropout_keep / dropout_stream (ctnn/core/random.hpp), the same on every backend.
template <Ratio Pr, class In>
struct Impl<DropoutP<Pr>, In, reference> : ElementwiseRef<Impl<DropoutP<Pr>, In, reference>, In> {
  static constexpr float P = Pr;
  std::uint64_t stream = 0;
  float p = P, scale = 1.f;
  int layer = 0;
  void setup(Context<reference>& ctx, int batch, const HostTensor& x, Bound b, Links l) {
    ElementwiseRef<Impl, In>::setup(ctx, batch, x, b, l);
    layer = l.index;
  }
  void begin(Context<reference>& ctx) {
    p = ctx.training ? (ctx.dropout_override >= 0 ? ctx.dropout_override : P) : 0.f;
    scale = 1.f / (1.f - p);
    stream = dropout_stream(ctx.seed, ctx.step, layer);
  }
  float fwd(float x, std::size_t i) const { return p > 0 && !dropout_keep(stream, i, p) ? 0.f : x * scale; }
  float bwd(float, float, float dy, std::size_t i) const {
    return p > 0 && !dropout_keep(stream, i, p) ? 0.f : dy * scale;
  }
};

}  // namespace ctnn
