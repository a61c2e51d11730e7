#pragma once
// Shape<C, H, W>: the compile-time shape of one sample (the batch dimension N is a run-time value).
// A flat feature vector of F values is Shape<F, 1, 1>, so a Linear layer after Flatten and after
// another Linear sees the same kind of shape. Public order is PyTorch's NCHW.
#include <cstddef>
#include <string>

namespace ctnn {

template <int C, int H = 1, int W = 1>
struct Shape {
  static constexpr int c = C, h = H, w = W;
  static constexpr std::size_t size = std::size_t(C) * H * W;  ///< values per sample
  static constexpr bool flat = (H == 1 && W == 1);
};

/// "[-1, 96, 32, 32]" as torchsummary prints it; flat shapes print as "[-1, 128]".
template <class S>
std::string shape_string() {
  std::string s = "[-1, " + std::to_string(S::c);
  if (!S::flat) s += ", " + std::to_string(S::h) + ", " + std::to_string(S::w);
  return s + "]";
}

}  // namespace ctnn
