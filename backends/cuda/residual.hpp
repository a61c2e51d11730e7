#pragma once
// CUDA Residual (contract in ctnn/residual.hpp): both branches as Chains of CUDA Impls; the sums
// y = body + skip and dx = d(body) + d(skip) are a device copy and cudnnAddTensor (NCHW float32
// throughout, so no layouts to reconcile).
#include <cuda_runtime_api.h>

#include "backends/cuda/context.hpp"
#include "backends/cuda/descriptors.hpp"
#include "ctnn/chain.hpp"
#include "ctnn/residual.hpp"

namespace ctnn {

template <class Body, class Projection, class In>
struct Impl<Residual<Body, Projection>, In, cuda> {
  using R = Residual<Body, Projection>;
  using Out = typename R::template output_shape<In>;
  static constexpr float one = 1.f;
  Chain<typename R::template body_nodes<In>, cuda> body;
  Chain<typename R::template skip_nodes<In>, cuda> skip;  // empty: the identity
  gpu::Tensor y, dx;
  gpu::TensorDesc yd, xd;

  void setup(Context<cuda>& ctx, int n, const gpu::Tensor& x, Bound b, Links l) {
    body.setup(ctx, n, x, b, 0, residual_layer_index(l.index, 0));
    skip.setup(ctx, n, x, b, body.num_specs, residual_layer_index(l.index, 1));
    y.resize(n, Out::c, Out::h, Out::w), dx.resize(n, In::c, In::h, In::w);
    yd.set(n, Out::c, Out::h, Out::w), xd.set(n, In::c, In::h, In::w);
  }
  const gpu::Tensor& output() const { return y; }

  /// out = a + b (device, same shape).
  static void add(Context<cuda>& ctx, gpu::TensorDesc& d, const gpu::Tensor& a, const gpu::Tensor& b,
                  gpu::Tensor& out) {
    CTNN_CUDA_CHECK(
        cudaMemcpyAsync(out.data, a.data, out.size() * sizeof(float), cudaMemcpyDeviceToDevice, ctx.stream()));
    CTNN_CUDA_CHECK(cudnnAddTensor(ctx.dnn(), &one, d, b.data, &one, d, out.data));
  }
  const gpu::Tensor& forward(Context<cuda>& ctx, const gpu::Tensor& x) {
    const gpu::Tensor& a = body.forward(ctx, x);
    add(ctx, yd, a, skip.forward(ctx, x), y);
    return y;
  }
  const gpu::Tensor& backward(Context<cuda>& ctx, const gpu::Tensor&, const gpu::Tensor& dy, bool need_dx) {
    const gpu::Tensor& da = body.backward(ctx, dy, need_dx);
    const gpu::Tensor& ds = skip.backward(ctx, dy, need_dx);
    if (need_dx) add(ctx, xd, da, ds, dx);
    return dx;
  }
};

}  // namespace ctnn
