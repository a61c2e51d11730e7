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

/// One tensor of a branch: its layer's module path inside the block ("body", 3) and its spec.
struct BranchTensor {
  std::string_view part;
  int local = 0;
  ParamSpec spec{};
};

// The tensors of every node of a branch (a std::tuple<Node...>), in order. Written without
// lambdas: Clang 14 crashes on lambdas in these constant initialisers.
template <class N, std::size_t C>
constexpr void append_tensors(std::array<BranchTensor, C>& out, std::size_t& k) {
  constexpr auto specs = N::layer::template params<typename N::in>();
  for (std::size_t i = 0; i < specs.size(); ++i) out[k++] = BranchTensor{N::part, N::local, specs[i]};
}
template <class Nodes>
struct branch_tensors;
template <class... Ns>
struct branch_tensors<std::tuple<Ns...>> {
  static constexpr std::size_t count = (std::size_t{0} + ... + Ns::layer::template params<typename Ns::in>().size());
  static constexpr std::array<BranchTensor, count> make() {
    std::array<BranchTensor, count> out{};
    std::size_t k = 0;
    (append_tensors<Ns>(out, k), ...);
    return out;
  }
};
template <std::size_t A, std::size_t B>
constexpr std::array<BranchTensor, A + B> join(const std::array<BranchTensor, A>& a,
                                               const std::array<BranchTensor, B>& b) {
  std::array<BranchTensor, A + B> out{};
  for (std::size_t i = 0; i < A; ++i) out[i] = a[i];
  for (std::size_t i = 0; i < B; ++i) out[A + i] = b[i];
  return out;
}

/// Characters of "part.local.name\0" for every tensor.
template <std::size_t N>
constexpr std::size_t name_chars(const std::array<BranchTensor, N>& t) {
  std::size_t n = 0;
  for (const auto& e : t) n += e.part.size() + 1 + decimal_length(e.local) + 1 + c_length(e.spec.name) + 1;
  return n;
}
template <std::size_t Chars, std::size_t N>
struct NameTable {
  std::array<char, Chars> text{};
  std::array<std::size_t, N> offset{};
};
template <std::size_t Chars, std::size_t N>
constexpr NameTable<Chars, N> make_names(const std::array<BranchTensor, N>& tensors) {
  NameTable<Chars, N> t;
  std::size_t c = 0;
  for (std::size_t k = 0; k < N; ++k) {
    const BranchTensor& e = tensors[k];
    t.offset[k] = c;
    for (char ch : e.part) t.text[c++] = ch;
    t.text[c++] = '.';
    const std::size_t digits = decimal_length(e.local);
    for (std::size_t d = 0, v = std::size_t(e.local); d < digits; ++d, v /= 10)
      t.text[c + digits - 1 - d] = char('0' + v % 10);
    c += digits;
    t.text[c++] = '.';
    for (const char* p = e.spec.name; *p; ++p) t.text[c++] = *p;
    t.text[c++] = '\0';
  }
  return t;
}

/// A block's tensors (body first, then the projection) and their full names ("body.0.weight", ...)
/// in static storage: ParamSpec names are `const char*`, so they must outlive the constant evaluation.
template <class BodyNodes, class SkipNodes>
struct block_tensors {
  static constexpr auto tensors = join(branch_tensors<BodyNodes>::make(), branch_tensors<SkipNodes>::make());
  static constexpr std::size_t count = tensors.size();
  static constexpr auto names = make_names<name_chars(tensors)>(tensors);
};

template <class L, class In>
constexpr double layer_macs() {
  if constexpr (requires { L::template macs<In>; })
    return L::template macs<In>;
  else
    return 0.0;
}
template <class Nodes>
struct nodes_macs;
template <class... Ns>
struct nodes_macs<std::tuple<Ns...>> {
  static constexpr double value = (0.0 + ... + layer_macs<typename Ns::layer, typename Ns::in>());
};

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
    using T = detail::block_tensors<body_nodes<In>, skip_nodes<In>>;
    std::array<ParamSpec, T::count> out{};
    for (std::size_t k = 0; k < T::count; ++k) {
      out[k] = T::tensors[k].spec;
      out[k].name = T::names.text.data() + T::names.offset[k];
    }
    return out;
  }
  /// Multiply-adds of both branches for one sample (for GFLOP/s reports); the add itself is free.
  template <class In>
  static constexpr double macs = detail::nodes_macs<body_nodes<In>>::value + detail::nodes_macs<skip_nodes<In>>::value;
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
