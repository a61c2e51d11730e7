// Optimizer updates, element by element, with the exact formulas of ctnn/optim/sgd.hpp and
// adam.hpp. This file is built with --fmad=false (cuda.cmake): without contractions into FMA the
// device performs the same float operations as the host loop, so both give the same bits.
#include "backends/cuda/kernels/common.cuh"

namespace ctnn::gpu::kernels {
namespace {

using detail::blocks_for;
using detail::kThreads;

__global__ void sgd_k(float* p, const float* g, float* buf, std::size_t n, SgdArgs a) {
  CTNN_GRID_LOOP(i, n) {
    float d = g[i] + a.weight_decay * p[i];
    if (a.momentum != 0.f) {
      buf[i] = a.first ? d : a.momentum * buf[i] + (1.f - a.dampening) * d;
      d = a.nesterov ? d + a.momentum * buf[i] : buf[i];
    }
    p[i] -= a.lr * d;
  }
}

__global__ void adam_k(float* p, const float* g, float* m, float* v, std::size_t n, AdamArgs a) {
  CTNN_GRID_LOOP(i, n) {
    const float d = g[i] + a.weight_decay * p[i];
    m[i] = a.beta1 * m[i] + (1.f - a.beta1) * d;
    v[i] = a.beta2 * v[i] + (1.f - a.beta2) * d * d;
    p[i] -= a.step_size * m[i] / (sqrtf(v[i]) * a.rbc2 + a.eps);
  }
}

}  // namespace

void sgd_step(float* p, const float* g, float* buf, std::size_t n, SgdArgs a, cudaStream_t s) {
  if (!n) return;
  sgd_k<<<blocks_for(n), kThreads, 0, s>>>(p, g, buf, n, a);
  CTNN_KERNEL_CHECK("sgd_step");
}

void adam_step(float* p, const float* g, float* m, float* v, std::size_t n, AdamArgs a, cudaStream_t s) {
  if (!n) return;
  adam_k<<<blocks_for(n), kThreads, 0, s>>>(p, g, m, v, n, a);
  CTNN_KERNEL_CHECK("adam_step");
}

}  // namespace ctnn::gpu::kernels
