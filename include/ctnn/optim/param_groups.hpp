#pragma once
// Which parameters weight decay applies to — PyTorch's usual two param groups
//   [{"params": conv/linear weights, "weight_decay": wd}, {"params": biases, BatchNorm weight/bias, "weight_decay": 0}]
// over Model's one flat parameter arena. The decision comes from the layers' own descriptions
// (ParamSpec, via Model::named_tensors(): NamedTensor::decay): a trainable tensor of rank >= 2 is
// a weight matrix or filter bank (Conv2d, Linear) and decays; rank-1 tensors (every bias,
// BatchNorm's weight and bias) do not. No layer or tensor name is compared.
//
// SGD and Adam hold the exempt ranges (`no_decay`, sorted, disjoint offsets into the arena);
// empty means every parameter decays (torch.optim with one param group: the default).
#include <cstddef>
#include <span>
#include <vector>

namespace ctnn {

/// [begin, end) offsets into the parameter arena.
struct ParamRange {
  std::size_t begin = 0, end = 0;
  friend bool operator==(const ParamRange&, const ParamRange&) = default;
};

/// Calls f(begin, end, decays) for the runs of [0, n) that `no_decay` (sorted, disjoint) splits it into.
template <class F>
void for_each_decay_run(std::size_t n, std::span<const ParamRange> no_decay, F&& f) {
  std::size_t at = 0;
  for (const ParamRange& r : no_decay) {
    const std::size_t b = r.begin < n ? r.begin : n, e = r.end < n ? r.end : n;
    if (b > at) f(at, b, true);
    if (e > b) f(b, e, false);
    at = e > at ? e : at;
  }
  if (at < n) f(at, n, true);
}

/// The arena ranges of the parameters that do not decay (biases, BatchNorm's affine parameters),
/// from the model's description; adjacent ranges are merged.
template <class M>
std::vector<ParamRange> no_decay_ranges(M& model) {
  std::vector<ParamRange> out;
  std::size_t at = 0;
  for (const auto& t : model.named_tensors()) {
    if (!t.trainable) continue;
    const std::size_t n = t.data.size();
    if (!t.decay) {
      if (!out.empty() && out.back().end == at)
        out.back().end = at + n;
      else
        out.push_back({at, at + n});
    }
    at += n;
  }
  return out;
}

}  // namespace ctnn
