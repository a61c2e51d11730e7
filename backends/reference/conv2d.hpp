#pragma once
// Reference Conv2d: direct seven-loop convolution (contract in ctnn/layers/conv2d.hpp); with
// groups, output channel o reads only the Ci/G input channels of its group. The loops are written
// for any host backend whose activations are a flat NCHW `data` vector (reference, Eigen): the
// Eigen backend runs grouped convolutions with them (backends/eigen/conv2d.hpp).
#include "backends/reference/context.hpp"
#include "ctnn/layers/conv2d.hpp"

namespace ctnn {

namespace host_loops {
template <class Backend, int Ci, int Co, int K, int S, int P, bool B, int G, class In>
struct Conv2d {
  using Out = typename ctnn::Conv2d<Ci, Co, K, S, P, B, G>::template output_shape<In>;
  using HostTensor = typename Context<Backend>::Act;
  static constexpr int Cg = Ci / G;  // input channels per group (weight dimension 1)
  HostTensor y, dx;
  Bound p;
  int n = 0;

  void setup(Context<Backend>&, int batch, const HostTensor&, Bound b, Links) {
    n = batch, p = b;
    y.resize(n, Co, Out::h, Out::w);
    dx.resize(n, Ci, In::h, In::w);
  }
  const HostTensor& output() const { return y; }

  // Visits every (output, weight, input) triple of the correlation once.
  template <class F>
  void each(F&& f) const {
    for (int b = 0; b < n; ++b)
      for (int o = 0; o < Co; ++o)
        for (int i = 0; i < Out::h; ++i)
          for (int j = 0; j < Out::w; ++j)
            for (int c = 0; c < Cg; ++c)
              for (int u = 0; u < K; ++u)
                for (int v = 0; v < K; ++v) {
                  const int yi = i * S + u - P, xj = j * S + v - P;
                  if (yi < 0 || yi >= In::h || xj < 0 || xj >= In::w) continue;
                  const int ci = o / (Co / G) * Cg + c;
                  f(((std::size_t(b) * Co + o) * Out::h + i) * Out::w + j, ((std::size_t(o) * Cg + c) * K + u) * K + v,
                    ((std::size_t(b) * Ci + ci) * In::h + yi) * In::w + xj);
                }
  }

  const HostTensor& forward(Context<Backend>&, const HostTensor& x) {
    for (int b = 0; b < n; ++b)
      for (int o = 0; o < Co; ++o)
        std::fill_n(y.ptr() + (std::size_t(b) * Co + o) * Out::h * Out::w, Out::h * Out::w, B ? p.value[1][o] : 0.f);
    each([&](std::size_t yo, std::size_t wo, std::size_t xo) { y.data[yo] += p.value[0][wo] * x.data[xo]; });
    return y;
  }

  const HostTensor& backward(Context<Backend>&, const HostTensor& x, const HostTensor& dy, bool need_dx) {
    std::fill_n(p.grad[0], std::size_t(Co) * Cg * K * K, 0.f);
    if (need_dx) std::fill(dx.data.begin(), dx.data.end(), 0.f);
    each([&](std::size_t yo, std::size_t wo, std::size_t xo) {
      p.grad[0][wo] += dy.data[yo] * x.data[xo];
      if (need_dx) dx.data[xo] += dy.data[yo] * p.value[0][wo];
    });
    if constexpr (B) {
      std::fill_n(p.grad[1], Co, 0.f);
      for (int b = 0; b < n; ++b)
        for (int o = 0; o < Co; ++o)
          for (int k = 0; k < Out::h * Out::w; ++k)
            p.grad[1][o] += dy.data[(std::size_t(b) * Co + o) * Out::h * Out::w + k];
    }
    return dx;
  }
};
}  // namespace host_loops

template <int Ci, int Co, int K, int S, int P, bool B, int G, class In>
struct Impl<Conv2d<Ci, Co, K, S, P, B, G>, In, reference> : host_loops::Conv2d<reference, Ci, Co, K, S, P, B, G, In> {};

}  // namespace ctnn
