#pragma once
// BatchNorm1d/2d on cuDNN (contract in ctnn/layers/batchnorm.hpp), per-channel (SPATIAL) mode;
// BatchNorm1d is the N × C × 1 × 1 case of it. PyTorch's semantics come for free:
//   * cuDNN's exponentialAverageFactor is PyTorch's momentum: running = (1 − m)·running + m·batch;
//   * cuDNN updates running_var with the unbiased batch variance (m/(m − 1)·σ²_B), as PyTorch;
//   * y is normalised with the biased variance.
// Backward in evaluation mode (rare: input gradients of a frozen net) is not a cuDNN case: the
// weight/bias gradients come from cudnnBatchNormalizationBackward given the running statistics
// as the "saved" ones (x̂ is then exact), dx = dy·weight/√(running_var + eps) from a kernel.
#include <string>

#include "backends/cuda/context.hpp"
#include "backends/cuda/descriptors.hpp"
#include "backends/cuda/kernels.hpp"
#include "ctnn/layers/batchnorm.hpp"

namespace ctnn {

template <int D, Ratio Mr, Ratio Er, class In>
struct Impl<BatchNorm<D, Mr, Er>, In, cuda> {
  static constexpr float M = Mr, E = Er;
  static constexpr int C = In::c;
  static constexpr cudnnBatchNormMode_t mode = CUDNN_BATCHNORM_SPATIAL;
  static constexpr float one = 1.f, zero = 0.f;
  gpu::Tensor y, dx;
  gpu::DeviceBuffer<float> mean{C}, rstd{C};  // batch statistics of the last training forward
  gpu::TensorDesc xd, cd;
  float *w = nullptr, *b = nullptr, *dw = nullptr, *db = nullptr, *rm = nullptr, *rv = nullptr;
  bool trained = false;  // whether the last forward used batch statistics

  void setup(Context<cuda>& ctx, int n, const gpu::Tensor&, Bound p, Links) {
    w = ctx.device(p.value[0]), b = ctx.device(p.value[1]), rm = ctx.device(p.value[2]), rv = ctx.device(p.value[3]);
    dw = ctx.device(p.grad[0]), db = ctx.device(p.grad[1]);
    y.resize(n, C, In::h, In::w), dx.resize(n, C, In::h, In::w);
    xd.set(n, C, In::h, In::w);
    CTNN_CUDA_CHECK(cudnnDeriveBNTensorDescriptor(cd, xd, mode));
  }
  const gpu::Tensor& output() const { return y; }

  const gpu::Tensor& forward(Context<cuda>& ctx, const gpu::Tensor& x) {
    trained = ctx.training;
    if (trained && std::size_t(x.n) * In::h * In::w < 2)
      throw Error("BatchNorm: training needs more than 1 value per channel (batch of 1?)");
    if (trained)
      CTNN_CUDA_CHECK(cudnnBatchNormalizationForwardTraining(ctx.dnn(), mode, &one, &zero, xd, x.data, xd, y.data, cd,
                                                             w, b, double(M), rm, rv, double(E), mean.get(),
                                                             rstd.get()));
    else
      CTNN_CUDA_CHECK(cudnnBatchNormalizationForwardInference(ctx.dnn(), mode, &one, &zero, xd, x.data, xd, y.data, cd,
                                                              w, b, rm, rv, double(E)));
    return y;
  }

  const gpu::Tensor& backward(Context<cuda>& ctx, const gpu::Tensor& x, const gpu::Tensor& dy, bool need_dx) {
    const cudaStream_t s = ctx.stream();
    if (!trained) {  // x̂ from the running statistics
      CTNN_CUDA_CHECK(cudaMemcpyAsync(mean.get(), rm, C * sizeof(float), cudaMemcpyDeviceToDevice, s));
      gpu::kernels::batchnorm_rstd(rv, rstd.get(), C, E, s);
    }
    CTNN_CUDA_CHECK(cudnnBatchNormalizationBackward(ctx.dnn(), mode, &one, &zero, &one, &zero, xd, x.data, xd, dy.data,
                                                    xd, dx.data, cd, w, dw, db, double(E), mean.get(), rstd.get()));
    if (!trained && need_dx)
      gpu::kernels::batchnorm_eval_dx(dy.data, w, rstd.get(), dx.data, dx.size(), C, In::h * In::w, s);
    return dx;
  }
};

}  // namespace ctnn
