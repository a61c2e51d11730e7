#pragma once
// Eigen MaxPool2d, AvgPool2d, AdaptiveAvgPool2d<1> and AdaptiveMaxPool2d<1> (contracts in
// ctnn/layers/maxpool2d.hpp, avgpool2d.hpp, adaptive_pool2d.hpp): one (image, channel) plane per
// task. Max pools remember the arg-max of each window within its plane (first on ties, as PyTorch
// and the reference backend) and route dy there.
#include <limits>
#include <vector>

#include "backends/eigen/context.hpp"
#include "ctnn/layers/adaptive_pool2d.hpp"
#include "ctnn/layers/avgpool2d.hpp"
#include "ctnn/layers/maxpool2d.hpp"

namespace ctnn {

template <int K, int S, class In>
struct Impl<MaxPool2d<K, S>, In, eigen> {
  using Out = typename MaxPool2d<K, S>::template output_shape<In>;
  static constexpr int HWi = In::h * In::w, HWo = Out::h * Out::w;
  EigenTensor y, dx;
  std::vector<int> argmax;  // per output: index in its input plane

  void setup(Context<eigen>&, int batch, const EigenTensor&, Bound, Links) {
    y.resize(batch, In::c, Out::h, Out::w);
    argmax.assign(y.size(), 0);
  }
  const EigenTensor& output() const { return y; }

  const EigenTensor& forward(Context<eigen>&, const EigenTensor& x) {
    eigen_backend::parallel_for(std::ptrdiff_t(y.n) * In::c, std::ptrdiff_t(y.size()) * K * K, [&](std::ptrdiff_t bc) {
      const float* xp = x.ptr() + bc * HWi;
      float* yp = y.ptr() + bc * HWo;
      int* ap = argmax.data() + bc * HWo;
      for (int i = 0; i < Out::h; ++i)
        for (int j = 0; j < Out::w; ++j) {
          int best = i * S * In::w + j * S;
          for (int u = 0; u < K; ++u)
            for (int v = 0; v < K; ++v) {
              const int xi = (i * S + u) * In::w + j * S + v;
              if (xp[xi] > xp[best]) best = xi;
            }
          yp[i * Out::w + j] = xp[best], ap[i * Out::w + j] = best;
        }
    });
    return y;
  }

  const EigenTensor& backward(Context<eigen>&, const EigenTensor&, const EigenTensor& dy, bool need_dx) {
    if (need_dx) dx.ensure(y.n, In::c, In::h, In::w);
    if (!need_dx) return dx;
    eigen_backend::parallel_for(std::ptrdiff_t(y.n) * In::c, std::ptrdiff_t(y.size()) * K * K, [&](std::ptrdiff_t bc) {
      float* dp = dx.ptr() + bc * HWi;
      const float* dyp = dy.ptr() + bc * HWo;
      const int* ap = argmax.data() + bc * HWo;
      std::fill_n(dp, HWi, 0.f);
      for (int o = 0; o < HWo; ++o) dp[ap[o]] += dyp[o];
    });
    return dx;
  }
};

template <int K, int S, int P, class In>
struct Impl<AvgPool2d<K, S, P>, In, eigen> {
  using Out = typename AvgPool2d<K, S, P>::template output_shape<In>;
  static constexpr int HWi = In::h * In::w, HWo = Out::h * Out::w;
  static constexpr float kInvDivisor = 1.f / float(K * K);  // count_include_pad: padding counts
  EigenTensor y, dx;

  void setup(Context<eigen>&, int batch, const EigenTensor&, Bound, Links) { y.resize(batch, In::c, Out::h, Out::w); }
  const EigenTensor& output() const { return y; }

  // Calls f(output index, input index) for every input pixel inside a window of one plane.
  template <class F>
  static void each(F&& f) {
    for (int i = 0; i < Out::h; ++i)
      for (int j = 0; j < Out::w; ++j)
        for (int u = 0; u < K; ++u)
          for (int v = 0; v < K; ++v) {
            const int yi = i * S + u - P, xj = j * S + v - P;
            if (yi >= 0 && yi < In::h && xj >= 0 && xj < In::w) f(i * Out::w + j, yi * In::w + xj);
          }
  }

