// MaxPool2d kernels: forward keeps the first maximum of each window (the reference's and
// PyTorch's CPU tie rule); backward gathers instead of scattering, so overlapping windows
// (stride < kernel) add up in a fixed order without atomics.
#include "backends/cuda/kernels/common.cuh"

namespace ctnn::gpu::kernels {
namespace {

using detail::blocks_for;
using detail::kThreads;

__global__ void pool_fwd(const float* x, float* y, int* argmax, int planes, int h, int w, int ho, int wo, int k,
                         int s) {
  CTNN_GRID_LOOP(o, std::size_t(planes) * ho * wo) {
    const int j = int(o % wo), i = int(o / wo % ho);
    const float* src = x + o / (std::size_t(ho) * wo) * h * w;
    float best = 0.f;
    int arg = 0;
    for (int u = 0; u < k; ++u)
      for (int v = 0; v < k; ++v) {
        const int at = (i * s + u) * w + j * s + v;
        if ((u == 0 && v == 0) || src[at] > best) best = src[at], arg = at;
      }
    y[o] = best;
    argmax[o] = arg;
  }
}

__global__ void pool_bwd(const float* dy, const int* argmax, float* dx, int planes, int h, int w, int ho, int wo, int k,
                         int s) {
  CTNN_GRID_LOOP(e, std::size_t(planes) * h * w) {
    const int xj = int(e % w), yi = int(e / w % h), at = yi * w + xj;
    const std::size_t base = e / (std::size_t(h) * w) * ho * wo;
    // Windows i cover rows i·s … i·s + k − 1: those with ceil((yi − k + 1)/s) ≤ i ≤ yi/s.
    const int i0 = yi < k ? 0 : (yi - k) / s + 1, i1 = min(ho - 1, yi / s);
    const int j0 = xj < k ? 0 : (xj - k) / s + 1, j1 = min(wo - 1, xj / s);
    float sum = 0.f;
    for (int i = i0; i <= i1; ++i)
      for (int j = j0; j <= j1; ++j) {
        const std::size_t o = base + std::size_t(i) * wo + j;
        if (argmax[o] == at) sum += dy[o];
      }
    dx[e] = sum;
  }
}

}  // namespace

void maxpool_forward(const float* x, float* y, int* argmax, int planes, int h, int w, int ho, int wo, int k, int stride,
                     cudaStream_t s) {
  const std::size_t n = std::size_t(planes) * ho * wo;
  if (!n) return;
  pool_fwd<<<blocks_for(n), kThreads, 0, s>>>(x, y, argmax, planes, h, w, ho, wo, k, stride);
  CTNN_KERNEL_CHECK("maxpool_forward");
}

void maxpool_backward(const float* dy, const int* argmax, float* dx, int planes, int h, int w, int ho, int wo, int k,
                      int stride, cudaStream_t s) {
  const std::size_t n = std::size_t(planes) * h * w;
  if (!n) return;
  pool_bwd<<<blocks_for(n), kThreads, 0, s>>>(dy, argmax, dx, planes, h, w, ho, wo, k, stride);
  CTNN_KERNEL_CHECK("maxpool_backward");
}

}  // namespace ctnn::gpu::kernels
