#pragma once
// Residual<Body>: y = x + Body(x).   Residual<Body, Projection>: y = Projection(x) + Body(x).
// A composite layer: one node of the net whose two branches are small nets of their own (Body and
// Projection are Sequential<...> or Named<"name", Sequential<...>>). Its shape rule folds both
// branches from the block's input and requires the same output shape; as in Sequential, a problem
// is one static_assert, from
//   shape_mismatch_in_block<block_index<b>, layer_index<i>, Layer, got<...>, expected<...>>
//     (layer i of a branch of block b cannot take its input), or
//   residual_mismatch<block_index<b>, body_output<layer_index<i>, Shape<...>>, skip_output<Shape<...>>>
//     (the branches end in different shapes).
// Gradients: dx = dBody + dProjection (or dy itself for the identity skip).
// PyTorch equivalent (module names, hence checkpoint keys): a module with the body as attribute
// `body` and the projection as `shortcut` (a Named branch uses its own name instead), registered
// in that order:
//   class Residual(nn.Module):
//       def __init__(self, body, shortcut=None):
//           super().__init__(); self.body = body; self.shortcut = shortcut
//       def forward(self, x): return self.body(x) + (x if self.shortcut is None else self.shortcut(x))
// so block 3's first convolution is "3.body.0.weight". Parameters and buffers of the inner layers
// are the block's own, in that order (Model's arenas, optimizers, checkpoints, BatchNorm running
// statistics and train/eval mode see them as any layer's). A branch may hold further Residual
// blocks, but not Named parts.
#include <array>
#include <cstddef>
#include <string_view>
#include <tuple>
#include <type_traits>

#include "ctnn/layers/param.hpp"
#include "ctnn/named.hpp"
#include "ctnn/sequential.hpp"

namespace ctnn {

/// The skip branch of Residual<Body>: the input itself.
struct Identity {};

// Tag types of residual_mismatch (error text only).
template <class Last, class S>
struct body_output {};
template <class S>
struct skip_output {};

template <class Block, class BodyOut, class SkipOut>
struct residual_mismatch;
template <int B, int L, class BodyShape, class SkipShape>
struct residual_mismatch<block_index<B>, body_output<layer_index<L>, BodyShape>, skip_output<SkipShape>> {
  static_assert(std::is_same_v<BodyShape, SkipShape>,
                "ctnn: residual branches disagree — block_index<b> (0-based, in the net) adds its body's output "
                "body_output<...> (after the body's layer_index<i>) to skip_output<...> (its input, or its "
                "projection's output); both must have the same shape");
  static constexpr bool ok = std::is_same_v<BodyShape, SkipShape>;
};

namespace detail {

// A branch as a net of one named part: the nodes of Sequential<Ls...> are named "<Default>.i", those
// of Named<"n", Sequential<Ls...>> "n.i"; the identity is the empty net.
template <class Branch, fixed_string Default>
struct branch_net {
  static_assert(!std::is_same_v<Branch, Branch>,
                "ctnn: a Residual branch is Sequential<...> or Named<\"name\", Sequential<...>>");
};
template <class... Ls, fixed_string D>
struct branch_net<Sequential<Ls...>, D> {
  static_assert(sizeof...(Ls) > 0, "ctnn: a Residual branch needs at least one layer (Identity is the default skip)");
  using type = Sequential<Named<D, Sequential<Ls...>>>;
};
template <fixed_string N, class... Ls, fixed_string D>
struct branch_net<Named<N, Sequential<Ls...>>, D> : branch_net<Sequential<Ls...>, N> {};
template <fixed_string D>
struct branch_net<Identity, D> {
  using type = Sequential<>;
};

constexpr std::size_t c_length(const char* s) {
  std::size_t n = 0;
  while (s[n]) ++n;
  return n;
}
constexpr std::size_t decimal_length(int v) {
  std::size_t n = 1;
  for (; v >= 10; v /= 10) ++n;
  return n;
}

/// Calls f(part, local, spec) for every tensor of every node of Nodes (a std::tuple<Node...>), in order.
template <class Nodes, class F>
constexpr void for_each_node_spec(F&& f) {
  [&]<std::size_t... Is>(std::index_sequence<Is...>) {
    (
        [&] {
          using N = std::tuple_element_t<Is, Nodes>;
          for (const ParamSpec& s : N::layer::template params<typename N::in>()) f(N::part, N::local, s);
        }(),
        ...);
  }
  (std::make_index_sequence<std::tuple_size_v<Nodes>>{});
}

/// The tensors' full names inside a block ("body.0.weight", ...) as one static character array:
/// ParamSpec names are `const char*`, so they need storage that outlives the constant evaluation.
template <class... NodeLists>
struct block_names {
  static constexpr std::size_t count = [] {
    std::size_t n = 0;
    (for_each_node_spec<NodeLists>([&](std::string_view, int, const ParamSpec&) { ++n; }), ...);
    return n;
  }();
  static constexpr std::size_t chars = [] {
    std::size_t n = 0;
    (for_each_node_spec<NodeLists>([&](std::string_view part, int local, const ParamSpec& s) {
       n += part.size() + 1 + decimal_length(local) + 1 + c_length(s.name) + 1;
     }),
     ...);
    return n;
  }();
  struct Table {
    std::array<char, chars> text{};
    std::array<std::size_t, count> offset{};
  };
  static constexpr Table table = [] {
    Table t;
    std::size_t c = 0, k = 0;
    auto put = [&](std::string_view part, int local, const ParamSpec& s) {
      t.offset[k++] = c;
      for (char ch : part) t.text[c++] = ch;
      t.text[c++] = '.';
      const std::size_t digits = decimal_length(local);
      for (std::size_t d = 0; d < digits; ++d, local /= 10) t.text[c + digits - 1 - d] = char('0' + local % 10);
      c += digits;
      t.text[c++] = '.';
      for (const char* p = s.name; *p; ++p) t.text[c++] = *p;
      t.text[c++] = '\0';
    };
    (for_each_node_spec<NodeLists>(put), ...);
    return t;
  }();
};

template <class L, class In>
constexpr double layer_macs() {
  if constexpr (requires { L::template macs<In>; })
    return L::template macs<In>;
  else
    return 0.0;
}
template <class Nodes>
constexpr double nodes_macs() {
  return []<std::size_t... Is>(std::index_sequence<Is...>) {
    return (
        0.0 + ... +
        layer_macs<typename std::tuple_element_t<Is, Nodes>::layer, typename std::tuple_element_t<Is, Nodes>::in>());
  }
  (std::make_index_sequence<std::tuple_size_v<Nodes>>{});
}

}  // namespace detail

template <class Body, class Projection = Identity>
struct Residual {
  static constexpr const char* name = "Residual";
  static constexpr bool has_projection = !std::is_same_v<Projection, Identity>;
  using body_net = typename detail::branch_net<Body, "body">::type;
  using skip_net = typename detail::branch_net<Projection, "shortcut">::type;
  /// The branches' nodes at the block's input shape (computed quietly: the net's fold reports errors).
  template <class In>
  using body_nodes = typename detail::Plan<body_net, In, detail::quiet>::nodes;
  template <class In>
  using skip_nodes = typename detail::Plan<skip_net, In, detail::quiet>::nodes;

