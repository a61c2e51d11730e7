#pragma once
// Global pooling: AdaptiveAvgPool2d<1> and AdaptiveMaxPool2d<1> — torch.nn.AdaptiveAvgPool2d(1)
// and torch.nn.AdaptiveMaxPool2d(1): one value per channel, the mean (or maximum) of its H×W plane.
//   input N × C × H × W → output N × C × 1 × 1 (a Flatten after it gives N × C)
// Backward: avg spreads dy/(H·W) over the plane; max routes dy to the arg-max (the first one on
// ties, as PyTorch's CPU kernel). Only output size 1 is implemented (other sizes static_assert).
// On an input that is already 1×1 both are the identity.
#include <type_traits>

#include "ctnn/layers/param.hpp"
#include "ctnn/shape.hpp"

namespace ctnn {

/// Shape rule of the global pools: any C×H×W → C×1×1.
template <int OutputSize>
struct GlobalPool2d {
  static_assert(OutputSize == 1,
                "AdaptiveAvgPool2d/AdaptiveMaxPool2d: only output size 1 (global pooling) is implemented");
  static constexpr int output_size = OutputSize;
  template <class In>
  static constexpr bool accepts = true;
  template <class In>
  using expected_input = In;
  template <class In>
  using output_shape = Shape<In::c, 1, 1>;
  template <class In>
  static constexpr auto params() {
    return std::array<ParamSpec, 0>{};
  }
};

template <int OutputSize>
struct AdaptiveAvgPool2d : GlobalPool2d<OutputSize> {
  static constexpr const char* name = "AdaptiveAvgPool2d";
};

template <int OutputSize>
struct AdaptiveMaxPool2d : GlobalPool2d<OutputSize> {
  static constexpr const char* name = "AdaptiveMaxPool2d";
};

/// Layer-kind traits.
template <class L>
inline constexpr bool is_adaptive_avgpool2d_v = false;
template <int O>
inline constexpr bool is_adaptive_avgpool2d_v<AdaptiveAvgPool2d<O>> = true;
template <class L>
inline constexpr bool is_adaptive_maxpool2d_v = false;
template <int O>
inline constexpr bool is_adaptive_maxpool2d_v<AdaptiveMaxPool2d<O>> = true;

}  // namespace ctnn
