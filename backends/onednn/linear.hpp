#pragma once
// oneDNN Linear: inner_product forward / backward_data / backward_weights.
// The source keeps the layout and rank that arrive: after Flatten it is the pooling's 4-D
// blocked N×C×H×W, and the weights are described as O×C×H×W (the arena's O×(C·H·W) row-major is
// exactly OIHW), so flattening never moves data. The output is N×O (nc).
#include "backends/onednn/context.hpp"
#include "ctnn/layers/linear.hpp"

namespace ctnn {

template <int I, int O, bool B, class In>
struct Impl<Linear<I, O, B>, In, cpu> {
  using memory = dnnl::memory;
  dnnl::inner_product_forward fwd;
  dnnl::inner_product_backward_data bwd_data;
  dnnl::inner_product_backward_weights bwd_weights;
  dnnl::inner_product_forward::primitive_desc fwd_pd;
  dnnl::inner_product_backward_data::primitive_desc bwd_data_pd;
  dnnl::inner_product_backward_weights::primitive_desc bwd_weights_pd;
  onednn::Mirror weight_fwd, weight_bwd, dweight;
  memory bias, dbias, y, dx;
  onednn::Relayout src_in, dy_data, dy_weights;

  void setup(Context<cpu>& ctx, int n, const memory& x, Bound p, Links) {
    using namespace onednn;
    const auto t = ctx.act_dt();
    const auto xd = x.get_desc();
    const bool four_d = xd.data.ndims == 4;
    const memory::dims wdims = four_d ? memory::dims{O, xd.dims()[1], xd.dims()[2], xd.dims()[3]} : memory::dims{O, I};
    // A source of another type (the f32 input of a net that starts with Linear) is converted.
    const memory::desc src = xd.data_type() == t ? xd : memory::desc(xd.dims(), t, tag::any);
    const memory::desc wei(wdims, t, tag::any), dwei(wdims, dt::f32, tag::any), bia({O}, dt::f32, tag::x),
        dst({n, O}, t, tag::any), user_wei(wdims, dt::f32, four_d ? tag::oihw : tag::oi);
    const auto fwd_kind = dnnl::prop_kind::forward_training;
    fwd_pd = {{fwd_kind, src, wei, B ? bia : memory::desc(), dst}, ctx.engine};
    bwd_data_pd = {{fwd_pd.src_desc(), wei, fwd_pd.dst_desc()}, ctx.engine, fwd_pd};
    bwd_weights_pd = {{fwd_pd.src_desc(), dwei, B ? bia : memory::desc(), fwd_pd.dst_desc()}, ctx.engine, fwd_pd};
    fwd = dnnl::inner_product_forward(fwd_pd);
    bwd_data = dnnl::inner_product_backward_data(bwd_data_pd);
    bwd_weights = dnnl::inner_product_backward_weights(bwd_weights_pd);
    weight_fwd.bind(ctx, p.value[0], user_wei, fwd_pd.weights_desc());
    weight_bwd.bind(ctx, p.value[0], user_wei, bwd_data_pd.weights_desc());
    dweight.bind(ctx, p.grad[0], user_wei, bwd_weights_pd.diff_weights_desc());
    if constexpr (B) bias = memory(bia, ctx.engine, p.value[1]), dbias = memory(bia, ctx.engine, p.grad[1]);
    y = memory(fwd_pd.dst_desc(), ctx.engine);
    dx = ctx.gradient(bwd_data_pd.diff_src_desc());
  }
  const memory& output() const { return y; }

  const memory& forward(Context<cpu>& ctx, const memory& x) {
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, src_in(ctx, x, fwd_pd.src_desc())}, {DNNL_ARG_WEIGHTS, weight_fwd.sync(ctx)}, {DNNL_ARG_DST, y}};
    if constexpr (B) args.insert({DNNL_ARG_BIAS, bias});
    fwd.execute(ctx.stream, args);
    return y;
  }

  const memory& backward(Context<cpu>& ctx, const memory& x, const memory& dy, bool need_dx) {
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src_in(ctx, x, fwd_pd.src_desc())},
                                         {DNNL_ARG_DIFF_DST, dy_weights(ctx, dy, bwd_weights_pd.diff_dst_desc())},
                                         {DNNL_ARG_DIFF_WEIGHTS, dweight.get()}};
    if constexpr (B) args.insert({DNNL_ARG_DIFF_BIAS, dbias});
    bwd_weights.execute(ctx.stream, args);
    dweight.write_back(ctx);
    if (need_dx)
      bwd_data.execute(ctx.stream, {{DNNL_ARG_DIFF_DST, dy_data(ctx, dy, bwd_data_pd.diff_dst_desc())},
                                    {DNNL_ARG_WEIGHTS, weight_bwd.sync(ctx)},
                                    {DNNL_ARG_DIFF_SRC, dx}});
    return dx;
  }
};

}  // namespace ctnn
