#pragma once
// Sequential<Layers...>: a network as one flat type. Given the sample shape of the input,
// the shape rule of every layer is folded over the pack at compile time; a layer that cannot take
// the shape it receives stops compilation with a static_assert whose instantiation names the
// layer index, the layer, the shape it got and the shape it expects, e.g.
//   required from 'struct ctnn::shape_mismatch<ctnn::layer_index<19>, ctnn::Linear<4000, 128>,
//                   ctnn::got<ctnn::Shape<4608, 1, 1> >, ctnn::expected<ctnn::Shape<4000, 1, 1> > >'
// The pack stays flat (no dlib-style nesting), which keeps type names short and compiles fast;
// the one exception is a Named part (ctnn/named.hpp), which the fold flattens into the same list
// of nodes and which only contributes module names.
#include <cstddef>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "ctnn/named.hpp"
#include "ctnn/shape.hpp"

namespace ctnn {

template <class... Layers>
struct Sequential {
  static constexpr std::size_t size = sizeof...(Layers);
};

/// concat_t<Sequential<A...>, Sequential<B...>, ...> = Sequential<A..., B...>: compose nets from
/// parts while the result stays one flat pack. A Named part is kept as one element (its layers are
/// flattened by the fold), so concat_t<Named<"features", F>, Sequential<Flatten>,
/// Named<"classifier", C>> names F's layers "features.i" and C's "classifier.j".
template <class... Nets>
struct Concat;
template <class... A>
struct Concat<Sequential<A...>> {
  using type = Sequential<A...>;
};
template <fixed_string N, class Net>
struct Concat<Named<N, Net>> {
  using type = Sequential<Named<N, Net>>;
};
template <class... A, class... B, class... Rest>
struct Concat<Sequential<A...>, Sequential<B...>, Rest...> : Concat<Sequential<A..., B...>, Rest...> {};
template <class... A, fixed_string N, class Net, class... Rest>
struct Concat<Sequential<A...>, Named<N, Net>, Rest...> : Concat<Sequential<A..., Named<N, Net>>, Rest...> {};
template <fixed_string N, class Net, class... Rest>
struct Concat<Named<N, Net>, Rest...> : Concat<Sequential<Named<N, Net>>, Rest...> {};
template <class... Nets>
using concat_t = typename Concat<Nets...>::type;

// Tag types that only exist to make a compiler error readable.
template <int Index>
struct layer_index {};
template <class S>
struct got {};
template <class S>
struct expected {};

template <class Index, class Layer, class Got, class Expected>
struct shape_mismatch;
template <int I, class Layer, class In, class Want>
struct shape_mismatch<layer_index<I>, Layer, got<In>, expected<Want>> {
  static_assert(Layer::template accepts<In>,
                "ctnn: shape mismatch — layer_index<i> (0-based) cannot take the input shape got<...>; "
                "it expects expected<...> (see the shape_mismatch<...> instantiation in this message)");
  static constexpr bool ok = Layer::template accepts<In>;
};

/// The same error for a layer inside a composite block (Residual, ctnn/residual.hpp): names the
/// block's index in the net, then the layer's index inside the block's branch.
template <int Index>
struct block_index {};
template <class Block, class Index, class Layer, class Got, class Expected>
struct shape_mismatch_in_block;
template <int B, int I, class Layer, class In, class Want>
struct shape_mismatch_in_block<block_index<B>, layer_index<I>, Layer, got<In>, expected<Want>> {
  static_assert(Layer::template accepts<In>,
                "ctnn: shape mismatch inside a block — in block_index<b> (0-based, in the net), layer_index<i> "
                "(0-based, in the block's branch) cannot take the input shape got<...>; it expects expected<...>");
  static constexpr bool ok = Layer::template accepts<In>;
};

/// One layer placed in a network: its index, description and the sample shapes around it; `part`
/// and `local` are the named part it belongs to ("" if none) and its index inside that part.
template <int I, class L, class In, class Out, fixed_string Part = "", int Local = I>
struct Node {
  static constexpr int index = I;
  static constexpr std::string_view part = Part.view();
  static constexpr int local = Local;
  using layer = L;
  using in = In;
  using out = Out;
};

namespace detail {

template <bool Ok, class L, class In>
struct next_shape {
  using type = typename L::template output_shape<In>;
};
// After a mismatch, continue as if the layer had received what it expected, so the layers
// after it see plausible shapes and the compiler reports the first error only.
template <class L, class In>
struct next_shape<false, L, In> {
  using type = typename L::template output_shape<typename L::template expected_input<In>>;
};

// A layer of the flattened net with its naming: part name ("" outside named parts) and index in it.
template <class L, fixed_string Part = "", int Local = -1>
struct Entry {};

// Flatten: the elements of a Sequential as a tuple of Entry (Named parts expanded in place).
template <class Element>
struct Entries {
  using type = std::tuple<Entry<Element>>;
};
template <fixed_string N, class... Ls>
struct Entries<Named<N, Sequential<Ls...>>> {
  template <std::size_t... Is>
  static auto make(std::index_sequence<Is...>) -> std::tuple<Entry<Ls, N, int(Is)>...>;
  using type = decltype(make(std::index_sequence_for<Ls...>{}));
};

// Where a fold runs, which decides how a layer that cannot take its input is reported:
// `void` for a net (shape_mismatch), block_index<b> for a branch of a composite block
// (shape_mismatch_in_block), `quiet` for folds that only compute (a composite's own shape rule and
// its Impls: the reporting fold of the net has already said what is wrong, once).
struct quiet {};
template <class Where, int I, class L, class In>
struct report {
  static constexpr bool ok =
      shape_mismatch<layer_index<I>, L, got<In>, expected<typename L::template expected_input<In>>>::ok;
};
template <int B, int I, class L, class In>
struct report<block_index<B>, I, L, In> {
  static constexpr bool ok = shape_mismatch_in_block<block_index<B>, layer_index<I>, L, got<In>,
                                                     expected<typename L::template expected_input<In>>>::ok;
};
template <int I, class L, class In>
struct report<quiet, I, L, In> {
  static constexpr bool ok = L::template accepts<In>;
};
/// How the fold checks layer L at index I; a composite layer specialises it (ctnn/residual.hpp)
/// to fold its branches and report what is wrong inside them itself.
template <class Where, int I, class L, class In>
struct check_layer : report<Where, I, L, In> {};

template <class Where, int I, class In, class... Es>
struct Fold {
  using nodes = std::tuple<>;
  using out = In;
  static constexpr bool all_ok = true;
};
template <class Where, int I, class In, class L, fixed_string Part, int Local, class... Rest>
struct Fold<Where, I, In, Entry<L, Part, Local>, Rest...> {
  static constexpr bool ok = check_layer<Where, I, L, In>::ok;
  using node = Node<I, L, In, typename next_shape<ok, L, In>::type, Part, (Local < 0 ? I : Local)>;
  // After the first error the rest of the fold only computes: one error per net, not a cascade.
  using rest = Fold<std::conditional_t<ok, Where, quiet>, I + 1, typename node::out, Rest...>;
  using nodes = decltype(std::tuple_cat(std::declval<std::tuple<node>>(), std::declval<typename rest::nodes>()));
  using out = typename rest::out;
  static constexpr bool all_ok = ok && rest::all_ok;
};
template <class Where, int I, class In, class... Es>
struct FoldTuple;
template <class Where, int I, class In, class... Es>
struct FoldTuple<Where, I, In, std::tuple<Es...>> : Fold<Where, I, In, Es...> {};

template <class Net, class In, class Where = void>
struct Plan;
template <class... Ls, class In, class Where>
struct Plan<Sequential<Ls...>, In, Where>
    : FoldTuple<Where, 0, In, decltype(std::tuple_cat(std::declval<typename Entries<Ls>::type>()...))> {};

}  // namespace detail

/// The nodes (std::tuple<Node<...>...>) and output shape of Net applied to sample shape In.
template <class Net, class In>
using nodes_t = typename detail::Plan<Net, In>::nodes;
template <class Net, class In>
using output_shape_t = typename detail::Plan<Net, In>::out;

/// PyTorch-style module path of layer i: "part.j" inside a Named part (j counted in the part),
/// else the layer's position in the whole net ("i"), as nn.Sequential numbers its children.
template <class Net, class In>
std::string module_path(int i) {
  using N = nodes_t<Net, In>;
  std::string path;
  [&]<std::size_t... Is>(std::index_sequence<Is...>) {
    ((int(Is) == i
          ? (path = std::tuple_element_t<Is, N>::part.empty() ? std::to_string(i)
                                                              : std::string(std::tuple_element_t<Is, N>::part) + "." +
                                                                    std::to_string(std::tuple_element_t<Is, N>::local),
             0)
          : 0),
     ...);
  }
  (std::make_index_sequence<std::tuple_size_v<N>>{});
  return path;
}

}  // namespace ctnn
