#pragma once
// Optimizer steps on the device: the state of torch.optim.SGD (momentum buffer) or Adam (two
// moments) lives next to the parameter mirror, and the update is one kernel over the whole
// arena. The optimizer object (SGD/Adam) keeps its hyper-parameters and step count on the host;
// its state vectors are filled only by pull() — for checkpoints — and read back on the first
// step after reset() (a resumed run), so a checkpoint taken from either backend resumes on either.
// Weight decay honours the optimizer's `no_decay` ranges (optim/param_groups.hpp) as the host
// loops do: one kernel launch per run of the arena, weight_decay 0 on the exempt runs.
#include <cmath>
#include <string>
#include <vector>

#include "backends/cuda/buffer.hpp"
#include "backends/cuda/kernels.hpp"
#include "ctnn/optim/adam.hpp"
#include "ctnn/optim/sgd.hpp"

namespace ctnn::gpu {

class DeviceOptimizer {
 public:
  void step(SGD& o, float* p, const float* g, std::size_t n, cudaStream_t s) {
    if (owner_ != &o) adopt(&o, o.momentum_buffer, nullptr, n, s), started_ = !o.momentum_buffer.empty();
    for_each_decay_run(n, o.no_decay, [&](std::size_t b, std::size_t e, bool decays) {
      kernels::sgd_step(p + b, g + b, a_.get() + b, e - b,
                        {o.lr, o.momentum, o.dampening, decays ? o.weight_decay : 0.f, o.nesterov, !started_}, s);
    });
    started_ = started_ || o.momentum != 0.f;
  }

  void step(Adam& o, float* p, const float* g, std::size_t n, cudaStream_t s) {
    if (owner_ != &o) adopt(&o, o.exp_avg, &o.exp_avg_sq, n, s);
    ++o.t;  // the host formulas of Adam::step, bias corrections in double
    const double bc1 = 1 - std::pow(double(o.beta1), double(o.t)), bc2 = 1 - std::pow(double(o.beta2), double(o.t));
    for_each_decay_run(n, o.no_decay, [&](std::size_t b, std::size_t e, bool decays) {
      kernels::adam_step(
          p + b, g + b, a_.get() + b, b_.get() + b, e - b,
          {o.beta1, o.beta2, o.eps, decays ? o.weight_decay : 0.f, float(o.lr / bc1), float(1 / std::sqrt(bc2))}, s);
    });
  }

  /// Copies the device state into the optimizer's vectors (nothing if it never stepped here).
  void pull(SGD& o, cudaStream_t s) const {
    if (owner_ == &o && started_) download(a_, o.momentum_buffer, s);
  }
  void pull(Adam& o, cudaStream_t s) const {
    if (owner_ == &o) download(a_, o.exp_avg, s), download(b_, o.exp_avg_sq, s);
  }
  /// Forgets the device state: the next step starts from the optimizer's own vectors.
  void reset() { owner_ = nullptr; }

 private:
  // Takes the optimizer's host state (empty = fresh: zeros) onto the device; b only for Adam.
  void adopt(const void* owner, const std::vector<float>& a, const std::vector<float>* b, std::size_t n,
             cudaStream_t s) {
    for (const auto* v : {&a, b})
      if (v && !v->empty() && v->size() != n)
        throw Error("cuda backend: optimizer state holds " + std::to_string(v->size()) + " values, the model has " +
                    std::to_string(n) + " parameters");
    a_ = DeviceBuffer<float>(n), b_ = DeviceBuffer<float>(b ? n : 0);
    upload(a, a_, s);
    if (b) upload(*b, b_, s);
    owner_ = owner;
  }
  static void upload(const std::vector<float>& v, DeviceBuffer<float>& d, cudaStream_t s) {
    if (d.size() == 0) return;
    if (v.empty())
      CTNN_CUDA_CHECK(cudaMemsetAsync(d.get(), 0, d.size() * sizeof(float), s));
    else
      CTNN_CUDA_CHECK(cudaMemcpyAsync(d.get(), v.data(), d.size() * sizeof(float), cudaMemcpyHostToDevice, s));
  }
  static void download(const DeviceBuffer<float>& d, std::vector<float>& v, cudaStream_t s) {
    v.resize(d.size());
    if (v.empty()) return;
    CTNN_CUDA_CHECK(cudaMemcpyAsync(v.data(), d.get(), d.size() * sizeof(float), cudaMemcpyDeviceToHost, s));
    CTNN_CUDA_CHECK(cudaStreamSynchronize(s));
  }

  DeviceBuffer<float> a_, b_;  ///< SGD: momentum buffer (b_ unused); Adam: exp_avg, exp_avg_sq
  const void* owner_ = nullptr;
  bool started_ = false;  ///< SGD: the momentum buffer holds values (PyTorch's "first step" rule)
};

}  // namespace ctnn::gpu