  const EigenTensor& forward(Context<eigen>&, const EigenTensor& x) {
    eigen_backend::parallel_for(std::ptrdiff_t(y.n) * In::c, std::ptrdiff_t(y.size()) * K * K, [&](std::ptrdiff_t bc) {
      const float* xp = x.ptr() + bc * HWi;
      float* yp = y.ptr() + bc * HWo;
      std::fill_n(yp, HWo, 0.f);
      each([&](int o, int xi) { yp[o] += xp[xi]; });
      for (int o = 0; o < HWo; ++o) yp[o] *= kInvDivisor;
    });
    return y;
  }

  const EigenTensor& backward(Context<eigen>&, const EigenTensor&, const EigenTensor& dy, bool need_dx) {
    if (need_dx) dx.ensure(y.n, In::c, In::h, In::w);
    if (!need_dx) return dx;
    eigen_backend::parallel_for(std::ptrdiff_t(y.n) * In::c, std::ptrdiff_t(y.size()) * K * K, [&](std::ptrdiff_t bc) {
      float* dp = dx.ptr() + bc * HWi;
      const float* dyp = dy.ptr() + bc * HWo;
      std::fill_n(dp, HWi, 0.f);
      each([&](int o, int xi) { dp[xi] += dyp[o] * kInvDivisor; });
    });
    return dx;
  }
};

template <int O, class In>
struct Impl<AdaptiveAvgPool2d<O>, In, eigen> {
  static constexpr int HW = In::h * In::w;
  EigenTensor y, dx;

  void setup(Context<eigen>&, int batch, const EigenTensor&, Bound, Links) { y.resize(batch, In::c, 1, 1); }
  const EigenTensor& output() const { return y; }

  const EigenTensor& forward(Context<eigen>&, const EigenTensor& x) {
    // Each plane is a column of the HW × (N·C) matrix.
    y.mat(1, std::ptrdiff_t(y.size())) = x.mat(HW, std::ptrdiff_t(y.size())).colwise().mean();
    return y;
  }

  const EigenTensor& backward(Context<eigen>&, const EigenTensor&, const EigenTensor& dy, bool need_dx) {
    if (need_dx) dx.ensure(y.n, In::c, In::h, In::w);
    if (need_dx)
      dx.mat(HW, std::ptrdiff_t(y.size())).rowwise() = dy.mat(1, std::ptrdiff_t(y.size())).row(0) * (1.f / HW);
    return dx;
  }
};

template <int O, class In>
struct Impl<AdaptiveMaxPool2d<O>, In, eigen> {
  static constexpr int HW = In::h * In::w;
  EigenTensor y, dx;
  std::vector<int> argmax;  // per plane: index in the plane

  void setup(Context<eigen>&, int batch, const EigenTensor&, Bound, Links) {
    y.resize(batch, In::c, 1, 1);
    argmax.assign(y.size(), 0);
  }
  const EigenTensor& output() const { return y; }

  const EigenTensor& forward(Context<eigen>&, const EigenTensor& x) {
    eigen_backend::parallel_for(std::ptrdiff_t(y.size()), std::ptrdiff_t(x.size()), [&](std::ptrdiff_t p) {
      const float* xp = x.ptr() + p * HW;
      int best = 0;  // first maximum on ties
      for (int k = 1; k < HW; ++k)
        if (xp[k] > xp[best]) best = k;
      argmax[p] = best, y.data[p] = xp[best];
    });
    return y;
  }

  const EigenTensor& backward(Context<eigen>&, const EigenTensor&, const EigenTensor& dy, bool need_dx) {
    if (need_dx) dx.ensure(y.n, In::c, In::h, In::w);
    if (!need_dx) return dx;
    std::fill(dx.data.begin(), dx.data.end(), 0.f);
    for (std::size_t p = 0; p < y.size(); ++p) dx.data[p * HW + argmax[p]] = dy.data[p];
    return dx;
  }
};

}  // namespace ctnn
