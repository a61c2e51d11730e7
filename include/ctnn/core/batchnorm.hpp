#pragma once
// BatchNorm's running statistics, torch.nn.BatchNorm*d's rule: running = (1 − momentum)·running
// + momentum·batch, with the UNBIASED batch variance (σ²·m/(m − 1), m values per channel) for
// running_var. In double, rounded once. (cuDNN applies the same rule inside its own call.)
#include "ctnn/core/host_device.hpp"

namespace ctnn::core {

CTNN_HOST_DEVICE inline void batchnorm_running_update(float& running_mean, float& running_var, double batch_mean,
                                                      double batch_var_biased, double m, double momentum) {
  running_mean = float((1 - momentum) * running_mean + momentum * batch_mean);
  running_var = float((1 - momentum) * running_var + momentum * batch_var_biased * m / (m - 1));
}

}  // namespace ctnn::core
