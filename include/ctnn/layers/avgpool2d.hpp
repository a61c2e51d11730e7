#pragma once
// AvgPool2d<kernel_size, stride = kernel_size, padding = 0>: mean over kernel×kernel windows —
// torch.nn.AvgPool2d(kernel, stride, padding) with PyTorch's defaults ceil_mode=False and
// count_include_pad=True: the zero padding counts, so every window divides by kernel².
//   input N × C × H × W → output N × C × ((H + 2p − k)/s + 1) × ((W + 2p − k)/s + 1)  (floor)
// Backward: each window adds dy/kernel² to every input it covers (padding drops out).
// PyTorch requires padding ≤ kernel/2; so does this (static_assert).
#include <type_traits>

#include "ctnn/layers/param.hpp"
#include "ctnn/shape.hpp"

namespace ctnn {

template <int KernelSize, int Stride = KernelSize, int Padding = 0>
struct AvgPool2d {
  static_assert(KernelSize > 0 && Stride > 0, "AvgPool2d: kernel and stride must be positive");
  static_assert(Padding >= 0 && 2 * Padding <= KernelSize,
                "AvgPool2d: padding must be between 0 and half the kernel size (as in PyTorch)");
  static constexpr const char* name = "AvgPool2d";
  static constexpr int kernel_size = KernelSize, stride = Stride, padding = Padding;

  template <class In>
  static constexpr bool accepts = !In::flat && In::h + 2 * Padding >= KernelSize && In::w + 2 * Padding >= KernelSize;
  template <class In>
  using expected_input = Shape<In::c, (In::h + 2 * Padding >= KernelSize ? In::h : KernelSize - 2 * Padding),
                               (In::w + 2 * Padding >= KernelSize ? In::w : KernelSize - 2 * Padding)>;
  template <class In>
  using output_shape =
      Shape<In::c, (In::h + 2 * Padding - KernelSize) / Stride + 1, (In::w + 2 * Padding - KernelSize) / Stride + 1>;
  template <class In>
  static constexpr auto params() {
    return std::array<ParamSpec, 0>{};
  }
};

/// Layer-kind trait.
template <class L>
inline constexpr bool is_avgpool2d_v = false;
template <int K, int S, int P>
inline constexpr bool is_avgpool2d_v<AvgPool2d<K, S, P>> = true;

}  // namespace ctnn
