#pragma once
// Sequential<Layers...>: a network as one flat type. Given the sample shape of the input,
// the shape rule of every layer is folded over the pack at compile time; a layer that cannot take
// the shape it receives stops compilation with a static_assert whose instantiation names the
// layer index, the layer, the shape it got and the shape it expects, e.g.
//   required from 'struct ctnn::shape_mismatch<ctnn::layer_index<19>, ctnn::Linear<4000, 128>,
//                   ctnn::got<ctnn::Shape<4608, 1, 1> >, ctnn::expected<ctnn::Shape<4000, 1, 1> > >'
// The pack stays flat (no dlib-style nesting), which keeps type names short and compiles fast.
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "ctnn/shape.hpp"

namespace ctnn {

template <class... Layers>
struct Sequential {
  static constexpr std::size_t size = sizeof...(Layers);
};

/// concat_t<Sequential<A...>, Sequential<B...>, ...> = Sequential<A..., B...>: compose nets from
/// named parts while the result stays one flat pack.
template <class... Nets>
struct Concat;
template <class... A>
struct Concat<Sequential<A...>> {
  using type = Sequential<A...>;
};
template <class... A, class... B, class... Rest>
struct Concat<Sequential<A...>, Sequential<B...>, Rest...> : Concat<Sequential<A..., B...>, Rest...> {};
template <class... Nets>
using concat_t = typename Concat<Nets...>::type;

// Tag types that only exist to make a compiler error readable.
template <int Index> struct layer_index {};
template <class S> struct got {};
template <class S> struct expected {};

template <class Index, class Layer, class Got, class Expected>
struct shape_mismatch;
template <int I, class Layer, class In, class Want>
struct shape_mismatch<layer_index<I>, Layer, got<In>, expected<Want>> {
  static_assert(Layer::template accepts<In>,
                "ctnn: shape mismatch — layer_index<i> (0-based) cannot take the input shape got<...>; "
                "it expects expected<...> (see the shape_mismatch<...> instantiation in this message)");
  static constexpr bool ok = Layer::template accepts<In>;
};

/// One layer placed in a network: its index, description and the sample shapes around it.
template <int I, class L, class In, class Out>
struct Node {
  static constexpr int index = I;
  using layer = L;
  using in = In;
  using out = Out;
};

namespace detail {

template <bool Ok, class L, class In>
struct next_shape { using type = typename L::template output_shape<In>; };
// After a mismatch, continue as if the layer had received what it expected, so the layers
// after it see plausible shapes and the compiler reports the first error only.
template <class L, class In>
struct next_shape<false, L, In> { using type = typename L::template output_shape<typename L::template expected_input<In>>; };

template <int I, class In, class... Ls>
struct Fold {
  using nodes = std::tuple<>;
  using out = In;
};
template <int I, class In, class L, class... Rest>
struct Fold<I, In, L, Rest...> {
  static constexpr bool ok =
      shape_mismatch<layer_index<I>, L, got<In>, expected<typename L::template expected_input<In>>>::ok;
  using node = Node<I, L, In, typename next_shape<ok, L, In>::type>;
  using rest = Fold<I + 1, typename node::out, Rest...>;
  using nodes = decltype(std::tuple_cat(std::declval<std::tuple<node>>(), std::declval<typename rest::nodes>()));
  using out = typename rest::out;
};

template <class Net, class In>
struct Plan;
template <class... Ls, class In>
struct Plan<Sequential<Ls...>, In> : Fold<0, In, Ls...> {};

template <class Tuple, std::size_t... Is>
constexpr int first_flatten(std::index_sequence<Is...>) {
  int f = -1;
  ((f < 0 && std::string_view(std::tuple_element_t<Is, Tuple>::layer::name) == "Flatten" ? f = int(Is) : 0), ...);
  return f;
}

}  // namespace detail

/// The nodes (std::tuple<Node<...>...>) and output shape of Net applied to sample shape In.
template <class Net, class In>
using nodes_t = typename detail::Plan<Net, In>::nodes;
template <class Net, class In>
using output_shape_t = typename detail::Plan<Net, In>::out;

/// PyTorch-style module path of layer i: layers before the first Flatten are "features.i",
/// after it "classifier.j" (j counted from the layer after Flatten) — the layout of torchvision's
/// AlexNet and of the seed lab's net. A net without Flatten uses plain "i".
template <class Net, class In>
std::string module_path(int i) {
  using N = nodes_t<Net, In>;
  constexpr int f = detail::first_flatten<N>(std::make_index_sequence<std::tuple_size_v<N>>{});
  if (f < 0) return std::to_string(i);
  if (i == f) return "flatten";
  return i < f ? "features." + std::to_string(i) : "classifier." + std::to_string(i - f - 1);
}

}  // namespace ctnn