  template <class In>
  static constexpr bool accepts =
      detail::Plan<body_net, In, detail::quiet>::all_ok&& detail::Plan<skip_net, In, detail::quiet>::all_ok&&
          std::is_same_v<typename detail::Plan<body_net, In, detail::quiet>::out,
                         typename detail::Plan<skip_net, In, detail::quiet>::out>;
  template <class In>
  using expected_input = In;  // what is wrong is inside; the error names it
  template <class In>
  using output_shape = typename detail::Plan<body_net, In, detail::quiet>::out;

  /// The inner layers' tensors, body first, named "body.i.<name>" / "shortcut.j.<name>".
  template <class In>
  static constexpr auto params() {
    using Names = detail::block_names<body_nodes<In>, skip_nodes<In>>;
    std::array<ParamSpec, Names::count> out{};
    std::size_t k = 0;
    auto add = [&](std::string_view, int, const ParamSpec& s) {
      out[k] = s;
      out[k].name = Names::table.text.data() + Names::table.offset[k];
      ++k;
    };
    detail::for_each_node_spec<body_nodes<In>>(add);
    detail::for_each_node_spec<skip_nodes<In>>(add);
    return out;
  }
  /// Multiply-adds of both branches for one sample (for GFLOP/s reports); the add itself is free.
  template <class In>
  static constexpr double macs = detail::nodes_macs<body_nodes<In>>() + detail::nodes_macs<skip_nodes<In>>();
};

/// Layer-kind trait.
template <class L>
inline constexpr bool is_residual_v = false;
template <class B, class P>
inline constexpr bool is_residual_v<Residual<B, P>> = true;

namespace detail {

struct agrees {
  static constexpr bool ok = true;
};

// The net's fold checks a Residual block by folding its branches with block_index<I>, so an error
// inside names the block and the inner layer; the branches' shapes are compared only when both
// folded cleanly (one error, not two).
template <class Where, int I, class Body, class Projection, class In>
struct check_layer<Where, I, Residual<Body, Projection>, In> {
  using R = Residual<Body, Projection>;
  static constexpr bool is_quiet = std::is_same_v<Where, quiet>;
  using At = std::conditional_t<is_quiet, quiet, block_index<I>>;
  using BodyPlan = Plan<typename R::body_net, In, At>;
  using SkipPlan = Plan<typename R::skip_net, In, At>;
  static constexpr bool branches_ok = BodyPlan::all_ok && SkipPlan::all_ok;
  using Compare = std::conditional_t<
      is_quiet || !branches_ok, agrees,
      residual_mismatch<
          block_index<I>,
          body_output<layer_index<int(std::tuple_size_v<typename BodyPlan::nodes>) - 1>, typename BodyPlan::out>,
          skip_output<typename SkipPlan::out>>>;
  static constexpr bool ok = is_quiet ? R::template accepts<In> : branches_ok && Compare::ok;
};

}  // namespace detail

}  // namespace ctnn
