#pragma once
// Eigen Conv2d (contract in ctnn/layers/conv2d.hpp), lowered to GEMM by im2col.
// A chunk of m images becomes one matrix `col`, (m·Ho·Wo) × (Ci·K·K) column-major: row
// (j, i, jj) holds image j's input window under output pixel (i, jj), column r = (c, u, v) one
// tap of it (zero where the window hangs over the padding). With W the OIHW weights seen as
// Wt = (Ci·K·K) × Co column-major:
//   forward          Y  = col · Wt             (m·Ho·Wo) × Co, then + bias, scattered to NCHW
//   backward-weights dWt += colᵀ · dY          summed over the chunks; db = Σ dy
//   backward-data    dcol = dY · Wtᵀ, then col2im adds every tap back onto the pixel it came from
// Chunks bound the lowered matrix to kColFloats floats (the whole batch at once would be
// Ci·K·K times the input: 630 MB for the seed net's second convolution at batch 256) while
// keeping GEMMs large enough for Eigen's blocking and threads; backward lowers x again rather
// than keeping every chunk's col.
#include <algorithm>
#include <vector>

#include "backends/eigen/context.hpp"
#include "ctnn/layers/conv2d.hpp"

namespace ctnn {

template <int Ci, int Co, int K, int S, int P, bool B, class In>
struct Impl<Conv2d<Ci, Co, K, S, P, B>, In, eigen> {
  using Out = typename Conv2d<Ci, Co, K, S, P, B>::template output_shape<In>;
  static constexpr int Hi = In::h, Wi = In::w, Ho = Out::h, Wo = Out::w, HWo = Ho * Wo, R = Ci * K * K;
  static constexpr std::ptrdiff_t kColFloats = std::ptrdiff_t(4) << 20;  // 16 MiB of lowered input
  static constexpr int kChunk = int(std::max<std::ptrdiff_t>(1, kColFloats / (std::ptrdiff_t(HWo) * R)));
  EigenTensor y, dx;
  // The chunk's lowered input (reused for dcol once dW is done) and its Y / dY.
  std::vector<float, Eigen::aligned_allocator<float>> col_buf, y_buf;
  Bound p;
  int n = 0;

  void setup(Context<eigen>&, int batch, const EigenTensor&, Bound b, Links) {
    n = batch, p = b;
    y.resize(n, Co, Ho, Wo);
    dx.resize(n, Ci, Hi, Wi);
    const std::size_t rows = std::size_t(std::min(kChunk, n)) * HWo;
    col_buf.assign(rows * R, 0.f);
    y_buf.assign(rows * Co, 0.f);
  }
  eigen_backend::MatMap col(int m) { return {col_buf.data(), std::ptrdiff_t(m) * HWo, R}; }
  eigen_backend::MatMap ybuf(int m) { return {y_buf.data(), std::ptrdiff_t(m) * HWo, Co}; }
  const EigenTensor& output() const { return y; }

  // col ← the windows of images b0 .. b0+m−1 of x.
  void im2col(const float* x, int b0, int m) {
    const std::ptrdiff_t ld = std::ptrdiff_t(m) * HWo;
    eigen_backend::parallel_for(std::ptrdiff_t(m) * Ci, [&](std::ptrdiff_t jc) {
      const int j = int(jc / Ci), c = int(jc % Ci);
      const float* plane = x + (std::size_t(b0 + j) * Ci + c) * Hi * Wi;
      for (int u = 0; u < K; ++u)
        for (int v = 0; v < K; ++v) {
          float* dst = col_buf.data() + std::ptrdiff_t((c * K + u) * K + v) * ld + std::ptrdiff_t(j) * HWo;
          for (int i = 0; i < Ho; ++i, dst += Wo) {
            const int yi = i * S + u - P;
            if (yi < 0 || yi >= Hi) {
              std::fill_n(dst, Wo, 0.f);
              continue;
            }
            const float* row = plane + yi * Wi;
            for (int jj = 0; jj < Wo; ++jj) {
              const int xj = jj * S + v - P;
              dst[jj] = xj >= 0 && xj < Wi ? row[xj] : 0.f;
            }
          }
        }
    });
  }

