#pragma once
// Eigen Conv2d (contract in ctnn/layers/conv2d.hpp), lowered to GEMM by im2col.
// A chunk of m images becomes one matrix `col`, (m·Ho·Wo) × (Ci·K·K) column-major: row
// (j, i, jj) holds image j's input window under output pixel (i, jj), column r = (c, u, v) one
// tap of it (zero where the window hangs over the padding). With W the OIHW weights seen as
// Wt = (Ci·K·K) × Co column-major:
//   forward          Y  = col · Wt             (m·Ho·Wo) × Co, then + bias, scattered to NCHW
//   backward-weights dWt = Σ colᵀ · dY         over the chunks; db = Σ dy
//   backward-data    dcol = dY · Wtᵀ, then col2im adds every tap back onto the pixel it came from
// Chunks bound the lowered matrix to kColFloats floats (the whole batch at once would be
// Ci·K·K times the input: 630 MB for the seed net's second convolution at batch 256) while
// keeping GEMMs large enough for Eigen's blocking; backward lowers x again rather than keeping
// every chunk's col.
// Threads: each thread takes whole chunks (a static share: the same chunks every step), with its
// own scratch and a one-thread GEMM (Eigen does not nest inside a parallel region); its dWt and
// db are partial sums, added in thread order. One parallel region per pass, no barrier inside
// the GEMMs: measured on the loaded 2-core machine, Eigen's parallel GEMM on the whole chunk ran
// the seed net's train step at a third of oneDNN's speed, mostly waiting.
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
  using Scratch = eigen_backend::Scratch;
  EigenTensor y, dx;
  Bound p;
  int n = 0, chunks = 1, rows = 0, planned = 0;  // chunk c holds images [c·n/chunks, (c+1)·n/chunks)

  void setup(Context<eigen>&, int batch, const EigenTensor&, Bound b, Links) {
    n = batch, p = b;
    y.resize(n, Co, Ho, Wo);
  }
  const EigenTensor& output() const { return y; }

  // Chunks for the current thread count (at most kChunk images, a multiple of the threads), and
  // the context's per-thread scratch grown to hold them. Returns the scratch.
  std::vector<Scratch>& plan(Context<eigen>& ctx, bool backward) {
    const int t = eigen_backend::max_threads();
    if (t != planned) {
      planned = t;
      chunks = std::min(n, (n + kChunk - 1) / kChunk);
      chunks = std::min(n, (chunks + t - 1) / t * t);
      rows = (n + chunks - 1) / chunks * HWo;
    }
    auto& scratch = ctx.scratch;
    if (int(scratch.size()) < t) scratch.resize(t);
    for (auto& s : scratch) {
      if (s.col.size() < std::size_t(rows) * R) s.col.resize(std::size_t(rows) * R);
      if (s.y.size() < std::size_t(rows) * Co) s.y.resize(std::size_t(rows) * Co);
      if (backward && s.dw.size() < std::size_t(R) * Co) s.dw.resize(std::size_t(R) * Co);
      if (backward && s.db.size() < std::size_t(Co)) s.db.resize(Co);
      s.used = false;
    }
    return scratch;
  }
  int begin(std::ptrdiff_t c) const { return int(c * n / chunks); }
  static eigen_backend::MatMap col(Scratch& s, int m) { return {s.col.data(), std::ptrdiff_t(m) * HWo, R}; }
  static eigen_backend::MatMap ymat(Scratch& s, int m) { return {s.y.data(), std::ptrdiff_t(m) * HWo, Co}; }
  static constexpr std::ptrdiff_t work() { return std::ptrdiff_t(HWo) * R * Co; }  // per image

  // s.col ← the windows of images b0 .. b0+m−1 of x.
  static void im2col(Scratch& s, const float* x, int b0, int m) {
    const std::ptrdiff_t ld = std::ptrdiff_t(m) * HWo;
    for (int j = 0; j < m; ++j)
      for (int c = 0; c < Ci; ++c) {
        const float* plane = x + (std::size_t(b0 + j) * Ci + c) * Hi * Wi;
        for (int u = 0; u < K; ++u)
          for (int v = 0; v < K; ++v) {
            float* dst = s.col.data() + std::ptrdiff_t((c * K + u) * K + v) * ld + std::ptrdiff_t(j) * HWo;
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
      }
  }

  // dx images b0 .. b0+m−1 ← Σ of dcol's taps (in s.col) onto their pixels.
  void col2im(Scratch& s, int b0, int m) {
    const std::ptrdiff_t ld = std::ptrdiff_t(m) * HWo;
    for (int j = 0; j < m; ++j)
      for (int c = 0; c < Ci; ++c) {
        float* plane = dx.ptr() + (std::size_t(b0 + j) * Ci + c) * Hi * Wi;
        std::fill_n(plane, Hi * Wi, 0.f);
        for (int u = 0; u < K; ++u)
          for (int v = 0; v < K; ++v) {
            const float* src = s.col.data() + std::ptrdiff_t((c * K + u) * K + v) * ld + std::ptrdiff_t(j) * HWo;
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
      }
  }

  const EigenTensor& forward(Context<eigen>& ctx, const EigenTensor& x) {
    auto& scratch = plan(ctx, false);
    const eigen_backend::ConstMatMap wt(p.value[0], R, Co);
    eigen_backend::parallel_for_thread(chunks, n * work(), [&](std::ptrdiff_t c, int t) {
      Scratch& s = scratch[t];
      const int b0 = begin(c), m = begin(c + 1) - b0;
      im2col(s, x.ptr(), b0, m);
      ymat(s, m).noalias() = col(s, m) * wt;
      // (j·HWo + k, o) → y[b0 + j, o, k], plus the bias.
      for (int j = 0; j < m; ++j)
        for (int o = 0; o < Co; ++o) {
          const float bias = B ? p.value[1][o] : 0.f;
          const float* src = s.y.data() + std::ptrdiff_t(o) * m * HWo + std::ptrdiff_t(j) * HWo;
          float* dst = y.ptr() + (std::size_t(b0 + j) * Co + o) * HWo;
          for (int k = 0; k < HWo; ++k) dst[k] = src[k] + bias;
        }
    });
    return y;
  }

  const EigenTensor& backward(Context<eigen>& ctx, const EigenTensor& x, const EigenTensor& dy, bool need_dx) {
    auto& scratch = plan(ctx, true);
    if (need_dx) dx.ensure(n, Ci, Hi, Wi);
    const eigen_backend::ConstMatMap wt(p.value[0], R, Co);
    eigen_backend::parallel_for_thread(chunks, n * work() * (need_dx ? 2 : 1), [&](std::ptrdiff_t c, int t) {
      Scratch& s = scratch[t];
      const int b0 = begin(c), m = begin(c + 1) - b0;
      for (int j = 0; j < m; ++j)  // dY of the chunk, gathered from NCHW
        for (int o = 0; o < Co; ++o)
          std::copy_n(dy.ptr() + (std::size_t(b0 + j) * Co + o) * HWo, HWo,
                      s.y.data() + std::ptrdiff_t(o) * m * HWo + std::ptrdiff_t(j) * HWo);
      im2col(s, x.ptr(), b0, m);
      const auto dY = ymat(s, m);
      eigen_backend::MatMap dw(s.dw.data(), R, Co);
      eigen_backend::VecMap db(s.db.data(), Co);
      if (!s.used)
        dw.noalias() = col(s, m).transpose() * dY, db = dY.colwise().sum().transpose();
      else
        dw.noalias() += col(s, m).transpose() * dY, db += dY.colwise().sum().transpose();
      s.used = true;
      if (need_dx) {
        col(s, m).noalias() = dY * wt.transpose();  // dcol
        col2im(s, b0, m);
      }
    });
    eigen_backend::MatMap dwt(p.grad[0], R, Co);
    bool first = true;
    for (auto& s : scratch) {  // partial sums in thread order
      if (!s.used) continue;
      if (first)
        dwt = eigen_backend::MatMap(s.dw.data(), R, Co);
      else
        dwt += eigen_backend::MatMap(s.dw.data(), R, Co);
      if constexpr (B) {
        eigen_backend::VecMap db(p.grad[1], Co);
        if (first)
          db = eigen_backend::VecMap(s.db.data(), Co);
        else
          db += eigen_backend::VecMap(s.db.data(), Co);
      }
      first = false;
    }
    return dx;
  }
};

}  // namespace ctnn

#include "backends/reference/conv2d.hpp"

namespace ctnn {

// Grouped convolution (groups > 1, depthwise included) runs the reference backend's direct loops
// on Eigen's tensors: correct, not fast. No net of this repository uses groups on the CPU yet; a
// GEMM per group on column blocks of the same im2col is the way to speed it up.
template <int Ci, int Co, int K, int S, int P, bool B, int G, class In>
requires(G > 1) struct Impl<Conv2d<Ci, Co, K, S, P, B, G>, In, eigen>
    : host_loops::Conv2d<eigen, Ci, Co, K, S, P, B, G, In> {
};

}  // namespace ctnn
