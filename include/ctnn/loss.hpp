#pragma once
// CrossEntropyLoss: torch.nn.CrossEntropyLoss with mean reduction, on logits (not probabilities).
//   loss = 1/N Σ_n [ logsumexp(z_n) − z_n[t_n] ],   dz_n = (softmax(z_n) − onehot(t_n)) / N
// Each row is core::cross_entropy_row (double, stable for any magnitude), which the CUDA kernel
// runs too. label_smoothing ε is torch's: the target becomes (1 − ε)·onehot(t) + ε/classes,
//   loss = 1/N Σ_n [ (1 − ε)·(lse − z_n[t_n]) + ε/K · Σ_k (lse − z_n[k]) ],  dz_n = (softmax(z_n) − target_n) / N
#include <cmath>
#include <cstdint>
#include <span>
#include <string>

#include "ctnn/core/loss.hpp"
#include "ctnn/error.hpp"

namespace ctnn {

struct LossResult {
  double loss = 0;  ///< mean over the batch, nats
  int correct = 0;  ///< rows whose arg-max equals the target
};

struct CrossEntropyLoss {
  double label_smoothing = 0;  ///< in [0, 1]; 0 is the plain loss

  /// logits: n × classes; target: n class indices; dlogits (optional, n × classes) receives
  /// d(loss)/d(logits). Throws ctnn::Error on a target outside [0, classes) or a NaN/Inf loss.
  LossResult operator()(std::span<const float> logits, std::span<const std::int32_t> target, int classes,
                        std::span<float> dlogits = {}) const {
    const int n = int(target.size());
    if (n == 0 || logits.size() != std::size_t(n) * classes)
      throw Error("CrossEntropyLoss: " + std::to_string(logits.size()) + " logits for " + std::to_string(n) +
                  " targets and " + std::to_string(classes) + " classes");
    if (!(label_smoothing >= 0 && label_smoothing <= 1))
      throw Error("CrossEntropyLoss: label_smoothing must be in [0, 1], got " + std::to_string(label_smoothing));
    LossResult r;
    for (int b = 0; b < n; ++b) {
      const float* z = &logits[std::size_t(b) * classes];
      const int t = target[b];
      if (t < 0 || t >= classes)
        throw Error("CrossEntropyLoss: target " + std::to_string(t) + " of sample " + std::to_string(b) +
                    " outside [0, " + std::to_string(classes) + ")");
      const auto row = core::cross_entropy_row(
          z, classes, t, dlogits.empty() ? nullptr : &dlogits[std::size_t(b) * classes], n, label_smoothing);
      r.loss += row.loss;
      r.correct += row.argmax == t;
    }
    r.loss /= n;
    if (!std::isfinite(r.loss)) throw Error("CrossEntropyLoss: loss is " + std::to_string(r.loss) + " (NaN or Inf)");
    return r;
  }
};

}  // namespace ctnn
