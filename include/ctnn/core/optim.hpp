#pragma once
// The per-element updates of torch.optim.SGD and torch.optim.Adam, for the host loops of
// ctnn/optim/*.hpp and the device kernels alike. Plain float operations in a fixed order: built
// without FMA contraction (the host default on x86-64; --fmad=false for the kernels), host and
// device give the same bits.
#include <cmath>

#include "ctnn/core/host_device.hpp"

namespace ctnn::core {

struct SgdArgs {
  float lr, momentum, dampening, weight_decay;
  bool nesterov, first;  ///< first: the momentum buffer holds nothing yet (PyTorch's first step)
};

/// g ← g + wd·p; b ← g (first) or μ·b + (1 − dampening)·g; g ← g + μ·b (Nesterov) or b; p ← p − lr·g.
CTNN_HOST_DEVICE inline void sgd_update(float& p, float g, float* buf, const SgdArgs& a) {
  float d = g + a.weight_decay * p;
  if (a.momentum != 0.f) {
    *buf = a.first ? d : a.momentum * *buf + (1.f - a.dampening) * d;
    d = a.nesterov ? d + a.momentum * *buf : *buf;
  }
  p -= a.lr * d;
}

struct AdamArgs {
  float beta1, beta2, eps, weight_decay;
  float step_size;  ///< lr / (1 − β1^t)
  float rbc2;       ///< 1 / √(1 − β2^t)
};

/// g ← g + wd·p; m ← β1·m + (1 − β1)·g; v ← β2·v + (1 − β2)·g²; p ← p − step_size·m / (√v·rbc2 + eps).
CTNN_HOST_DEVICE inline void adam_update(float& p, float g, float& m, float& v, const AdamArgs& a) {
  const float d = g + a.weight_decay * p;
  m = a.beta1 * m + (1.f - a.beta1) * d;
  v = a.beta2 * v + (1.f - a.beta2) * d * d;
  p -= a.step_size * m / (sqrtf(v) * a.rbc2 + a.eps);
}

}  // namespace ctnn::core
