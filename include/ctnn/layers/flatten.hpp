#pragma once
// Flatten: N × C × H × W → N × (C·H·W), row-major (torch.flatten(x, 1)). No parameters.
// Backends may keep the data where it is: only the shape's interpretation changes.
#include <type_traits>

#include "ctnn/layers/param.hpp"
#include "ctnn/shape.hpp"

namespace ctnn {

struct Flatten {
  static constexpr const char* name = "Flatten";
  template <class In>
  static constexpr bool accepts = true;
  template <class In>
  using expected_input = In;
  template <class In>
  using output_shape = Shape<int(In::size)>;
  template <class In>
  static constexpr auto params() {
    return std::array<ParamSpec, 0>{};
  }
};

/// Layer-kind trait.
template <class L>
inline constexpr bool is_flatten_v = std::is_same_v<L, Flatten>;

}  // namespace ctnn
