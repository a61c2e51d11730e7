#pragma once
// Linear<in_features, out_features, bias>: y = x·Wᵀ + b, PyTorch's torch.nn.Linear.
//   input  N × in_features (a Shape<C,H,W> with C·H·W = in_features is accepted only when it is
//          flat; put Flatten in front of it after convolutions, as PyTorch does)
//   output N × out_features;  weight out_features × in_features, bias out_features
// Backward: dx = dy·W, dW = dyᵀ·x, db = Σ_n dy.  Initialisation: U(±1/√in_features) for both.
#include <array>

#include "ctnn/layers/param.hpp"
#include "ctnn/shape.hpp"

namespace ctnn {

template <int InFeatures, int OutFeatures, bool Bias = true>
struct Linear {
  static_assert(InFeatures > 0 && OutFeatures > 0, "Linear: features must be positive");
  static constexpr const char* name = "Linear";
  static constexpr int in_features = InFeatures, out_features = OutFeatures;
  static constexpr bool bias = Bias;

  template <class In>
  static constexpr bool accepts = In::flat&& In::c == InFeatures;
  template <class In>
  using expected_input = Shape<InFeatures>;
  template <class In>
  using output_shape = Shape<OutFeatures>;

  template <class In>
  static constexpr auto params() {
    if constexpr (Bias)
      return std::array{ParamSpec{"weight", {OutFeatures, InFeatures, 0, 0}, 2, true, Init::fan_in_uniform, InFeatures},
                        ParamSpec{"bias", {OutFeatures, 0, 0, 0}, 1, true, Init::fan_in_uniform, InFeatures}};
    else
      return std::array{
          ParamSpec{"weight", {OutFeatures, InFeatures, 0, 0}, 2, true, Init::fan_in_uniform, InFeatures}};
  }
  template <class In>
  static constexpr double macs = double(InFeatures) * OutFeatures;
};

}  // namespace ctnn
