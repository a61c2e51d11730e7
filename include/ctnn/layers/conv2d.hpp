#pragma once
// Conv2d<in_channels, out_channels, kernel_size, stride, padding, bias, groups>: 2-D
// cross-correlation, square kernels, PyTorch's torch.nn.Conv2d semantics and default initialisation.
// groups = G splits the channels into G independent convolutions (in/G → out/G channels each;
// depthwise: G = in_channels); the weight is then out_channels × in_channels/G × kernel × kernel.
//   input  N × in_channels × H × W
//   output N × out_channels × ((H + 2·padding − kernel)/stride + 1) × (same for W)
//   weight out_channels × in_channels × kernel × kernel (OIHW), bias out_channels
// Forward:  y[n,o,i,j] = b[o] + Σ_{c,p,q} w[o,c,p,q] · x[n,g·in/G+c,i·s+p−pad, j·s+q−pad] (zero
//           outside; g = o / (out/G) the group of o, c < in/G)
// Backward: dx = transposed correlation of dy with w; dw[o,c,p,q] = Σ_{n,i,j} dy[n,o,i,j]·x[...];
//           db[o] = Σ_{n,i,j} dy[n,o,i,j].
#include <array>

#include "ctnn/layers/param.hpp"
#include "ctnn/shape.hpp"

namespace ctnn {

template <int InChannels, int OutChannels, int KernelSize, int Stride = 1, int Padding = 0, bool Bias = true,
          int Groups = 1>
struct Conv2d {
  static_assert(InChannels > 0 && OutChannels > 0 && KernelSize > 0 && Stride > 0 && Padding >= 0,
                "Conv2d: channels, kernel and stride must be positive, padding non-negative");
  static_assert(Groups > 0 && InChannels % Groups == 0 && OutChannels % Groups == 0,
                "Conv2d: groups must divide in_channels and out_channels");
  static constexpr const char* name = "Conv2d";
  static constexpr int in_channels = InChannels, out_channels = OutChannels, kernel_size = KernelSize, stride = Stride,
                       padding = Padding, groups = Groups;
  static constexpr int group_in = InChannels / Groups;  ///< input channels each output channel sees
  static constexpr bool bias = Bias;

  /// The input this layer needs: in_channels channels and a padded image at least as large as the kernel.
  template <class In>
  static constexpr bool accepts =
      In::c == InChannels&& In::h + 2 * Padding >= KernelSize&& In::w + 2 * Padding >= KernelSize;
  template <class In>
  using expected_input = Shape<InChannels, (In::h + 2 * Padding >= KernelSize ? In::h : KernelSize - 2 * Padding),
                               (In::w + 2 * Padding >= KernelSize ? In::w : KernelSize - 2 * Padding)>;
  template <class In>
  using output_shape = Shape<OutChannels, (In::h + 2 * Padding - KernelSize) / Stride + 1,
                             (In::w + 2 * Padding - KernelSize) / Stride + 1>;

  static constexpr int fan_in = InChannels / Groups * KernelSize * KernelSize;
  template <class In>
  static constexpr auto params() {
    if constexpr (Bias)
      return std::array{ParamSpec{"weight",
                                  {OutChannels, InChannels / Groups, KernelSize, KernelSize},
                                  4,
                                  true,
                                  Init::fan_in_uniform,
                                  fan_in},
                        ParamSpec{"bias", {OutChannels, 0, 0, 0}, 1, true, Init::fan_in_uniform, fan_in}};
    else
      return std::array{ParamSpec{
          "weight", {OutChannels, InChannels / Groups, KernelSize, KernelSize}, 4, true, Init::fan_in_uniform, fan_in}};
  }
  /// Multiply-adds of the forward pass for one sample (for GFLOP/s reports).
  template <class In>
  static constexpr double macs = double(output_shape<In>::size) * fan_in;
};

}  // namespace ctnn
