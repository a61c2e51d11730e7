#pragma once
// oneDNN AvgPool2d (pooling_avg_include_padding: PyTorch's count_include_pad=True),
// AdaptiveAvgPool2d<1> (pooling_avg over the whole plane) and AdaptiveMaxPool2d<1> (pooling_max
// over the whole plane, with the arg-max workspace), on the layout that arrives. Contracts in
// ctnn/layers/avgpool2d.hpp and adaptive_pool2d.hpp.
#include <unordered_map>

#include "backends/onednn/context.hpp"
#include "ctnn/layers/adaptive_pool2d.hpp"
#include "ctnn/layers/avgpool2d.hpp"

namespace ctnn::onednn {

/// One pooling primitive pair: kernel kh×kw, stride, padding p on every side, output Ho×Wo.
/// Pass: the pooling is the identity (a global pool over a 1×1 plane) and data and gradients go
/// through untouched (the input may then be 2-D, e.g. after a Linear).
struct Pooling {
  dnnl::pooling_forward fwd;
  dnnl::pooling_backward bwd;
  dnnl::pooling_backward::primitive_desc bwd_pd;
  memory y, dx, workspace;
  Relayout dy_in;
  bool pass = false;

  void setup(Context<cpu>& ctx, const memory& x, dnnl::algorithm alg, memory::dims out, memory::dims kernel,
             memory::dims stride, memory::dims pad, bool identity) {
    pass = identity;
    if (pass) {
      y = x;
      return;
    }
    const memory::desc dst(out, x.get_desc().data_type(), tag::any);
    dnnl::pooling_forward::primitive_desc fpd(
        {dnnl::prop_kind::forward_training, alg, x.get_desc(), dst, stride, kernel, pad, pad}, ctx.engine);
    fwd = dnnl::pooling_forward(fpd);
    bwd_pd = {{alg, x.get_desc(), fpd.dst_desc(), stride, kernel, pad, pad}, ctx.engine, fpd};
    bwd = dnnl::pooling_backward(bwd_pd);
    y = memory(fpd.dst_desc(), ctx.engine);
    dx = ctx.gradient(bwd_pd.diff_src_desc());
    if (fpd.workspace_desc().get_size()) workspace = memory(fpd.workspace_desc(), ctx.engine);
  }
  const memory& output() const { return y; }

  const memory& forward(Context<cpu>& ctx, const memory& x) {
    if (pass) return x;
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, y}};
    if (workspace) args.insert({DNNL_ARG_WORKSPACE, workspace});
    fwd.execute(ctx.stream, args);
    return y;
  }
  const memory& backward(Context<cpu>& ctx, const memory&, const memory& dy, bool need_dx) {
    if (pass) return dy;
    if (need_dx) {
      std::unordered_map<int, memory> args{{DNNL_ARG_DIFF_DST, dy_in(ctx, dy, bwd_pd.diff_dst_desc())},
                                           {DNNL_ARG_DIFF_SRC, dx}};
      if (workspace) args.insert({DNNL_ARG_WORKSPACE, workspace});
      bwd.execute(ctx.stream, args);
    }
    return dx;
  }
};

}  // namespace ctnn::onednn

namespace ctnn {

template <int K, int S, int P, class In>
struct Impl<AvgPool2d<K, S, P>, In, cpu> : onednn::Pooling {
  using Out = typename AvgPool2d<K, S, P>::template output_shape<In>;
  void setup(Context<cpu>& ctx, int n, const dnnl::memory& x, Bound, Links) {
    onednn::Pooling::setup(ctx, x, dnnl::algorithm::pooling_avg_include_padding, {n, In::c, Out::h, Out::w}, {K, K},
                           {S, S}, {P, P}, false);
  }
};

template <int O, class In>
struct Impl<AdaptiveAvgPool2d<O>, In, cpu> : onednn::Pooling {
  void setup(Context<cpu>& ctx, int n, const dnnl::memory& x, Bound, Links) {
    onednn::Pooling::setup(ctx, x, dnnl::algorithm::pooling_avg_exclude_padding, {n, In::c, 1, 1}, {In::h, In::w},
                           {1, 1}, {0, 0}, In::h * In::w == 1);
  }
};

template <int O, class In>
struct Impl<AdaptiveMaxPool2d<O>, In, cpu> : onednn::Pooling {
  void setup(Context<cpu>& ctx, int n, const dnnl::memory& x, Bound, Links) {
    onednn::Pooling::setup(ctx, x, dnnl::algorithm::pooling_max, {n, In::c, 1, 1}, {In::h, In::w}, {1, 1}, {0, 0},
                           In::h * In::w == 1);
  }
};

}  // namespace ctnn
