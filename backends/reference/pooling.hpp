#pragma once
// Reference AvgPool2d, AdaptiveAvgPool2d<1> and AdaptiveMaxPool2d<1> (contracts in
// ctnn/layers/avgpool2d.hpp and adaptive_pool2d.hpp). Sums in double.
#include <limits>

#include "backends/reference/context.hpp"
#include "ctnn/layers/adaptive_pool2d.hpp"
#include "ctnn/layers/avgpool2d.hpp"

namespace ctnn {

template <int K, int S, int P, class In>
struct Impl<AvgPool2d<K, S, P>, In, reference> {
  using Out = typename AvgPool2d<K, S, P>::template output_shape<In>;
  static constexpr double kDivisor = double(K) * K;  // count_include_pad: padding counts
  HostTensor y, dx;

  void setup(Context<reference>&, int batch, const HostTensor&, Bound, Links) {
    y.resize(batch, In::c, Out::h, Out::w);
    dx.resize(batch, In::c, In::h, In::w);
  }
  const HostTensor& output() const { return y; }

  // Calls f(output index, input index) for every input element inside a window (padding skipped).
  template <class F>
  void each(F&& f) const {
    std::size_t o = 0;
    for (int bc = 0; bc < y.n * In::c; ++bc)
      for (int i = 0; i < Out::h; ++i)
        for (int j = 0; j < Out::w; ++j, ++o)
          for (int u = 0; u < K; ++u)
            for (int v = 0; v < K; ++v) {
              const int yi = i * S + u - P, xj = j * S + v - P;
              if (yi < 0 || yi >= In::h || xj < 0 || xj >= In::w) continue;
              f(o, (std::size_t(bc) * In::h + yi) * In::w + xj);
            }
  }

  const HostTensor& forward(Context<reference>&, const HostTensor& x) {
    std::vector<double> sum(y.size(), 0.0);
    each([&](std::size_t o, std::size_t xi) { sum[o] += x.data[xi]; });
    for (std::size_t o = 0; o < y.size(); ++o) y.data[o] = float(sum[o] / kDivisor);
    return y;
  }

  const HostTensor& backward(Context<reference>&, const HostTensor&, const HostTensor& dy, bool need_dx) {
    if (!need_dx) return dx;
    std::vector<double> sum(dx.size(), 0.0);
    each([&](std::size_t o, std::size_t xi) { sum[xi] += dy.data[o]; });
    for (std::size_t i = 0; i < dx.size(); ++i) dx.data[i] = float(sum[i] / kDivisor);
    return dx;
  }
};

template <int O, class In>
struct Impl<AdaptiveAvgPool2d<O>, In, reference> {
  static constexpr int HW = In::h * In::w;
  HostTensor y, dx;

  void setup(Context<reference>&, int batch, const HostTensor&, Bound, Links) {
    y.resize(batch, In::c, 1, 1);
    dx.resize(batch, In::c, In::h, In::w);
  }
  const HostTensor& output() const { return y; }

  const HostTensor& forward(Context<reference>&, const HostTensor& x) {
    for (std::size_t p = 0; p < y.size(); ++p) {
      double s = 0;
      for (int k = 0; k < HW; ++k) s += x.data[p * HW + k];
      y.data[p] = float(s / HW);
    }
    return y;
  }

  const HostTensor& backward(Context<reference>&, const HostTensor&, const HostTensor& dy, bool need_dx) {
    if (need_dx)
      for (std::size_t p = 0; p < y.size(); ++p)
        for (int k = 0; k < HW; ++k) dx.data[p * HW + k] = float(double(dy.data[p]) / HW);
    return dx;
  }
};

template <int O, class In>
struct Impl<AdaptiveMaxPool2d<O>, In, reference> {
  static constexpr int HW = In::h * In::w;
  HostTensor y, dx;
  std::vector<std::size_t> argmax;

  void setup(Context<reference>&, int batch, const HostTensor&, Bound, Links) {
    y.resize(batch, In::c, 1, 1);
    dx.resize(batch, In::c, In::h, In::w);
    argmax.assign(y.size(), 0);
  }
  const HostTensor& output() const { return y; }

  const HostTensor& forward(Context<reference>&, const HostTensor& x) {
    for (std::size_t p = 0; p < y.size(); ++p) {
      std::size_t best = p * HW;  // first maximum on ties
      for (int k = 1; k < HW; ++k)
        if (x.data[p * HW + k] > x.data[best]) best = p * HW + k;
      argmax[p] = best;
      y.data[p] = x.data[best];
    }
    return y;
  }

  const HostTensor& backward(Context<reference>&, const HostTensor&, const HostTensor& dy, bool need_dx) {
    if (!need_dx) return dx;
    std::fill(dx.data.begin(), dx.data.end(), 0.f);
    for (std::size_t p = 0; p < y.size(); ++p) dx.data[argmax[p]] = dy.data[p];
    return dx;
  }
};

}  // namespace ctnn
