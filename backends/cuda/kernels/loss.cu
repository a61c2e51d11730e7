// Cross-entropy with log-softmax, one thread per row (classes are few). Same double-precision
// formulas as ctnn/loss.hpp; the host adds the row losses in order, so the mean matches too.
#include "backends/cuda/kernels/common.cuh"

namespace ctnn::gpu::kernels {
namespace {

__global__ void ce_k(const float* logits, const std::int32_t* target, int n, int classes, float* dlogits,
                     double* row_loss, int* row_ok) {
  const int b = int(blockIdx.x * blockDim.x + threadIdx.x);
  if (b >= n) return;
  const float* z = logits + std::size_t(b) * classes;
  const int t = target[b];
  if (t < 0 || t >= classes) {
    row_loss[b] = 0, row_ok[b] = -1;
    return;
  }
  int arg = 0;
  for (int k = 1; k < classes; ++k)
    if (z[k] > z[arg]) arg = k;
  double sum = 0;
  for (int k = 0; k < classes; ++k) sum += exp(double(z[k]) - z[arg]);
  const double lse = z[arg] + log(sum);
  row_loss[b] = lse - z[t];
  row_ok[b] = arg == t;
  if (dlogits)
    for (int k = 0; k < classes; ++k)
      dlogits[std::size_t(b) * classes + k] = float((exp(double(z[k]) - lse) - (k == t)) / n);
}

}  // namespace

void cross_entropy(const float* logits, const std::int32_t* target, int n, int classes, float* dlogits,
                   double* row_loss, int* row_ok, cudaStream_t s) {
  if (n <= 0) return;
  constexpr int threads = 128;
  ce_k<<<unsigned((n + threads - 1) / threads), threads, 0, s>>>(logits, target, n, classes, dlogits, row_loss, row_ok);
  CTNN_KERNEL_CHECK("cross_entropy");
}

}  // namespace ctnn::gpu::kernels
