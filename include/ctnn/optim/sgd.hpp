#pragma once
// SGD with momentum, dampening, Nesterov and weight decay — torch.optim.SGD's update rule
// (Sutskever et al. 2013 in PyTorch's formulation):
//   g ← g + weight_decay·p
//   b ← g on the first step, else momentum·b + (1 − dampening)·g
//   g ← g + momentum·b if nesterov, else b            (only when momentum ≠ 0)
//   p ← p − lr·g
// Works on Model's flat parameter and gradient arenas: one loop for the whole net; the element
// update is core::sgd_update, which the CUDA kernel runs too. `no_decay` (optim/param_groups.hpp)
// exempts arena ranges from weight decay: PyTorch's second param group with weight_decay 0.
#include <span>
#include <vector>

#include "ctnn/core/optim.hpp"
#include "ctnn/error.hpp"
#include "ctnn/optim/param_groups.hpp"

namespace ctnn {

struct SGD {
  float lr, momentum, dampening, weight_decay;
  bool nesterov;
  std::vector<float> momentum_buffer;  ///< empty until the first step (checkpointed)
  std::vector<ParamRange> no_decay;    ///< arena ranges without weight decay (empty: all decay)

  explicit SGD(float lr_, float momentum_ = 0.f, float dampening_ = 0.f, float weight_decay_ = 0.f,
               bool nesterov_ = false)
      : lr(lr_), momentum(momentum_), dampening(dampening_), weight_decay(weight_decay_), nesterov(nesterov_) {
    if (nesterov && (momentum <= 0 || dampening != 0))
      throw Error("SGD: nesterov needs momentum > 0 and dampening = 0 (as in PyTorch)");
  }

  void step(std::span<float> params, std::span<const float> grads) {
    const std::size_t n = params.size();
    const bool first = momentum_buffer.empty();
    if (momentum != 0 && first) momentum_buffer.resize(n);
    float* buf = momentum_buffer.data();
    for_each_decay_run(n, no_decay, [&](std::size_t b, std::size_t e, bool decays) {
      const core::SgdArgs a{lr, momentum, dampening, decays ? weight_decay : 0.f, nesterov, first};
      for (std::size_t i = b; i < e; ++i) core::sgd_update(params[i], grads[i], buf ? buf + i : nullptr, a);
    });
  }
};

}  // namespace ctnn
