#pragma once
// Reference BatchNorm1d/2d, statistics accumulated in double (contract in ctnn/layers/batchnorm.hpp).
// Backward in training mode (Ioffe & Szegedy 2015, eq. after Alg. 1), m values per channel:
//   dx = weight·rstd/m · (m·dy − Σdy − x̂·Σ(dy·x̂)),  dweight = Σ dy·x̂,  dbias = Σ dy.
#include <cmath>

#include "backends/reference/context.hpp"
#include "ctnn/core/batchnorm.hpp"
#include "ctnn/layers/batchnorm.hpp"

namespace ctnn {

template <int D, Ratio Mr, Ratio Er, class In>
struct Impl<BatchNorm<D, Mr, Er>, In, reference> {
  static constexpr float E = Er;
  static constexpr int C = In::c, HW = In::h * In::w;
  HostTensor y, dx, xhat;
  std::vector<float> rstd = std::vector<float>(C);
  Bound p;
  int n = 0;
  bool trained = false;  // whether the last forward used batch statistics

  void setup(Context<reference>&, int batch, const HostTensor&, Bound b, Links) {
    n = batch, p = b;
    y.resize(n, C, In::h, In::w), dx = y, xhat = y;
  }
  const HostTensor& output() const { return y; }
  std::size_t at(int b, int c, int k) const { return (std::size_t(b) * C + c) * HW + k; }

  const HostTensor& forward(Context<reference>& ctx, const HostTensor& x) {
    trained = ctx.training;
    const double m = double(n) * HW;
    if (trained && m < 2) throw Error("BatchNorm: training needs more than 1 value per channel (batch of 1?)");
    float *rm = p.value[2], *rv = p.value[3];
    for (int c = 0; c < C; ++c) {
      double mean = rm[c], var = rv[c];
      if (trained) {
        double s = 0, s2 = 0;
        for (int b = 0; b < n; ++b)
          for (int k = 0; k < HW; ++k) s += x.data[at(b, c, k)];
        mean = s / m;
        for (int b = 0; b < n; ++b)
          for (int k = 0; k < HW; ++k) s2 += (x.data[at(b, c, k)] - mean) * (x.data[at(b, c, k)] - mean);
        var = s2 / m;
        core::batchnorm_running_update(rm[c], rv[c], mean, var, m, Mr.value());
      }
      rstd[c] = float(1 / std::sqrt(var + E));
      for (int b = 0; b < n; ++b)
        for (int k = 0; k < HW; ++k) {
          const std::size_t i = at(b, c, k);
          xhat.data[i] = float((x.data[i] - mean) * rstd[c]);
          y.data[i] = xhat.data[i] * p.value[0][c] + p.value[1][c];
        }
    }
    return y;
  }

  const HostTensor& backward(Context<reference>&, const HostTensor&, const HostTensor& dy, bool need_dx) {
    const double m = double(n) * HW;
    for (int c = 0; c < C; ++c) {
      double sdy = 0, sdyx = 0;
      for (int b = 0; b < n; ++b)
        for (int k = 0; k < HW; ++k)
          sdy += dy.data[at(b, c, k)], sdyx += double(dy.data[at(b, c, k)]) * xhat.data[at(b, c, k)];
      p.grad[0][c] = float(sdyx);
      p.grad[1][c] = float(sdy);
      if (!need_dx) continue;
      const double g = double(p.value[0][c]) * rstd[c];
      for (int b = 0; b < n; ++b)
        for (int k = 0; k < HW; ++k) {
          const std::size_t i = at(b, c, k);
          dx.data[i] = float(trained ? g / m * (m * dy.data[i] - sdy - xhat.data[i] * sdyx) : g * dy.data[i]);
        }
    }
    return dx;
  }
};

}  // namespace ctnn
