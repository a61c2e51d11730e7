#pragma once
// ParamSpec: how a layer declares one of its tensors (parameter or buffer) — name, shape, and how
// it is initialised. Model lays all parameters out in one arena in declaration order, which is
// PyTorch's state_dict order, so checkpoints and optimizers see one flat span.
#include <array>
#include <cstddef>

namespace ctnn {

enum class Init {
  fan_in_uniform,  ///< U(-1/sqrt(fan_in), 1/sqrt(fan_in)): PyTorch's kaiming_uniform_(a=sqrt(5)) and its bias rule
  ones,
  zeros,
};

struct ParamSpec {
  const char* name;          ///< PyTorch attribute name: "weight", "bias", "running_mean", ...
  std::array<int, 4> shape;  ///< PyTorch shape, unused trailing dims are 0
  int rank;
  bool trainable;  ///< false for buffers (running statistics)
  Init init;
  int fan_in = 0;  ///< for fan_in_uniform
  constexpr std::size_t numel() const {
    std::size_t n = 1;
    for (int i = 0; i < rank; ++i) n *= std::size_t(shape[i]);
    return n;
  }
};

}  // namespace ctnn
