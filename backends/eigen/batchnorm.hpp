#pragma once
// Eigen BatchNorm1d/2d (contract in ctnn/layers/batchnorm.hpp), one channel per task. Each
// (image, channel) plane is summed as a float Eigen array, the planes' sums in double; the
// variance takes a second pass over x − mean. Running statistics: core::batchnorm_running_update.
// Backward in training mode (Ioffe & Szegedy 2015), m values per channel, x̂ = (x − mean)·rstd
// recomputed from x:  dx = weight·rstd/m · (m·dy − Σdy − x̂·Σ(dy·x̂)),  dweight = Σ dy·x̂,  dbias = Σ dy.
#include <cmath>
#include <vector>

#include "backends/eigen/context.hpp"
#include "ctnn/core/batchnorm.hpp"
#include "ctnn/layers/batchnorm.hpp"

namespace ctnn {

template <int D, Ratio Mr, Ratio Er, class In>
struct Impl<BatchNorm<D, Mr, Er>, In, eigen> {
  static constexpr float E = Er;
  static constexpr int C = In::c, HW = In::h * In::w;
  EigenTensor y, dx;
  std::vector<float> mean = std::vector<float>(C), rstd = std::vector<float>(C);
  Bound p;
  int n = 0;
  bool trained = false;  // whether the last forward used batch statistics

  void setup(Context<eigen>&, int batch, const EigenTensor&, Bound b, Links) {
    n = batch, p = b;
    y.resize(n, C, In::h, In::w);
  }
  const EigenTensor& output() const { return y; }
  static eigen_backend::ConstArrMap plane(const EigenTensor& t, int b, int c) {
    return {t.ptr() + (std::size_t(b) * C + c) * HW, HW};
  }
  static eigen_backend::ArrMap plane(EigenTensor& t, int b, int c) {
    return {t.ptr() + (std::size_t(b) * C + c) * HW, HW};
  }

  const EigenTensor& forward(Context<eigen>& ctx, const EigenTensor& x) {
    trained = ctx.training;
    const double m = double(n) * HW;
    if (trained && m < 2) throw Error("BatchNorm: training needs more than 1 value per channel (batch of 1?)");
    eigen_backend::parallel_for(C, std::ptrdiff_t(x.size()) * 3, [&](std::ptrdiff_t c) {
      double mu = p.value[2][c], var = p.value[3][c];
      if (trained) {
        double s = 0, s2 = 0;
        for (int b = 0; b < n; ++b) s += plane(x, b, int(c)).sum();
        mu = s / m;
        for (int b = 0; b < n; ++b) s2 += (plane(x, b, int(c)) - float(mu)).square().sum();
        var = s2 / m;
        core::batchnorm_running_update(p.value[2][c], p.value[3][c], mu, var, m, Mr.value());
      }
      mean[c] = float(mu);
      rstd[c] = float(1 / std::sqrt(var + E));
      const float g = p.value[0][c] * rstd[c], h = p.value[1][c] - mean[c] * g;
      for (int b = 0; b < n; ++b) plane(y, b, int(c)) = plane(x, b, int(c)) * g + h;
    });
    return y;
  }

  const EigenTensor& backward(Context<eigen>&, const EigenTensor& x, const EigenTensor& dy, bool need_dx) {
    const double m = double(n) * HW;
    if (need_dx) dx.ensure(n, C, In::h, In::w);
    eigen_backend::parallel_for(C, std::ptrdiff_t(x.size()) * 3, [&](std::ptrdiff_t ci) {
      const int c = int(ci);
      const float mu = mean[c], r = rstd[c];
      double sdy = 0, sdyx = 0;
      for (int b = 0; b < n; ++b) {
        sdy += plane(dy, b, c).sum();
        sdyx += (plane(dy, b, c) * (plane(x, b, c) - mu)).sum();
      }
      sdyx *= r;
      p.grad[0][c] = float(sdyx);
      p.grad[1][c] = float(sdy);
      if (!need_dx) return;
      const double g = double(p.value[0][c]) * r;
      if (!trained) {
        for (int b = 0; b < n; ++b) plane(dx, b, c) = plane(dy, b, c) * float(g);
        return;
      }
      // dx = g·dy − g/m·Σdy − g/m·Σ(dy·x̂)·rstd·(x − mean)
      const float a = float(g), k0 = float(g / m * sdy), k1 = float(g / m * sdyx * r);
      for (int b = 0; b < n; ++b) plane(dx, b, c) = plane(dy, b, c) * a - k0 - (plane(x, b, c) - mu) * k1;
    });
    return dx;
  }
};

}  // namespace ctnn
