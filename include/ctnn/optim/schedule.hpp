#pragma once
// Learning-rate schedules, as in torch.optim.lr_scheduler, stepped once per epoch.
//   ConstantLR-like: lr(e) = base                         (no milestones)
//   MultiStepLR:     lr(e) = base · gamma^(number of milestones ≤ e)
#include <algorithm>
#include <cmath>
#include <vector>

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

}  // namespace ctnn
