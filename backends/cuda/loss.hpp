#pragma once
// CrossEntropyLoss on the device, for logits that are already there (a training loop that keeps
// everything on the GPU; Model's own API hands logits to the host, where ctnn::CrossEntropyLoss
// is as good). Same contract and errors as ctnn::CrossEntropyLoss: mean loss, correct count,
// optional d(loss)/d(logits) written into a device tensor.
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "backends/cuda/context.hpp"
#include "backends/cuda/kernels.hpp"
#include "ctnn/loss.hpp"

namespace ctnn::gpu {

class CrossEntropy {
 public:
  double label_smoothing = 0;  ///< as ctnn::CrossEntropyLoss::label_smoothing (core::cross_entropy_row)

  /// logits: n × classes on the device; target: n host labels; dlogits (optional) gets n × classes.
  LossResult operator()(Context<cuda>& ctx, const Tensor& logits, std::span<const std::int32_t> target,
                        Tensor* dlogits = nullptr) {
    const int n = int(target.size()), classes = logits.n > 0 ? int(logits.size() / logits.n) : 0;
    if (n == 0 || logits.n != n)
      throw Error("CrossEntropyLoss: " + std::to_string(logits.size()) + " logits for " + std::to_string(n) +
                  " targets");
    if (!(label_smoothing >= 0 && label_smoothing <= 1))
      throw Error("CrossEntropyLoss: label_smoothing must be in [0, 1], got " + std::to_string(label_smoothing));
    if (dlogits && (dlogits->size() != logits.size() || dlogits->data != dlogits->own.get()))
      dlogits->resize(logits.n, logits.c, logits.h, logits.w);
    if (targets_.size() < target.size()) targets_ = DeviceBuffer<std::int32_t>(target.size());
    if (loss_.size() < target.size())
      loss_ = DeviceBuffer<double>(target.size()), ok_ = DeviceBuffer<int>(target.size());
    const cudaStream_t s = ctx.stream();
    CTNN_CUDA_CHECK(cudaMemcpyAsync(targets_.get(), target.data(), target.size_bytes(), cudaMemcpyHostToDevice, s));
    kernels::cross_entropy(logits.data, targets_.get(), n, classes, dlogits ? dlogits->data : nullptr, loss_.get(),
                           ok_.get(), s, label_smoothing);
    host_loss_.resize(n), host_ok_.resize(n);
    CTNN_CUDA_CHECK(cudaMemcpyAsync(host_loss_.data(), loss_.get(), n * sizeof(double), cudaMemcpyDeviceToHost, s));
    CTNN_CUDA_CHECK(cudaMemcpyAsync(host_ok_.data(), ok_.get(), n * sizeof(int), cudaMemcpyDeviceToHost, s));
    CTNN_CUDA_CHECK(cudaStreamSynchronize(s));
    LossResult r;
    for (int b = 0; b < n; ++b) {
      if (host_ok_[b] < 0)
        throw Error("CrossEntropyLoss: target " + std::to_string(target[b]) + " of sample " + std::to_string(b) +
                    " outside [0, " + std::to_string(classes) + ")");
      r.loss += host_loss_[b], r.correct += host_ok_[b];
    }
    r.loss /= n;
    if (!std::isfinite(r.loss)) throw Error("CrossEntropyLoss: loss is " + std::to_string(r.loss) + " (NaN or Inf)");
    return r;
  }

 private:
  DeviceBuffer<std::int32_t> targets_;
  DeviceBuffer<double> loss_;
  DeviceBuffer<int> ok_;
  std::vector<double> host_loss_;
  std::vector<int> host_ok_;
};

}  // namespace ctnn::gpu
