#pragma once
// Chain<Nodes, Backend>: the layers of a small net (a std::tuple<Node...> from the shape fold) as
// backend Impls run one after the other — what Model does for the whole net, for a composite
// layer's branches (Residual's body and projection, backends/<b>/residual.hpp). It keeps each
// layer's input for the backward pass, hands each layer its slice of the composite's Bound and
// links neighbours that the backend fuses, exactly as Model does. An empty chain is the identity.
#include <algorithm>
#include <array>
#include <cstddef>
#include <tuple>
#include <utility>

#include "ctnn/backend.hpp"

namespace ctnn {

/// Links::index of layer i of branch `branch` (0 body, 1 projection) of the composite at net index
/// `block` is this plus i: distinct from every other layer's (nets of up to 1000 layers, branches of
/// up to 500, blocks nested twice).
constexpr int residual_layer_index(int block, int branch) { return (block + 1) * 1000 + branch * 500; }

template <class Nodes, class Backend>
struct Chain;

template <class... Ns, class Backend>
struct Chain<std::tuple<Ns...>, Backend> {
  using Act = typename Context<Backend>::Act;
  static constexpr std::size_t size = sizeof...(Ns);
  /// Tensors per layer (its ParamSpecs), and in all.
  static constexpr std::array<std::size_t, size> spec_counts{Ns::layer::template params<typename Ns::in>().size()...};
  static constexpr std::size_t num_specs =
      (std::size_t{0} + ... + Ns::layer::template params<typename Ns::in>().size());

  std::tuple<Impl<typename Ns::layer, typename Ns::in, Backend>...> impls;

  /// Builds every layer for batch n. `b` is the composite's Bound; this chain's tensors start at
  /// b.value[first]. `index` numbers the chain's layers index, index + 1, ... (Links::index: it
  /// seeds per-layer randomness, so it must differ from every other layer's).
  void setup(Context<Backend>& ctx, int n, const Act& x, const Bound& b, std::size_t first, int index) {
    const Act* a = &x;
    std::size_t k = first;
    [&]<std::size_t... Is>(std::index_sequence<Is...>) {
      ((std::get<Is>(impls).setup(ctx, n, *a, slice(b, k, spec_counts[Is]), links<Is>(index)), k += spec_counts[Is],
        a = &std::get<Is>(impls).output()),
       ...);
    }
    (std::index_sequence_for<Ns...>{});
    out_ = a;
  }
  const Act& output() const { return *out_; }

  const Act& forward(Context<Backend>& ctx, const Act& x) {
    const Act* a = &x;
    [&]<std::size_t... Is>(std::index_sequence<Is...>) {
      ((inputs_[Is] = a, a = &std::get<Is>(impls).forward(ctx, *a)), ...);
    }
    (std::index_sequence_for<Ns...>{});
    return *a;
  }

  /// Backward of the last forward: overwrites the layers' gradients, returns d(input) (meaningful
  /// when need_dx; for the empty chain, dy itself).
  const Act& backward(Context<Backend>& ctx, const Act& dy, bool need_dx) {
    const Act* d = &dy;
    [&]<std::size_t... Is>(std::index_sequence<Is...>) {
      constexpr std::size_t L = size - 1;
      ((d = &std::get<L - Is>(impls).backward(ctx, *inputs_[L - Is], *d, L - Is > 0 || need_dx)), ...);
    }
    (std::index_sequence_for<Ns...>{});
    return *d;
  }

 private:
  static Bound slice(const Bound& b, std::size_t first, std::size_t count) {
    Bound s;
    s.value.assign(b.value.begin() + first, b.value.begin() + first + count);
    s.grad.assign(b.grad.begin() + first, b.grad.begin() + first + count);
    s.value.resize(std::max<std::size_t>(s.value.size(), 4)), s.grad.resize(s.value.size());
    return s;
  }
  template <std::size_t I>
  static constexpr Links links(int index) {
    using Ls = std::tuple<typename Ns::layer...>;
    Links l;
    l.index = index + int(I);
    if constexpr (I + 1 < size)
      l.fuse_next = fuses_v<Backend, std::tuple_element_t<I, Ls>, std::tuple_element_t<I + 1, Ls>>;
    if constexpr (I > 0)
      l.fused_into_prev = fuses_v<Backend, std::tuple_element_t<I - 1, Ls>, std::tuple_element_t<I, Ls>>;
    return l;
  }
  const Act* out_ = nullptr;
  std::array<const Act*, size> inputs_{};
};

}  // namespace ctnn
