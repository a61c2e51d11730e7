// Element-wise kernels: ReLU, Sigmoid, LeakyReLU, Tanh, GELU, Scale, Dropout, BatchNorm's evaluation-mode helpers,
// horizontal flip.
#include <cstdint>

#include "backends/cuda/kernels/common.cuh"
#include "ctnn/core/random.hpp"

namespace ctnn::gpu::kernels {
namespace {

using detail::blocks_for;
using detail::kThreads;

__global__ void relu_fwd(const float* x, float* y, std::size_t n) {
  CTNN_GRID_LOOP(i, n) y[i] = x[i] > 0.f ? x[i] : 0.f;
}
__global__ void relu_bwd(const float* x, const float* dy, float* dx, std::size_t n) {
  CTNN_GRID_LOOP(i, n) dx[i] = x[i] > 0.f ? dy[i] : 0.f;
}
__global__ void sigmoid_fwd(const float* x, float* y, std::size_t n) {
  CTNN_GRID_LOOP(i, n) y[i] = 1.f / (1.f + expf(-x[i]));
}
__global__ void sigmoid_bwd(const float* y, const float* dy, float* dx, std::size_t n) {
  CTNN_GRID_LOOP(i, n) dx[i] = dy[i] * y[i] * (1.f - y[i]);
}
__global__ void leaky_relu_fwd(const float* x, float* y, std::size_t n, float slope) {
  CTNN_GRID_LOOP(i, n) y[i] = x[i] > 0.f ? x[i] : x[i] * slope;
}
__global__ void leaky_relu_bwd(const float* x, const float* dy, float* dx, std::size_t n, float slope) {
  CTNN_GRID_LOOP(i, n) dx[i] = x[i] > 0.f ? dy[i] : dy[i] * slope;
}
__global__ void tanh_fwd(const float* x, float* y, std::size_t n) { CTNN_GRID_LOOP(i, n) y[i] = tanhf(x[i]); }
__global__ void tanh_bwd(const float* y, const float* dy, float* dx, std::size_t n) {
  CTNN_GRID_LOOP(i, n) dx[i] = dy[i] * (1.f - y[i] * y[i]);
}
// Φ(x) = ½(1 + erf(x/√2)), φ(x) = e^{−x²/2}/√(2π)
__global__ void gelu_fwd(const float* x, float* y, std::size_t n) {
  CTNN_GRID_LOOP(i, n) y[i] = x[i] * 0.5f * (1.f + erff(x[i] * 0.70710678118654752f));
}
__global__ void gelu_bwd(const float* x, const float* dy, float* dx, std::size_t n) {
  CTNN_GRID_LOOP(i, n) {
    const float v = x[i], cdf = 0.5f * (1.f + erff(v * 0.70710678118654752f)),
                pdf = 0.39894228040143268f * expf(-0.5f * v * v);
    dx[i] = dy[i] * (cdf + v * pdf);
  }
}
__global__ void scale_k(const float* in, float* out, std::size_t n, float factor) {
  CTNN_GRID_LOOP(i, n) out[i] = in[i] * factor;
}
__global__ void dropout_k(const float* in, float* out, std::size_t n, std::uint64_t key, float p, float scale) {
  CTNN_GRID_LOOP(i, n) out[i] = dropout_keep(key, i, p) ? in[i] * scale : 0.f;  // ctnn/core/random.hpp
}
__global__ void bn_rstd(const float* var, float* rstd, int channels, float eps) {
  CTNN_GRID_LOOP(c, std::size_t(channels)) rstd[c] = float(1.0 / sqrt(double(var[c]) + double(eps)));
}
__global__ void bn_eval_dx(const float* dy, const float* weight, const float* rstd, float* dx, std::size_t n,
                           int channels, int plane) {
  CTNN_GRID_LOOP(i, n) {
    const int c = int(i / plane % channels);
    dx[i] = dy[i] * weight[c] * rstd[c];
  }
}
// One thread per mirrored pair (x, w−1−x); the middle column of an odd width stays.
__global__ void hflip_k(float* x, const float* flip, int n, int rows_per_sample, int w) {
  const int half = w / 2;
  CTNN_GRID_LOOP(i, std::size_t(n) * rows_per_sample * half) {
    const std::size_t row = i / half;
    if (flip[row / rows_per_sample] == 0.f) continue;
    float* r = x + row * w;
    const int a = int(i % half), b = w - 1 - a;
    const float t = r[a];
    r[a] = r[b], r[b] = t;
  }
}

}  // namespace

void relu_forward(const float* x, float* y, std::size_t n, cudaStream_t s) {
  if (!n) return;
  relu_fwd<<<blocks_for(n), kThreads, 0, s>>>(x, y, n);
  CTNN_KERNEL_CHECK("relu_forward");
}
void relu_backward(const float* x, const float* dy, float* dx, std::size_t n, cudaStream_t s) {
  if (!n) return;
  relu_bwd<<<blocks_for(n), kThreads, 0, s>>>(x, dy, dx, n);
  CTNN_KERNEL_CHECK("relu_backward");
}
void sigmoid_forward(const float* x, float* y, std::size_t n, cudaStream_t s) {
  if (!n) return;
  sigmoid_fwd<<<blocks_for(n), kThreads, 0, s>>>(x, y, n);
  CTNN_KERNEL_CHECK("sigmoid_forward");
}
void sigmoid_backward(const float* y, const float* dy, float* dx, std::size_t n, cudaStream_t s) {
  if (!n) return;
  sigmoid_bwd<<<blocks_for(n), kThreads, 0, s>>>(y, dy, dx, n);
  CTNN_KERNEL_CHECK("sigmoid_backward");
}
void leaky_relu_forward(const float* x, float* y, std::size_t n, float slope, cudaStream_t s) {
  if (!n) return;
  leaky_relu_fwd<<<blocks_for(n), kThreads, 0, s>>>(x, y, n, slope);
  CTNN_KERNEL_CHECK("leaky_relu_forward");
}
void leaky_relu_backward(const float* x, const float* dy, float* dx, std::size_t n, float slope, cudaStream_t s) {
  if (!n) return;
  leaky_relu_bwd<<<blocks_for(n), kThreads, 0, s>>>(x, dy, dx, n, slope);
  CTNN_KERNEL_CHECK("leaky_relu_backward");
}
void tanh_forward(const float* x, float* y, std::size_t n, cudaStream_t s) {
  if (!n) return;
  tanh_fwd<<<blocks_for(n), kThreads, 0, s>>>(x, y, n);
  CTNN_KERNEL_CHECK("tanh_forward");
}
void tanh_backward(const float* y, const float* dy, float* dx, std::size_t n, cudaStream_t s) {
  if (!n) return;
  tanh_bwd<<<blocks_for(n), kThreads, 0, s>>>(y, dy, dx, n);
  CTNN_KERNEL_CHECK("tanh_backward");
}
void gelu_forward(const float* x, float* y, std::size_t n, cudaStream_t s) {
  if (!n) return;
  gelu_fwd<<<blocks_for(n), kThreads, 0, s>>>(x, y, n);
  CTNN_KERNEL_CHECK("gelu_forward");
}
void gelu_backward(const float* x, const float* dy, float* dx, std::size_t n, cudaStream_t s) {
  if (!n) return;
  gelu_bwd<<<blocks_for(n), kThreads, 0, s>>>(x, dy, dx, n);
  CTNN_KERNEL_CHECK("gelu_backward");
}
void scale(const float* in, float* out, std::size_t n, float factor, cudaStream_t s) {
  if (!n) return;
  scale_k<<<blocks_for(n), kThreads, 0, s>>>(in, out, n, factor);
  CTNN_KERNEL_CHECK("scale");
}
void dropout(const float* in, float* out, std::size_t n, std::uint64_t key, float p, float scale, cudaStream_t s) {
  if (!n) return;
  dropout_k<<<blocks_for(n), kThreads, 0, s>>>(in, out, n, key, p, scale);
  CTNN_KERNEL_CHECK("dropout");
}
void batchnorm_rstd(const float* var, float* rstd, int channels, float eps, cudaStream_t s) {
  if (channels <= 0) return;
  bn_rstd<<<blocks_for(std::size_t(channels)), kThreads, 0, s>>>(var, rstd, channels, eps);
  CTNN_KERNEL_CHECK("batchnorm_rstd");
}
void batchnorm_eval_dx(const float* dy, const float* weight, const float* rstd, float* dx, std::size_t n, int channels,
                       int plane, cudaStream_t s) {
  if (!n) return;
  bn_eval_dx<<<blocks_for(n), kThreads, 0, s>>>(dy, weight, rstd, dx, n, channels, plane);
  CTNN_KERNEL_CHECK("batchnorm_eval_dx");
}
void hflip(float* x, const float* flip, int n, int c, int h, int w, cudaStream_t s) {
  const std::size_t pairs = std::size_t(n) * c * h * (w / 2);
  if (!pairs) return;
  hflip_k<<<blocks_for(pairs), kThreads, 0, s>>>(x, flip, n, c * h, w);
  CTNN_KERNEL_CHECK("hflip");
}

}  // namespace ctnn::gpu::kernels
