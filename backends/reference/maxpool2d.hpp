#pragma once
// Reference MaxPool2d: remembers the arg-max of each window (first on ties) and routes dy there.
#include <limits>

#include "backends/reference/context.hpp"
#include "ctnn/layers/maxpool2d.hpp"

namespace ctnn {

template <int K, int S, class In>
struct Impl<MaxPool2d<K, S>, In, reference> {
  using Out = typename MaxPool2d<K, S>::template output_shape<In>;
  HostTensor y, dx;
  std::vector<std::size_t> argmax;

  void setup(Context<reference>&, int batch, const HostTensor&, Bound, Links) {
    y.resize(batch, In::c, Out::h, Out::w);
    dx.resize(batch, In::c, In::h, In::w);
    argmax.assign(y.size(), 0);
  }
  const HostTensor& output() const { return y; }

  const HostTensor& forward(Context<reference>&, const HostTensor& x) {
    std::size_t o = 0;
    for (int bc = 0; bc < y.n * In::c; ++bc)
      for (int i = 0; i < Out::h; ++i)
        for (int j = 0; j < Out::w; ++j, ++o) {
          float best = -std::numeric_limits<float>::infinity();
          for (int u = 0; u < K; ++u)
            for (int v = 0; v < K; ++v) {
              const std::size_t xi = (std::size_t(bc) * In::h + i * S + u) * In::w + j * S + v;
              if (x.data[xi] > best || (u == 0 && v == 0)) best = x.data[xi], argmax[o] = xi;
            }
          y.data[o] = best;
        }
    return y;
  }

  const HostTensor& backward(Context<reference>&, const HostTensor&, const HostTensor& dy, bool need_dx) {
    if (!need_dx) return dx;
    std::fill(dx.data.begin(), dx.data.end(), 0.f);
    for (std::size_t o = 0; o < y.size(); ++o) dx.data[argmax[o]] += dy.data[o];
    return dx;
  }
};

}  // namespace ctnn
