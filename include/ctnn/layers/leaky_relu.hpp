#pragma once
// LeakyReLU<negative_slope = 0.01_r>: y = x for x > 0, else slope·x;
// dx = dy for x > 0, else slope·dy (torch.nn.LeakyReLU(negative_slope), the same rule at x = 0).
// The slope is an exact Ratio (ctnn/ratio.hpp): LeakyReLU<0.2_r>. Shape-preserving, no parameters.
#include <type_traits>

#include "ctnn/layers/activation.hpp"
#include "ctnn/ratio.hpp"

namespace ctnn {

template <Ratio Slope = 0.01_r>
struct LeakyReLU : ShapePreserving {
  static constexpr const char* name = "LeakyReLU";
  static constexpr Ratio slope_ratio = Slope;
  static constexpr float negative_slope = Slope;
};

/// Layer-kind trait.
template <class L>
inline constexpr bool is_leaky_relu_v = false;
template <Ratio S>
inline constexpr bool is_leaky_relu_v<LeakyReLU<S>> = true;

}  // namespace ctnn
