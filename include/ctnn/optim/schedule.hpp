#pragma once
// Learning-rate schedules, as in torch.optim.lr_scheduler.
// Per epoch:
//   ConstantLR-like: lr(e) = base                         (no milestones)
//   MultiStepLR:     lr(e) = base · gamma^(number of milestones ≤ e)
// Per optimizer step:
//   OneCycleLR:      torch.optim.lr_scheduler.OneCycleLR(three_phase=False, cycle_momentum=False):
//                    warmup from max_lr/div_factor to max_lr over the first pct_start of the steps,
//                    then annealing ('cos' or 'linear') to max_lr/(div_factor·final_div_factor).
#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "ctnn/error.hpp"

namespace ctnn {

struct MultiStepLR {
  std::vector<int> milestones;  ///< epochs (0-based within the stage) at which lr is multiplied by gamma
  float gamma = 0.1f;
  /// Learning rate for epoch `epoch` (0-based) given the base rate.
  float lr(float base, int epoch) const {
    const auto k = std::count_if(milestones.begin(), milestones.end(), [&](int m) { return m <= epoch; });
    return base * std::pow(gamma, float(k));
  }
};

/// OneCycleLR's formula, as torch 1.13 computes it (in double):
///   phase 1: steps 0 .. pct_start·total_steps − 1, initial_lr → max_lr
///   phase 2: up to total_steps − 1,                max_lr → min_lr
///   pct = (step − phase start) / (phase end − phase start);
///   cos: end + (start − end)/2 · (cos(π·pct) + 1);   linear: start + (end − start)·pct
/// with initial_lr = max_lr/div_factor and min_lr = initial_lr/final_div_factor. Steps past the
/// last (PyTorch raises there) keep the last step's rate.
struct OneCycleLR {
  enum class Anneal { cos, linear };
  long total_steps = 0;
  double max_lr = 0.1;
  double pct_start = 0.3;
  Anneal anneal = Anneal::cos;
  double div_factor = 25, final_div_factor = 1e4;

  void check() const {
    if (total_steps < 1 || !(max_lr > 0) || !(pct_start >= 0 && pct_start <= 1) || !(div_factor > 0) ||
        !(final_div_factor > 0))
      throw Error("OneCycleLR: need total_steps >= 1, max_lr > 0, pct_start in [0, 1], div factors > 0 (total_steps " +
                  std::to_string(total_steps) + ")");
  }
  /// The learning rate of optimizer step `step` (0-based).
  double lr(long step) const {
    if (step >= total_steps) step = total_steps - 1;
    if (step < 0) step = 0;
    const double initial = max_lr / div_factor, min_lr = initial / final_div_factor;
    const double end1 = double(pct_start * double(total_steps)) - 1, end2 = double(total_steps - 1);
    const double x = double(step);
    double start_step = 0, end_step = end1, from = initial, to = max_lr;
    if (!(x <= end1)) start_step = end1, end_step = end2, from = max_lr, to = min_lr;
    const double pct = (x - start_step) / (end_step - start_step);
    if (anneal == Anneal::cos) return to + (from - to) / 2.0 * (std::cos(std::numbers::pi * pct) + 1);
    return (to - from) * pct + from;
  }
};

}  // namespace ctnn
