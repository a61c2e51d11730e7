#pragma once
// GELU (Hendrycks & Gimpel 2016) in PyTorch's exact form, torch.nn.GELU() (approximate='none'):
//   y  = x · Φ(x),            Φ(x) = ½ (1 + erf(x/√2))
//   dx = dy · (Φ(x) + x · φ(x)),  φ(x) = e^{−x²/2} / √(2π)
// not the tanh approximation. Shape-preserving, no parameters.
#include <type_traits>

#include "ctnn/layers/activation.hpp"

namespace ctnn {

struct GELU : ShapePreserving {
  static constexpr const char* name = "GELU";
};

/// Layer-kind trait.
template <class L>
inline constexpr bool is_gelu_v = std::is_same_v<L, GELU>;

}  // namespace ctnn
