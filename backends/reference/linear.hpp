#pragma once
// Reference Linear: y = x·Wᵀ + b as plain loops (contract in ctnn/layers/linear.hpp).
#include "backends/reference/context.hpp"
#include "ctnn/layers/linear.hpp"

namespace ctnn {

template <int I, int O, bool B, class In>
struct Impl<Linear<I, O, B>, In, reference> {
  HostTensor y, dx;
  Bound p;
  int n = 0;

  void setup(Context<reference>&, int batch, const HostTensor&, Bound b, Links) {
    n = batch, p = b;
    y.resize(n, O, 1, 1);
    dx.resize(n, I, 1, 1);
  }
  const HostTensor& output() const { return y; }

  const HostTensor& forward(Context<reference>&, const HostTensor& x) {
    for (int b = 0; b < n; ++b)
      for (int o = 0; o < O; ++o) {
        double s = B ? p.value[1][o] : 0.0;
        for (int i = 0; i < I; ++i) s += double(p.value[0][std::size_t(o) * I + i]) * x.data[std::size_t(b) * I + i];
        y.data[std::size_t(b) * O + o] = float(s);
      }
    return y;
  }

  const HostTensor& backward(Context<reference>&, const HostTensor& x, const HostTensor& dy, bool need_dx) {
    for (int o = 0; o < O; ++o) {
      for (int i = 0; i < I; ++i) {
        double s = 0;
        for (int b = 0; b < n; ++b) s += double(dy.data[std::size_t(b) * O + o]) * x.data[std::size_t(b) * I + i];
        p.grad[0][std::size_t(o) * I + i] = float(s);
      }
      if constexpr (B) {
        double s = 0;
        for (int b = 0; b < n; ++b) s += dy.data[std::size_t(b) * O + o];
        p.grad[1][o] = float(s);
      }
    }
    if (need_dx)
      for (int b = 0; b < n; ++b)
        for (int i = 0; i < I; ++i) {
          double s = 0;
          for (int o = 0; o < O; ++o) s += double(dy.data[std::size_t(b) * O + o]) * p.value[0][std::size_t(o) * I + i];
          dx.data[std::size_t(b) * I + i] = float(s);
        }
    return dx;
  }
};

}  // namespace ctnn
