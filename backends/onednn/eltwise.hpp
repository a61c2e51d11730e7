#pragma once
// oneDNN ReLU, Sigmoid, LeakyReLU (eltwise_relu with alpha = slope), Tanh, GELU (eltwise_gelu_erf)
// and Scale (eltwise_linear, alpha = factor): eltwise primitives on the layout that arrives. A ReLU
// that follows a BatchNorm was fused into it (Links::fused_into_prev) and passes data and
// gradients through.
#include "backends/onednn/context.hpp"
#include "ctnn/layers/activation.hpp"
#include "ctnn/layers/gelu.hpp"
#include "ctnn/layers/leaky_relu.hpp"
#include "ctnn/layers/scale.hpp"
#include "ctnn/layers/tanh.hpp"

namespace ctnn::onednn {

/// Forward/backward eltwise pair. UseDst: the backward reads y (logistic, tanh) instead of x
/// (ReLU, GELU). Alpha, Beta: the algorithm's parameters (ReLU's negative slope, linear's scale).
template <dnnl::algorithm Fwd, dnnl::algorithm Bwd, bool UseDst, Ratio Alpha = Ratio{0}, Ratio Beta = Ratio{0}>
struct Eltwise {
  static constexpr float alpha = Alpha, beta = Beta;
  using memory = dnnl::memory;
  dnnl::eltwise_forward fwd;
  dnnl::eltwise_backward bwd;
  memory y, dx;
  memory::desc md;
  Relayout dy_in;
  bool pass = false;

  void setup(Context<cpu>& ctx, int, const memory& x, Bound, Links l) {
    pass = l.fused_into_prev;
    if (pass) {
      y = x;  // same buffer: the previous layer already applied it
      return;
    }
    md = x.get_desc();
    dnnl::eltwise_forward::primitive_desc fpd({dnnl::prop_kind::forward_training, Fwd, md, alpha, beta}, ctx.engine);
    fwd = dnnl::eltwise_forward(fpd);
    bwd = dnnl::eltwise_backward(dnnl::eltwise_backward::primitive_desc({Bwd, md, md, alpha, beta}, ctx.engine, fpd));
    y = memory(md, ctx.engine), dx = ctx.gradient(md);
  }
  const memory& output() const { return y; }
  const memory& forward(Context<cpu>& ctx, const memory& x) {
    if (pass) return x;
    fwd.execute(ctx.stream, {{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, y}});
    return y;
  }
  const memory& backward(Context<cpu>& ctx, const memory& x, const memory& dy, bool need_dx) {
    if (pass || !need_dx) return pass ? dy : dx;
    bwd.execute(ctx.stream, {{UseDst ? DNNL_ARG_DST : DNNL_ARG_SRC, UseDst ? y : x},
                             {DNNL_ARG_DIFF_DST, dy_in(ctx, dy, md)},
                             {DNNL_ARG_DIFF_SRC, dx}});
    return dx;
  }
};

}  // namespace ctnn::onednn

namespace ctnn {

template <class In>
struct Impl<ReLU, In, cpu> : onednn::Eltwise<dnnl::algorithm::eltwise_relu, dnnl::algorithm::eltwise_relu, false> {};

template <class In>
struct Impl<Sigmoid, In, cpu> : onednn::Eltwise<dnnl::algorithm::eltwise_logistic_use_dst_for_bwd,
                                                dnnl::algorithm::eltwise_logistic_use_dst_for_bwd, true> {};

template <Ratio Slope, class In>
struct Impl<LeakyReLU<Slope>, In, cpu>
    : onednn::Eltwise<dnnl::algorithm::eltwise_relu, dnnl::algorithm::eltwise_relu, false, Slope> {};

template <class In>
struct Impl<Tanh, In, cpu> : onednn::Eltwise<dnnl::algorithm::eltwise_tanh_use_dst_for_bwd,
                                             dnnl::algorithm::eltwise_tanh_use_dst_for_bwd, true> {};

template <class In>
struct Impl<GELU, In, cpu>
    : onednn::Eltwise<dnnl::algorithm::eltwise_gelu_erf, dnnl::algorithm::eltwise_gelu_erf, false> {};

template <Ratio F, class In>
struct Impl<Scale<F>, In, cpu>
    : onednn::Eltwise<dnnl::algorithm::eltwise_linear, dnnl::algorithm::eltwise_linear, false, F> {};

}  // namespace ctnn
