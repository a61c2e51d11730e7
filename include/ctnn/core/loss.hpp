#pragma once
// One row of torch.nn.CrossEntropyLoss on logits, in double: loss = logsumexp(z) − z[t] with
// log-softmax as z − max(z) − log Σ exp(z − max(z)) (stable for any magnitude), the arg-max
// (first maximum), and optionally dz = (softmax(z) − onehot(t)) / n (n: the batch, for the mean).
// With label smoothing ε (torch's label_smoothing; K classes) the target is (1 − ε)·onehot(t) + ε/K:
//   loss = (1 − ε)·(lse − z[t]) + ε/K · Σ_k (lse − z[k]),   dz = (softmax(z) − target) / n.
// ε = 0 takes the plain formulas above (bit for bit what they were before smoothing existed).
#include <cmath>

#include "ctnn/core/host_device.hpp"

namespace ctnn::core {

struct CrossEntropyRow {
  double loss;
  int argmax;
};

CTNN_HOST_DEVICE inline CrossEntropyRow cross_entropy_row(const float* z, int classes, int t, float* dz, double n,
                                                          double smoothing = 0) {
  int arg = 0;
  for (int k = 1; k < classes; ++k)
    if (z[k] > z[arg]) arg = k;
  double sum = 0;
  for (int k = 0; k < classes; ++k) sum += exp(double(z[k]) - z[arg]);
  const double lse = z[arg] + log(sum);
  if (smoothing != 0) {
    const double on = 1 - smoothing, each = smoothing / classes;
    double all = 0;
    for (int k = 0; k < classes; ++k) all += lse - z[k];
    if (dz)
      for (int k = 0; k < classes; ++k) dz[k] = float((exp(double(z[k]) - lse) - ((k == t) * on + each)) / n);
    return {on * (lse - z[t]) + each * all, arg};
  }
  if (dz)
    for (int k = 0; k < classes; ++k) dz[k] = float((exp(double(z[k]) - lse) - (k == t)) / n);
  return {lse - z[t], arg};
}

}  // namespace ctnn::core
