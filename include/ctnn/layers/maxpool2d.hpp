#pragma once
// MaxPool2d<kernel_size, stride>: max over kernel×kernel windows, no padding, floor mode —
// torch.nn.MaxPool2d(kernel, stride). Windows may overlap (stride < kernel).
//   input N × C × H × W → output N × C × ((H − k)/s + 1) × ((W − k)/s + 1)
// Backward routes dy to the arg-max of each window (the first one on ties, as PyTorch's CPU
// kernel); overlapping windows add their contributions.
#include "ctnn/layers/param.hpp"
#include "ctnn/shape.hpp"

namespace ctnn {

template <int KernelSize, int Stride = KernelSize>
struct MaxPool2d {
  static_assert(KernelSize > 0 && Stride > 0, "MaxPool2d: kernel and stride must be positive");
  static constexpr const char* name = "MaxPool2d";
  static constexpr int kernel_size = KernelSize, stride = Stride;

  template <class In>
  static constexpr bool accepts = !In::flat && In::h >= KernelSize && In::w >= KernelSize;
  template <class In>
  using expected_input =
      Shape<In::c, (In::h >= KernelSize ? In::h : KernelSize), (In::w >= KernelSize ? In::w : KernelSize)>;
  template <class In>
  using output_shape = Shape<In::c, (In::h - KernelSize) / Stride + 1, (In::w - KernelSize) / Stride + 1>;
  template <class In>
  static constexpr auto params() {
    return std::array<ParamSpec, 0>{};
  }
};

}  // namespace ctnn
