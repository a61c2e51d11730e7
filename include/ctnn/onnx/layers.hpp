#pragma once
// How each layer becomes ONNX nodes (opset 13), in evaluation semantics: one Exporter<Layer>
// specialisation per layer type, each with
//
//   template <class In>   // the layer's input sample shape (ctnn/shape.hpp)
//   static std::string emit(Graph& g, const Site& at, const std::string& x);
//
// which appends the nodes computing the layer from value `x` and returns the name of its output.
// `at.module` is the layer's PyTorch module path ("features.0"): its tensors are
// g.weight(at.tensor("weight")), and it names the nodes. A new layer type adds one specialisation
// here (or in its own header, included before ctnn/onnx/save.hpp is used); a composite layer
// (e.g. a residual block) emits its parts with emit_net<Part, In>(g, x, at.module + ".part") and
// joins them, e.g. with g.op("Add", {x, y}, at.module): ctnn/onnx/residual.hpp does that for Residual.
#include <cmath>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "ctnn/layers.hpp"
#include "ctnn/onnx/graph.hpp"
#include "ctnn/sequential.hpp"

namespace ctnn::onnx {

/// Where a layer sits in the net: its module path, which names its tensors and nodes.
struct Site {
  std::string module;
  std::string tensor(std::string_view attribute) const { return module + "." + std::string(attribute); }
  std::string node(std::string_view part) const { return module + "/" + std::string(part); }
};

/// The primary template marks "no exporter"; save() turns that into one static_assert naming the layer.
template <class Layer>
struct Exporter {
  static constexpr bool missing = true;
};
template <class Layer>
inline constexpr bool has_exporter_v = !requires {
  Exporter<Layer>::missing;
};

// ---- layers with parameters ---------------------------------------------------------------------

// Any Conv2d: the attributes are read from the layer, so more template parameters (e.g. groups)
// need no new specialisation, only their attribute.
template <auto... A>
struct Exporter<Conv2d<A...>> {
  using L = Conv2d<A...>;
  template <class In>
  static std::string emit(Graph& g, const Site& at, const std::string& x) {
    const std::string w = g.weight(at.tensor("weight"));
    auto& n =
        L::bias ? g.node("Conv", {x, w, g.weight(at.tensor("bias"))}, at.module) : g.node("Conv", {x, w}, at.module);
    constexpr std::int64_t k = L::kernel_size, s = L::stride, p = L::padding;
    Graph::attr(n, "kernel_shape", {k, k});
    Graph::attr(n, "strides", {s, s});
    Graph::attr(n, "pads", {p, p, p, p});
    if constexpr (requires { L::groups; }) Graph::attr(n, "group", std::int64_t(L::groups));
    return n.output(0);
  }
};

// y = x·Wᵀ + b: Gemm with transB (W is stored out × in, as PyTorch).
template <auto... A>
struct Exporter<Linear<A...>> {
  using L = Linear<A...>;
  template <class In>
  static std::string emit(Graph& g, const Site& at, const std::string& x) {
    const std::string w = g.weight(at.tensor("weight"));
    auto& n =
        L::bias ? g.node("Gemm", {x, w, g.weight(at.tensor("bias"))}, at.module) : g.node("Gemm", {x, w}, at.module);
    Graph::attr(n, "transB", std::int64_t(1));
    return n.output(0);
  }
};

// Evaluation: (x − running_mean)/√(running_var + eps)·weight + bias, on N×C (1d) or N×C×H×W (2d).
template <int D, Ratio M, Ratio E>
struct Exporter<BatchNorm<D, M, E>> {
  template <class In>
  static std::string emit(Graph& g, const Site& at, const std::string& x) {
    auto& n = g.node("BatchNormalization",
                     {x, g.weight(at.tensor("weight")), g.weight(at.tensor("bias")),
                      g.weight(at.tensor("running_mean")), g.weight(at.tensor("running_var"))},
                     at.module);
    Graph::attr(n, "epsilon", BatchNorm<D, M, E>::eps);
    Graph::attr(n, "momentum", 1.f - BatchNorm<D, M, E>::momentum);  // ONNX weighs the running value by it
    return n.output(0);
  }
};

// ---- activations and other element-wise layers --------------------------------------------------

template <>
struct Exporter<ReLU> {
  template <class In>
  static std::string emit(Graph& g, const Site& at, const std::string& x) {
    return g.op("Relu", {x}, at.module);
  }
};
template <>
struct Exporter<Sigmoid> {
  template <class In>
  static std::string emit(Graph& g, const Site& at, const std::string& x) {
    return g.op("Sigmoid", {x}, at.module);
  }
};
template <>
struct Exporter<Tanh> {
  template <class In>
  static std::string emit(Graph& g, const Site& at, const std::string& x) {
    return g.op("Tanh", {x}, at.module);
  }
};
template <Ratio S>
struct Exporter<LeakyReLU<S>> {
  template <class In>
  static std::string emit(Graph& g, const Site& at, const std::string& x) {
    auto& n = g.node("LeakyRelu", {x}, at.module);
    Graph::attr(n, "alpha", LeakyReLU<S>::negative_slope);
    return n.output(0);
  }
};
// Exact GELU, x·½(1 + erf(x/√2)), from opset-13 ops (Gelu is opset 20, which few runtimes read);
// the same five nodes torch.onnx writes for nn.GELU().
template <>
struct Exporter<GELU> {
  template <class In>
  static std::string emit(Graph& g, const Site& at, const std::string& x) {
    const std::string d = g.op("Div", {x, g.scalar(at.node("sqrt2"), float(std::sqrt(2.0)))}, at.node("Div"));
    const std::string e = g.op("Erf", {d}, at.node("Erf"));
    const std::string a = g.op("Add", {e, g.scalar(at.node("one"), 1.f)}, at.node("Add"));
    const std::string m = g.op("Mul", {x, a}, at.node("Mul"));
    return g.op("Mul", {m, g.scalar(at.node("half"), 0.5f)}, at.module);
  }
};
template <Ratio F>
struct Exporter<Scale<F>> {
  template <class In>
  static std::string emit(Graph& g, const Site& at, const std::string& x) {
    return g.op("Mul", {x, g.scalar(at.node("factor"), Scale<F>::factor)}, at.module);
  }
};
// Evaluation: the identity, so no node at all.
template <Ratio P>
struct Exporter<DropoutP<P>> {
  template <class In>
  static std::string emit(Graph&, const Site&, const std::string& x) {
    return x;
  }
};
template <>
struct Exporter<Flatten> {
  template <class In>
  static std::string emit(Graph& g, const Site& at, const std::string& x) {
    auto& n = g.node("Flatten", {x}, at.module);
    Graph::attr(n, "axis", std::int64_t(1));
    return n.output(0);
  }
};

// ---- pooling -------------------------------------------------------------------------------------

template <int K, int S>
struct Exporter<MaxPool2d<K, S>> {
  template <class In>
  static std::string emit(Graph& g, const Site& at, const std::string& x) {
    auto& n = g.node("MaxPool", {x}, at.module);
    Graph::attr(n, "kernel_shape", {K, K});
    Graph::attr(n, "strides", {S, S});
    return n.output(0);  // pads 0, floor mode: the defaults
  }
};
// Padding as an explicit zero Pad, then an unpadded AveragePool: the same as AveragePool's
// count_include_pad=1 (PyTorch's default, divide by k² everywhere), which OpenCV 4.6's importer
// ignores (it divides border windows by the pixels inside the image).
template <int K, int S, int P>
struct Exporter<AvgPool2d<K, S, P>> {
  template <class In>
  static std::string emit(Graph& g, const Site& at, std::string x) {
    if constexpr (P > 0)
      x = g.op("Pad", {x, g.constant_i64(at.node("pads"), {0, 0, P, P, 0, 0, P, P})}, at.node("Pad"));
    auto& n = g.node("AveragePool", {x}, at.module);
    Graph::attr(n, "kernel_shape", {K, K});
    Graph::attr(n, "strides", {S, S});
    return n.output(0);
  }
};
template <>
struct Exporter<AdaptiveAvgPool2d<1>> {
  template <class In>
  static std::string emit(Graph& g, const Site& at, const std::string& x) {
    return g.op("GlobalAveragePool", {x}, at.module);
  }
};
template <>
struct Exporter<AdaptiveMaxPool2d<1>> {
  template <class In>
  static std::string emit(Graph& g, const Site& at, const std::string& x) {
    return g.op("GlobalMaxPool", {x}, at.module);
  }
};

// ---- nets ------------------------------------------------------------------------------------------

/// Tag types naming the first layer without an exporter in the static_assert of emit_net.
template <class Index, class Layer>
struct no_onnx_exporter {
  static_assert(has_exporter_v<Layer>,
                "ctnn::onnx: no ONNX exporter for layer_index<i> (see no_onnx_exporter<...> in this message); "
                "specialise ctnn::onnx::Exporter<Layer> (ctnn/onnx/layers.hpp)");
  static constexpr bool ok = has_exporter_v<Layer>;
};

/// Appends the nodes of Net applied to sample shape In, reading value `x`; returns the output's
/// name. Layer i's module path is module_path<Net, In>(i), under `prefix` ("prefix.3") when a
/// composite layer exports its parts.
template <class Net, class In>
std::string emit_net(Graph& g, std::string x, const std::string& prefix = "") {
  using N = nodes_t<Net, In>;
  [&]<std::size_t... Is>(std::index_sequence<Is...>) {
    (
        [&] {
          using Node = std::tuple_element_t<Is, N>;
          using L = typename Node::layer;
          if constexpr (no_onnx_exporter<layer_index<int(Is)>, L>::ok) {
            const std::string path = module_path<Net, In>(int(Is));
            x = Exporter<L>::template emit<typename Node::in>(g, Site{prefix.empty() ? path : prefix + "." + path}, x);
          }
        }(),
        ...);
  }
  (std::make_index_sequence<std::tuple_size_v<N>>{});
  return x;
}

}  // namespace ctnn::onnx
