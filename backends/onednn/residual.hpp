#pragma once
// oneDNN Residual (contract in ctnn/residual.hpp): both branches as Chains of oneDNN Impls, each
// with a gradient pool of its own (Context<cpu>::exchange_pool), and oneDNN sum primitives for
// y = body + skip (in the body output's layout) and dx = d(body) + d(skip) (in the input's layout).
// Operands in another layout are relaid once into that one (onednn::Relayout: free when they match).
#include "backends/onednn/context.hpp"
#include "ctnn/chain.hpp"
#include "ctnn/residual.hpp"

namespace ctnn {

template <class Body, class Projection, class In>
struct Impl<Residual<Body, Projection>, In, cpu> {
  using R = Residual<Body, Projection>;
  using memory = dnnl::memory;
  Chain<typename R::template body_nodes<In>, cpu> body;
  Chain<typename R::template skip_nodes<In>, cpu> skip;  // empty: the identity
  onednn::GradientPool body_pool, skip_pool;
  memory y, dx;
  memory::desc x_md;
  dnnl::sum add_fwd, add_bwd;
  onednn::Relayout body_y, skip_y, body_dx, skip_dx;

  void setup(Context<cpu>& ctx, int n, const memory& x, Bound b, Links l) {
    onednn::GradientPool* outer = ctx.exchange_pool(&body_pool);
    body.setup(ctx, n, x, b, 0, residual_layer_index(l.index, 0));
    ctx.exchange_pool(&skip_pool);
    skip.setup(ctx, n, x, b, body.num_specs, residual_layer_index(l.index, 1));
    ctx.exchange_pool(outer);
    body_pool.allocate(), skip_pool.allocate();
    const memory::desc y_md = body.output().get_desc();
    x_md = x.get_desc();
    y = memory(y_md, ctx.engine);
    add_fwd = dnnl::sum(dnnl::sum::primitive_desc(y_md, {1.f, 1.f}, {y_md, y_md}, ctx.engine));
    add_bwd = dnnl::sum(dnnl::sum::primitive_desc(x_md, {1.f, 1.f}, {x_md, x_md}, ctx.engine));
    dx = ctx.gradient(x_md);
  }
  const memory& output() const { return y; }

  const memory& forward(Context<cpu>& ctx, const memory& x) {
    const memory& a = body.forward(ctx, x);
    const memory& s = skip.forward(ctx, x);
    const memory::desc y_md = y.get_desc();
    add_fwd.execute(ctx.stream, {{DNNL_ARG_MULTIPLE_SRC, body_y(ctx, a, y_md)},
                                 {DNNL_ARG_MULTIPLE_SRC + 1, skip_y(ctx, s, y_md)},
                                 {DNNL_ARG_DST, y}});
    return y;
  }
  const memory& backward(Context<cpu>& ctx, const memory&, const memory& dy, bool need_dx) {
    const memory& da = body.backward(ctx, dy, need_dx);
    const memory& ds = skip.backward(ctx, dy, need_dx);
    if (need_dx)
      add_bwd.execute(ctx.stream, {{DNNL_ARG_MULTIPLE_SRC, body_dx(ctx, da, x_md)},
                                   {DNNL_ARG_MULTIPLE_SRC + 1, skip_dx(ctx, ds, x_md)},
                                   {DNNL_ARG_DST, dx}});
    return dx;
  }
};

}  // namespace ctnn
