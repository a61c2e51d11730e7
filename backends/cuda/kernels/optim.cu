// Optimizer updates, element by element: core::sgd_update / core::adam_update, the functions the
// host optimizers (ctnn/optim/sgd.hpp, adam.hpp) call. Built with --fmad=false (cuda.cmake):
// without contractions into FMA the device does the host loop's float operations, bit for bit.
#include "backends/cuda/kernels/common.cuh"

namespace ctnn::gpu::kernels {
namespace {

using detail::blocks_for;
using detail::kThreads;

__global__ void sgd_k(float* p, const float* g, float* buf, std::size_t n, SgdArgs a) {
  CTNN_GRID_LOOP(i, n) core::sgd_update(p[i], g[i], buf ? buf + i : nullptr, a);
}

__global__ void adam_k(float* p, const float* g, float* m, float* v, std::size_t n, AdamArgs a) {
  CTNN_GRID_LOOP(i, n) core::adam_update(p[i], g[i], m[i], v[i], a);
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
