#pragma once
// Reference Residual (contract in ctnn/residual.hpp): both branches as Chains of reference Impls,
// then y = body + skip; backward fans dy out to both branches and adds their input gradients.
// Written for any host backend whose activations are a flat `data` vector: Eigen uses it too.
#include "backends/reference/context.hpp"
#include "ctnn/chain.hpp"
#include "ctnn/residual.hpp"

namespace ctnn {

namespace host_loops {
template <class Backend, class Body, class Projection, class In>
struct Residual {
  using R = ctnn::Residual<Body, Projection>;
  using HostTensor = typename Context<Backend>::Act;
  Chain<typename R::template body_nodes<In>, Backend> body;
  Chain<typename R::template skip_nodes<In>, Backend> skip;  // empty: the identity
  HostTensor y, dx;

  void setup(Context<Backend>& ctx, int n, const HostTensor& x, Bound b, Links l) {
    body.setup(ctx, n, x, b, 0, residual_layer_index(l.index, 0));
    skip.setup(ctx, n, x, b, body.num_specs, residual_layer_index(l.index, 1));
    const auto& o = body.output();
    y.resize(n, o.c, o.h, o.w);
    dx.resize(n, x.c, x.h, x.w);
  }
  const HostTensor& output() const { return y; }

  const HostTensor& forward(Context<Backend>& ctx, const HostTensor& x) {
    const HostTensor& a = body.forward(ctx, x);
    const HostTensor& s = skip.forward(ctx, x);
    for (std::size_t i = 0; i < y.size(); ++i) y.data[i] = a.data[i] + s.data[i];
    return y;
  }
  const HostTensor& backward(Context<Backend>& ctx, const HostTensor&, const HostTensor& dy, bool need_dx) {
    const HostTensor& da = body.backward(ctx, dy, need_dx);
    const HostTensor& ds = skip.backward(ctx, dy, need_dx);
    if (need_dx)
      for (std::size_t i = 0; i < dx.size(); ++i) dx.data[i] = da.data[i] + ds.data[i];
    return dx;
  }
};
}  // namespace host_loops

template <class Body, class Projection, class In>
struct Impl<Residual<Body, Projection>, In, reference> : host_loops::Residual<reference, Body, Projection, In> {};

}  // namespace ctnn
