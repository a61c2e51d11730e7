// Cross-entropy with log-softmax, one thread per row (classes are few): core::cross_entropy_row,
// as ctnn/loss.hpp; the host adds the row losses in order, so the mean matches too.
#include "backends/cuda/kernels/common.cuh"
#include "ctnn/core/loss.hpp"

namespace ctnn::gpu::kernels {
namespace {

__global__ void ce_k(const float* logits, const std::int32_t* target, int n, int classes, float* dlogits,
                     double* row_loss, int* row_ok, double smoothing) {
  const int b = int(blockIdx.x * blockDim.x + threadIdx.x);
  if (b >= n) return;
  const float* z = logits + std::size_t(b) * classes;
  const int t = target[b];
  if (t < 0 || t >= classes) {
    row_loss[b] = 0, row_ok[b] = -1;
    return;
  }
  const auto row =
      core::cross_entropy_row(z, classes, t, dlogits ? dlogits + std::size_t(b) * classes : nullptr, n, smoothing);
  row_loss[b] = row.loss;
  row_ok[b] = row.argmax == t;
}

}  // namespace

void cross_entropy(const float* logits, const std::int32_t* target, int n, int classes, float* dlogits,
                   double* row_loss, int* row_ok, cudaStream_t s, double label_smoothing) {
  if (n <= 0) return;
  constexpr int threads = 128;
  ce_k<<<unsigned((n + threads - 1) / threads), threads, 0, s>>>(logits, target, n, classes, dlogits, row_loss, row_ok,
                                                                 label_smoothing);
  CTNN_KERNEL_CHECK("cross_entropy");
}

}  // namespace ctnn::gpu::kernels
