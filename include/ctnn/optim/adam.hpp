#pragma once
// Adam (Kingma & Ba 2015) exactly as torch.optim.Adam (amsgrad off):
//   g ← g + weight_decay·p;  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
//   p ← p − lr/(1−β1^t) · m / (√v/√(1−β2^t) + eps)
// The element update is core::adam_update, which the CUDA kernel runs too; the bias corrections
// are computed here in double. `no_decay` (optim/param_groups.hpp) exempts arena ranges from
// weight decay: PyTorch's second param group with weight_decay 0.
#include <cmath>
#include <span>
#include <vector>

#include "ctnn/core/optim.hpp"
#include "ctnn/optim/param_groups.hpp"

namespace ctnn {

struct Adam {
  float lr, beta1, beta2, eps, weight_decay;
  long long t = 0;  ///< steps taken (checkpointed)
  std::vector<float> exp_avg, exp_avg_sq;
  std::vector<ParamRange> no_decay;  ///< arena ranges without weight decay (empty: all decay)

  explicit Adam(float lr_ = 1e-3f, float beta1_ = 0.9f, float beta2_ = 0.999f, float eps_ = 1e-8f,
                float weight_decay_ = 0.f)
      : lr(lr_), beta1(beta1_), beta2(beta2_), eps(eps_), weight_decay(weight_decay_) {}

  void step(std::span<float> params, std::span<const float> grads) {
    const std::size_t n = params.size();
    if (exp_avg.empty()) exp_avg.assign(n, 0.f), exp_avg_sq.assign(n, 0.f);
    ++t;
    const double bc1 = 1 - std::pow(double(beta1), double(t)), bc2 = 1 - std::pow(double(beta2), double(t));
    for_each_decay_run(n, no_decay, [&](std::size_t b, std::size_t e, bool decays) {
      const core::AdamArgs a{
          beta1, beta2, eps, decays ? weight_decay : 0.f, float(lr / bc1), float(1 / std::sqrt(bc2))};
      for (std::size_t i = b; i < e; ++i) core::adam_update(params[i], grads[i], exp_avg[i], exp_avg_sq[i], a);
    });
  }
};

}  // namespace ctnn
