#pragma once
// Element-wise activations, shape-preserving, no parameters.
//   ReLU:    y = max(x, 0);            dx = dy · [x > 0]         (torch.nn.ReLU)
//   Sigmoid: y = 1/(1 + e^{−x});       dx = dy · y · (1 − y)     (torch.nn.Sigmoid)
#include <type_traits>

#include "ctnn/layers/param.hpp"

namespace ctnn {

/// Shape rule shared by every layer that maps any shape to itself and has no parameters.
struct ShapePreserving {
  template <class In>
  static constexpr bool accepts = true;
  template <class In>
  using expected_input = In;
  template <class In>
  using output_shape = In;
  template <class In>
  static constexpr auto params() {
    return std::array<ParamSpec, 0>{};
  }
};

struct ReLU : ShapePreserving {
  static constexpr const char* name = "ReLU";
};

struct Sigmoid : ShapePreserving {
  static constexpr const char* name = "Sigmoid";
};

/// Layer-kind traits: what Model and the backends test instead of comparing names.
template <class L>
inline constexpr bool is_relu_v = std::is_same_v<L, ReLU>;

}  // namespace ctnn
