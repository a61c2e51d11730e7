#pragma once
// Flatten: nothing moves (NCHW rows are already the flat features); forward hands its input on
// and backward its gradient. output() is a flat view, for the next layer's setup.
#include "backends/cuda/context.hpp"
#include "ctnn/layers/flatten.hpp"

namespace ctnn {

template <class In>
struct Impl<Flatten, In, cuda> {
  gpu::Tensor view;
  void setup(Context<cuda>&, int n, const gpu::Tensor& x, Bound, Links) {
    view = gpu::Tensor::view(x.data, n, int(In::size), 1, 1);
  }
  const gpu::Tensor& output() const { return view; }
  const gpu::Tensor& forward(Context<cuda>&, const gpu::Tensor& x) { return x; }
  const gpu::Tensor& backward(Context<cuda>&, const gpu::Tensor&, const gpu::Tensor& dy, bool) { return dy; }
};

}  // namespace ctnn