  // dx images b0 .. b0+m−1 ← Σ of dcol's taps onto their pixels (dcol in col_buf).
  void col2im(int b0, int m) {
    const std::ptrdiff_t ld = std::ptrdiff_t(m) * HWo;
    eigen_backend::parallel_for(std::ptrdiff_t(m) * Ci, [&](std::ptrdiff_t jc) {
      const int j = int(jc / Ci), c = int(jc % Ci);
      float* plane = dx.ptr() + (std::size_t(b0 + j) * Ci + c) * Hi * Wi;
      std::fill_n(plane, Hi * Wi, 0.f);
      for (int u = 0; u < K; ++u)
        for (int v = 0; v < K; ++v) {
          const float* src = col_buf.data() + std::ptrdiff_t((c * K + u) * K + v) * ld + std::ptrdiff_t(j) * HWo;
          for (int i = 0; i < Ho; ++i, src += Wo) {
            const int yi = i * S + u - P;
            if (yi < 0 || yi >= Hi) continue;
            float* row = plane + yi * Wi;
            for (int jj = 0; jj < Wo; ++jj) {
              const int xj = jj * S + v - P;
              if (xj >= 0 && xj < Wi) row[xj] += src[jj];
            }
          }
        }
    });
  }

  const EigenTensor& forward(Context<eigen>&, const EigenTensor& x) {
    const eigen_backend::ConstMatMap wt(p.value[0], R, Co);
    for (int b0 = 0; b0 < n; b0 += kChunk) {
      const int m = std::min(kChunk, n - b0);
      im2col(x.ptr(), b0, m);
      ybuf(m).noalias() = col(m) * wt;
      // (j·HWo + k, o) → y[b0 + j, o, k], plus the bias.
      eigen_backend::parallel_for(std::ptrdiff_t(m) * Co, [&](std::ptrdiff_t jo) {
        const int j = int(jo / Co), o = int(jo % Co);
        const float bias = B ? p.value[1][o] : 0.f;
        const float* src = y_buf.data() + std::ptrdiff_t(o) * m * HWo + std::ptrdiff_t(j) * HWo;
        float* dst = y.ptr() + (std::size_t(b0 + j) * Co + o) * HWo;
        for (int k = 0; k < HWo; ++k) dst[k] = src[k] + bias;
      });
    }
    return y;
  }

  const EigenTensor& backward(Context<eigen>&, const EigenTensor& x, const EigenTensor& dy, bool need_dx) {
    const eigen_backend::ConstMatMap wt(p.value[0], R, Co);
    eigen_backend::MatMap dwt(p.grad[0], R, Co);
    for (int b0 = 0; b0 < n; b0 += kChunk) {
      const int m = std::min(kChunk, n - b0);
      // dY of the chunk, gathered from NCHW
      eigen_backend::parallel_for(std::ptrdiff_t(m) * Co, [&](std::ptrdiff_t jo) {
        const int j = int(jo / Co), o = int(jo % Co);
        std::copy_n(dy.ptr() + (std::size_t(b0 + j) * Co + o) * HWo, HWo,
                    y_buf.data() + std::ptrdiff_t(o) * m * HWo + std::ptrdiff_t(j) * HWo);
      });
      im2col(x.ptr(), b0, m);
      const auto dY = ybuf(m);
      if (b0 == 0)
        dwt.noalias() = col(m).transpose() * dY;
      else
        dwt.noalias() += col(m).transpose() * dY;
      if constexpr (B) {
        eigen_backend::VecMap db(p.grad[1], Co);
        if (b0 == 0) db.setZero();
        db += dY.colwise().sum().transpose();
      }
      if (need_dx) {
        col(m).noalias() = dY * wt.transpose();  // dcol
        col2im(b0, m);
      }
    }
    return dx;
  }
};

}  // namespace ctnn
