#pragma once
// oneDNN Flatten: nothing moves. The activation keeps its 4-D descriptor and the next Linear
// reads it as N×C×H×W with O×C×H×W weights (see linear.hpp).
#include "backends/onednn/context.hpp"
#include "ctnn/layers/flatten.hpp"

namespace ctnn {

template <class In>
struct Impl<Flatten, In, cpu> {
  dnnl::memory y;
  void setup(Context<cpu>&, int, const dnnl::memory& x, Bound, Links) { y = x; }
  const dnnl::memory& output() const { return y; }
  const dnnl::memory& forward(Context<cpu>&, const dnnl::memory& x) { return x; }
  const dnnl::memory& backward(Context<cpu>&, const dnnl::memory&, const dnnl::memory& dy, bool) { return dy; }
};

}  // namespace ctnn
