#pragma once
// Eigen Linear (contract in ctnn/layers/linear.hpp) as three GEMMs. Row-major N × F activations
// are column-major F × N matrices and the O × I weights a column-major I × O matrix Wt, so:
//   yᵀ = Wtᵀ · xᵀ + b,   dWt = xᵀ · dy,   db = Σ_n dy,   dxᵀ = Wt · dyᵀ.
#include "backends/eigen/context.hpp"
#include "ctnn/layers/linear.hpp"

namespace ctnn {

template <int I, int O, bool B, class In>
struct Impl<Linear<I, O, B>, In, eigen> {
  EigenTensor y, dx;
  Bound p;
  int n = 0;

  void setup(Context<eigen>&, int batch, const EigenTensor&, Bound b, Links) {
    n = batch, p = b;
    y.resize(n, O, 1, 1);
  }
  const EigenTensor& output() const { return y; }

  const EigenTensor& forward(Context<eigen>&, const EigenTensor& x) {
    const eigen_backend::ConstMatMap wt(p.value[0], I, O);
    auto yt = y.mat(O, n);
    yt.noalias() = wt.transpose() * x.mat(I, n);
    if constexpr (B) yt.colwise() += eigen_backend::ConstVecMap(p.value[1], O);
    return y;
  }

  const EigenTensor& backward(Context<eigen>&, const EigenTensor& x, const EigenTensor& dy, bool need_dx) {
    const auto dyt = dy.mat(O, n);
    eigen_backend::MatMap(p.grad[0], I, O).noalias() = x.mat(I, n) * dyt.transpose();
    if constexpr (B) eigen_backend::VecMap(p.grad[1], O) = dyt.rowwise().sum();
    if (need_dx) dx.ensure(n, I, 1, 1);
    if (need_dx) dx.mat(I, n).noalias() = eigen_backend::ConstMatMap(p.value[0], I, O) * dyt;
    return dx;
  }
};

}  // namespace ctnn
