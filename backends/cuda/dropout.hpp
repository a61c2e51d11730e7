#pragma once
// Dropout with the backend's own kernel (contract in ctnn/layers/dropout.hpp). The mask of
// element i is dropout_keep(dropout_stream(seed, step, layer), i, p) — the reference backend's
// counter-based hash — so CPU and GPU drop the same values; backward recomputes it instead of
// storing it. With p = 0 (evaluation, or set_dropout(0)) the layer hands its input on unchanged.
#include "backends/cuda/context.hpp"
#include "backends/cuda/kernels.hpp"
#include "backends/reference/elementwise.hpp"  // dropout_stream
#include "ctnn/layers/dropout.hpp"

namespace ctnn {

template <Ratio Pr, class In>
struct Impl<DropoutP<Pr>, In, cuda> {
  static constexpr float P = Pr;
  gpu::Tensor y, dx;
  std::uint64_t key = 0;
  float p = 0.f, scale = 1.f;
  int index = 0;

  void setup(Context<cuda>&, int n, const gpu::Tensor&, Bound, Links l) {
    index = l.index;
    y.resize(n, In::c, In::h, In::w), dx.resize(n, In::c, In::h, In::w);
  }
  const gpu::Tensor& output() const { return y; }

  const gpu::Tensor& forward(Context<cuda>& ctx, const gpu::Tensor& x) {
    p = ctx.training ? (ctx.dropout_override >= 0 ? ctx.dropout_override : P) : 0.f;
    if (p == 0.f) return x;
    scale = 1.f / (1.f - p);
    key = dropout_stream(ctx.seed, ctx.step, index);
    gpu::kernels::dropout(x.data, y.data, y.size(), key, p, scale, ctx.stream());
    return y;
  }

  const gpu::Tensor& backward(Context<cuda>& ctx, const gpu::Tensor&, const gpu::Tensor& dy, bool need_dx) {
    if (p != 0.f && need_dx) gpu::kernels::dropout(dy.data, dx.data, dx.size(), key, p, scale, ctx.stream());
    return p == 0.f ? dy : dx;
  }
};

}  // namespace ctnn
