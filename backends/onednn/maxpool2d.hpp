#pragma once
// oneDNN MaxPool2d: pooling forward (training, with the arg-max workspace) / backward, on the
// layout that arrives from the previous layer.
#include "backends/onednn/context.hpp"
#include "ctnn/layers/maxpool2d.hpp"

namespace ctnn {

template <int K, int S, class In>
struct Impl<MaxPool2d<K, S>, In, cpu> {
  using Out = typename MaxPool2d<K, S>::template output_shape<In>;
  using memory = dnnl::memory;
  dnnl::pooling_forward fwd;
  dnnl::pooling_backward bwd;
  dnnl::pooling_backward::primitive_desc bwd_pd;
  memory y, dx, workspace;
  onednn::Relayout dy_in;

  void setup(Context<cpu>& ctx, int n, const memory& x, Bound, Links) {
    using namespace onednn;
    const memory::dims k{K, K}, s{S, S}, pad{0, 0};
    const auto t = x.get_desc().data_type();
    const memory::desc dst({n, In::c, Out::h, Out::w}, t, tag::any);
    dnnl::pooling_forward::primitive_desc fpd(
        {dnnl::prop_kind::forward_training, dnnl::algorithm::pooling_max, x.get_desc(), dst, s, k, pad, pad},
        ctx.engine);
    fwd = dnnl::pooling_forward(fpd);
    bwd_pd = {{dnnl::algorithm::pooling_max, x.get_desc(), fpd.dst_desc(), s, k, pad, pad}, ctx.engine, fpd};
    bwd = dnnl::pooling_backward(bwd_pd);
    y = memory(fpd.dst_desc(), ctx.engine);
    dx = ctx.gradient(bwd_pd.diff_src_desc());
    workspace = memory(fpd.workspace_desc(), ctx.engine);
  }
  const memory& output() const { return y; }

  const memory& forward(Context<cpu>& ctx, const memory& x) {
    fwd.execute(ctx.stream, {{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, y}, {DNNL_ARG_WORKSPACE, workspace}});
    return y;
  }
  const memory& backward(Context<cpu>& ctx, const memory&, const memory& dy, bool need_dx) {
    if (need_dx)
      bwd.execute(ctx.stream, {{DNNL_ARG_DIFF_DST, dy_in(ctx, dy, bwd_pd.diff_dst_desc())},
                               {DNNL_ARG_WORKSPACE, workspace},
                               {DNNL_ARG_DIFF_SRC, dx}});
    return dx;
  }
};

}  // namespace ctnn
