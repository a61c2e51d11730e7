#pragma once
// Linear on cuBLAS (contract in ctnn/layers/linear.hpp). cuBLAS is column-major: a row-major
// N × I matrix is, to it, the I × N matrix with leading dimension I, so y = x·Wᵀ becomes
// yᶜ (O×N) = Wᶜᵀ·xᶜ and the three products below need no transposed copies:
//   forward  y  = gemm(T, N): O × N, k = I
//   dW       dW = gemm(N, T): I × O, k = N   (dWᶜ = xᶜ·dyᶜᵀ)
//   dx       dx = gemm(N, N): I × N, k = O   (dxᶜ = Wᶜ·dyᶜ)
// Bias is added and summed with cuDNN on N × O × 1 × 1 views, as for Conv2d.
#include "backends/cuda/context.hpp"
#include "backends/cuda/descriptors.hpp"
#include "ctnn/layers/linear.hpp"

namespace ctnn {

template <int I, int O, bool B, class In>
struct Impl<Linear<I, O, B>, In, cuda> {
  static constexpr float one = 1.f, zero = 0.f;
  gpu::Tensor y, dx;
  gpu::TensorDesc yd, bd;
  float *w = nullptr, *dw = nullptr, *b = nullptr, *db = nullptr;
  int n = 0;

  void setup(Context<cuda>& ctx, int batch, const gpu::Tensor&, Bound p, Links) {
    n = batch;
    w = ctx.device(p.value[0]), dw = ctx.device(p.grad[0]);
    if constexpr (B) b = ctx.device(p.value[1]), db = ctx.device(p.grad[1]);
    y.resize(n, O, 1, 1), dx.resize(n, I, 1, 1);
    yd.set(n, O, 1, 1), bd.set(1, O, 1, 1);
  }
  const gpu::Tensor& output() const { return y; }

  const gpu::Tensor& forward(Context<cuda>& ctx, const gpu::Tensor& x) {
    CTNN_CUDA_CHECK(
        cublasSgemm(ctx.blas(), CUBLAS_OP_T, CUBLAS_OP_N, O, n, I, &one, w, I, x.data, I, &zero, y.data, O));
    if constexpr (B) CTNN_CUDA_CHECK(cudnnAddTensor(ctx.dnn(), &one, bd, b, &one, yd, y.data));
    return y;
  }

  const gpu::Tensor& backward(Context<cuda>& ctx, const gpu::Tensor& x, const gpu::Tensor& dy, bool need_dx) {
    const cublasHandle_t h = ctx.blas();
    CTNN_CUDA_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_T, I, O, n, &one, x.data, I, dy.data, O, &zero, dw, I));
    if constexpr (B) CTNN_CUDA_CHECK(cudnnConvolutionBackwardBias(ctx.dnn(), &one, yd, dy.data, &zero, bd, db));
    if (need_dx)
      CTNN_CUDA_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, I, n, O, &one, w, I, dy.data, O, &zero, dx.data, I));
    return dx;
  }
};

}  // namespace ctnn
