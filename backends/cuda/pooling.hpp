#pragma once
// AvgPool2d, AdaptiveAvgPool2d<1> and AdaptiveMaxPool2d<1> with the backend's own kernels
// (contracts in ctnn/layers/avgpool2d.hpp and adaptive_pool2d.hpp): gathers in a fixed order, so
// results are deterministic, and the global maximum keeps the first arg-max on ties as the
// reference does.
#include "backends/cuda/context.hpp"
#include "backends/cuda/kernels.hpp"
#include "ctnn/layers/adaptive_pool2d.hpp"
#include "ctnn/layers/avgpool2d.hpp"

namespace ctnn {

template <int K, int S, int P, class In>
struct Impl<AvgPool2d<K, S, P>, In, cuda> {
  using Out = typename AvgPool2d<K, S, P>::template output_shape<In>;
  gpu::Tensor y, dx;
  int planes = 0;

  void setup(Context<cuda>&, int n, const gpu::Tensor&, Bound, Links) {
    planes = n * In::c;
    y.resize(n, In::c, Out::h, Out::w), dx.resize(n, In::c, In::h, In::w);
  }
  const gpu::Tensor& output() const { return y; }

  const gpu::Tensor& forward(Context<cuda>& ctx, const gpu::Tensor& x) {
    gpu::kernels::avgpool_forward(x.data, y.data, planes, In::h, In::w, Out::h, Out::w, K, S, P, ctx.stream());
    return y;
  }
  const gpu::Tensor& backward(Context<cuda>& ctx, const gpu::Tensor&, const gpu::Tensor& dy, bool need_dx) {
    if (need_dx)
      gpu::kernels::avgpool_backward(dy.data, dx.data, planes, In::h, In::w, Out::h, Out::w, K, S, P, ctx.stream());
    return dx;
  }
};

template <int O, class In>
struct Impl<AdaptiveAvgPool2d<O>, In, cuda> {
  static constexpr int HW = In::h * In::w;
  gpu::Tensor y, dx;
  int planes = 0;

  void setup(Context<cuda>&, int n, const gpu::Tensor&, Bound, Links) {
    planes = n * In::c;
    y.resize(n, In::c, 1, 1), dx.resize(n, In::c, In::h, In::w);
  }
  const gpu::Tensor& output() const { return y; }

  const gpu::Tensor& forward(Context<cuda>& ctx, const gpu::Tensor& x) {
    gpu::kernels::global_avgpool_forward(x.data, y.data, planes, HW, ctx.stream());
    return y;
  }
  const gpu::Tensor& backward(Context<cuda>& ctx, const gpu::Tensor&, const gpu::Tensor& dy, bool need_dx) {
    if (need_dx) gpu::kernels::global_avgpool_backward(dy.data, dx.data, planes, HW, ctx.stream());
    return dx;
  }
};

template <int O, class In>
struct Impl<AdaptiveMaxPool2d<O>, In, cuda> {
  static constexpr int HW = In::h * In::w;
  gpu::Tensor y, dx;
  gpu::DeviceBuffer<int> argmax;
  int planes = 0;

  void setup(Context<cuda>&, int n, const gpu::Tensor&, Bound, Links) {
    planes = n * In::c;
    y.resize(n, In::c, 1, 1), dx.resize(n, In::c, In::h, In::w);
    argmax = gpu::DeviceBuffer<int>(y.size());
  }
  const gpu::Tensor& output() const { return y; }

  const gpu::Tensor& forward(Context<cuda>& ctx, const gpu::Tensor& x) {
    gpu::kernels::global_maxpool_forward(x.data, y.data, argmax.get(), planes, HW, ctx.stream());
    return y;
  }
  const gpu::Tensor& backward(Context<cuda>& ctx, const gpu::Tensor&, const gpu::Tensor& dy, bool need_dx) {
    if (need_dx) gpu::kernels::global_maxpool_backward(dy.data, argmax.get(), dx.data, planes, HW, ctx.stream());
    return dx;
  }
};

}  // namespace ctnn
