#pragma once
// MaxPool2d with the backend's own kernels (contract in ctnn/layers/maxpool2d.hpp): cuDNN's
// pooling does not say which element of a tied window wins, these kernels keep the first, as the
// reference and PyTorch's CPU kernel do, and route the gradient through the same arg-max.
#include "backends/cuda/context.hpp"
#include "backends/cuda/kernels.hpp"
#include "ctnn/layers/maxpool2d.hpp"

namespace ctnn {

template <int K, int S, class In>
struct Impl<MaxPool2d<K, S>, In, cuda> {
  using Out = typename MaxPool2d<K, S>::template output_shape<In>;
  gpu::Tensor y, dx;
  gpu::DeviceBuffer<int> argmax;
  int planes = 0;

  void setup(Context<cuda>&, int n, const gpu::Tensor&, Bound, Links) {
    planes = n * In::c;
    y.resize(n, In::c, Out::h, Out::w), dx.resize(n, In::c, In::h, In::w);
    argmax = gpu::DeviceBuffer<int>(y.size());
  }
  const gpu::Tensor& output() const { return y; }

  const gpu::Tensor& forward(Context<cuda>& ctx, const gpu::Tensor& x) {
    gpu::kernels::maxpool_forward(x.data, y.data, argmax.get(), planes, In::h, In::w, Out::h, Out::w, K, S,
                                  ctx.stream());
    return y;
  }

  const gpu::Tensor& backward(Context<cuda>& ctx, const gpu::Tensor&, const gpu::Tensor& dy, bool need_dx) {
    if (need_dx)
      gpu::kernels::maxpool_backward(dy.data, argmax.get(), dx.data, planes, In::h, In::w, Out::h, Out::w, K, S,
                                     ctx.stream());
    return dx;
  }
};

}  // namespace ctnn
