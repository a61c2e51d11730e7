// Pooling kernels. MaxPool2d: forward keeps the first maximum of each window (the reference's and
// PyTorch's CPU tie rule); backward gathers instead of scattering, so overlapping windows
// (stride < kernel) add up in a fixed order without atomics. AvgPool2d (padding counted, as
// PyTorch's count_include_pad=True) gathers the same way. Global average / maximum: one thread
// per plane.
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

// Padded coordinates: input row yi is row yi + pad of the padded plane; window i covers padded
// rows i·s … i·s + k − 1.
__global__ void avg_fwd(const float* x, float* y, int planes, int h, int w, int ho, int wo, int k, int s, int pad) {
  CTNN_GRID_LOOP(o, std::size_t(planes) * ho * wo) {
    const int j = int(o % wo), i = int(o / wo % ho);
    const float* src = x + o / (std::size_t(ho) * wo) * h * w;
    float sum = 0.f;
    for (int u = 0; u < k; ++u) {
      const int yi = i * s + u - pad;
      if (yi < 0 || yi >= h) continue;
      for (int v = 0; v < k; ++v) {
        const int xj = j * s + v - pad;
        if (xj >= 0 && xj < w) sum += src[yi * w + xj];
      }
    }
    y[o] = sum / float(k * k);
  }
}

__global__ void avg_bwd(const float* dy, float* dx, int planes, int h, int w, int ho, int wo, int k, int s, int pad) {
  CTNN_GRID_LOOP(e, std::size_t(planes) * h * w) {
    const int yp = int(e / w % h) + pad, xp = int(e % w) + pad;
    const float* g = dy + e / (std::size_t(h) * w) * ho * wo;
    const int i0 = yp < k ? 0 : (yp - k) / s + 1, i1 = min(ho - 1, yp / s);
    const int j0 = xp < k ? 0 : (xp - k) / s + 1, j1 = min(wo - 1, xp / s);
    float sum = 0.f;
    for (int i = i0; i <= i1; ++i)
      for (int j = j0; j <= j1; ++j) sum += g[i * wo + j];
    dx[e] = sum / float(k * k);
  }
}

__global__ void gavg_fwd(const float* x, float* y, int planes, int hw) {
  CTNN_GRID_LOOP(p, std::size_t(planes)) {
    float sum = 0.f;
    for (int k = 0; k < hw; ++k) sum += x[p * hw + k];
    y[p] = sum / float(hw);
  }
}
__global__ void gavg_bwd(const float* dy, float* dx, int planes, int hw) {
  CTNN_GRID_LOOP(e, std::size_t(planes) * hw) dx[e] = dy[e / hw] / float(hw);
}
__global__ void gmax_fwd(const float* x, float* y, int* argmax, int planes, int hw) {
  CTNN_GRID_LOOP(p, std::size_t(planes)) {
    const float* src = x + p * hw;
    int arg = 0;
    for (int k = 1; k < hw; ++k)
      if (src[k] > src[arg]) arg = k;
    y[p] = src[arg];
    argmax[p] = arg;
  }
}
__global__ void gmax_bwd(const float* dy, const int* argmax, float* dx, int planes, int hw) {
  CTNN_GRID_LOOP(e, std::size_t(planes) * hw) {
    const std::size_t p = e / hw;
    dx[e] = argmax[p] == int(e % hw) ? dy[p] : 0.f;
  }
}

}  // namespace

void avgpool_forward(const float* x, float* y, int planes, int h, int w, int ho, int wo, int k, int stride, int pad,
                     cudaStream_t s) {
  const std::size_t n = std::size_t(planes) * ho * wo;
  if (!n) return;
  avg_fwd<<<blocks_for(n), kThreads, 0, s>>>(x, y, planes, h, w, ho, wo, k, stride, pad);
  CTNN_KERNEL_CHECK("avgpool_forward");
}
void avgpool_backward(const float* dy, float* dx, int planes, int h, int w, int ho, int wo, int k, int stride, int pad,
                      cudaStream_t s) {
  const std::size_t n = std::size_t(planes) * h * w;
  if (!n) return;
  avg_bwd<<<blocks_for(n), kThreads, 0, s>>>(dy, dx, planes, h, w, ho, wo, k, stride, pad);
  CTNN_KERNEL_CHECK("avgpool_backward");
}
void global_avgpool_forward(const float* x, float* y, int planes, int hw, cudaStream_t s) {
  if (planes <= 0) return;
  gavg_fwd<<<blocks_for(std::size_t(planes)), kThreads, 0, s>>>(x, y, planes, hw);
  CTNN_KERNEL_CHECK("global_avgpool_forward");
}
void global_avgpool_backward(const float* dy, float* dx, int planes, int hw, cudaStream_t s) {
  const std::size_t n = std::size_t(planes) * hw;
  if (!n) return;
  gavg_bwd<<<blocks_for(n), kThreads, 0, s>>>(dy, dx, planes, hw);
  CTNN_KERNEL_CHECK("global_avgpool_backward");
}
void global_maxpool_forward(const float* x, float* y, int* argmax, int planes, int hw, cudaStream_t s) {
  if (planes <= 0) return;
  gmax_fwd<<<blocks_for(std::size_t(planes)), kThreads, 0, s>>>(x, y, argmax, planes, hw);
  CTNN_KERNEL_CHECK("global_maxpool_forward");
}
void global_maxpool_backward(const float* dy, const int* argmax, float* dx, int planes, int hw, cudaStream_t s) {
  const std::size_t n = std::size_t(planes) * hw;
  if (!n) return;
  gmax_bwd<<<blocks_for(n), kThreads, 0, s>>>(dy, argmax, dx, planes, hw);
  CTNN_KERNEL_CHECK("global_maxpool_backward");
}

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
