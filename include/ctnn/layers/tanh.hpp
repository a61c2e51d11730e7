#pragma once
// Tanh: y = tanh(x); dx = dy · (1 − y²), from the output as PyTorch's tanh_backward
// (torch.nn.Tanh). Shape-preserving, no parameters.
#include <type_traits>

#include "ctnn/layers/activation.hpp"

namespace ctnn {

struct Tanh : ShapePreserving {
  static constexpr const char* name = "Tanh";
};

/// Layer-kind trait.
template <class L>
inline constexpr bool is_tanh_v = std::is_same_v<L, Tanh>;

}  // namespace ctnn
