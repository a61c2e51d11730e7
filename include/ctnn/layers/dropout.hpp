#pragma once
// Dropout (Srivastava et al. 2014), "inverted" as in torch.nn.Dropout: in training each value is
// zeroed with probability p and the survivors are scaled by 1/(1−p), so evaluation is the identity.
//   DropoutP<0.3_r> for another p (an exact Ratio, ctnn/ratio.hpp); Dropout = DropoutP<0.5_r>
//   (PyTorch's default).
// Backward: dx = dy · mask/(1−p) with the mask of the forward pass.
#include "ctnn/layers/activation.hpp"
#include "ctnn/ratio.hpp"

namespace ctnn {

template <Ratio P>
struct DropoutP : ShapePreserving {
  static_assert(P.num >= 0 && P.num < P.den, "Dropout: p must be in [0, 1)");
  static constexpr const char* name = "Dropout";
  static constexpr float p = P;
};

using Dropout = DropoutP<0.5_r>;

}  // namespace ctnn
