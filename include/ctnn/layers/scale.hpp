#pragma once
// Scale<factor>: y = factor · x, dx = factor · dy, with a compile-time exact factor
// (ctnn/ratio.hpp): Scale<0.125_r>, Scale<Ratio{-3, 10}>. No parameters; PyTorch writes it as a
// tiny module (`lambda x: x * 0.125`, ResNet-9's final "Mul(0.125)"), computed in float32 with
// the factor rounded to float once, as here. Shape-preserving.
#include <type_traits>

#include "ctnn/layers/activation.hpp"
#include "ctnn/ratio.hpp"

namespace ctnn {

template <Ratio Factor>
struct Scale : ShapePreserving {
  static constexpr const char* name = "Scale";
  static constexpr Ratio factor_ratio = Factor;
  static constexpr float factor = Factor;
};

/// Layer-kind trait.
template <class L>
inline constexpr bool is_scale_v = false;
template <Ratio F>
inline constexpr bool is_scale_v<Scale<F>> = true;

}  // namespace ctnn
