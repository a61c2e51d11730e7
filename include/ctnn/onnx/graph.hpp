#pragma once
// ctnn::onnx::Graph: a thin writer over ONNX's protobuf GraphProto (Debian libonnx-dev, target
// ctnn::onnx) for the layer exporters (onnx/layers.hpp): unique value names, initializers from the
// model's named tensors (kept under their PyTorch names, "features.0.weight"), constants, and
// nodes with attributes. Only this folder includes the protobuf headers; ctnn::ctnn never does.
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ctnn/error.hpp"
#include "ctnn/model.hpp"

namespace ctnn::onnx {

class Graph {
 public:
  /// `tensors`: the model's named_tensors(), which initializers are copied from.
  Graph(::onnx::GraphProto& proto, std::vector<NamedTensor> tensors) : g_(proto) {
    for (auto& t : tensors) tensors_.emplace(t.name, std::move(t));
  }

  /// A value name not used yet: `hint`, else hint_1, hint_2, ...
  std::string fresh(std::string_view hint) {
    std::string name(hint);
    for (int i = 1; used_.contains(name); ++i) name = std::string(hint) + "_" + std::to_string(i);
    used_.insert(name);
    return name;
  }

  /// The initializer holding the model's tensor `name` ("features.0.weight"), added on first use.
  /// Throws ctnn::Error if the model has no such tensor (an exporter asked for the wrong name).
  std::string weight(const std::string& name) {
    if (initialized_.contains(name)) return name;
    const auto it = tensors_.find(name);
    if (it == tensors_.end()) throw Error("onnx export: the model has no tensor '" + name + "'");
    add_initializer(fresh_exact(name), it->second.shape, it->second.data);
    initialized_.insert(name);
    return name;
  }

  /// A float constant (an initializer) of the given shape; {} is a scalar.
  std::string constant(std::string_view hint, std::vector<std::int64_t> shape, std::span<const float> values) {
    const std::string name = fresh(hint);
    add_initializer(name, shape, values);
    return name;
  }
  std::string scalar(std::string_view hint, float value) {
    return constant(hint, {}, std::span<const float>(&value, 1));
  }
  /// An int64 vector constant (shapes, pads).
  std::string constant_i64(std::string_view hint, std::initializer_list<std::int64_t> values) {
    const std::string name = fresh(hint);
    ::onnx::TensorProto& t = *g_.add_initializer();
    t.set_name(name);
    t.set_data_type(::onnx::TensorProto::INT64);
    t.add_dims(std::int64_t(values.size()));
    for (auto v : values) t.add_int64_data(v);
    return name;
  }

  /// Appends node `op` (named `name`) reading `inputs`; its one output gets a fresh name from
  /// `name`. Returns the node, for attributes; its output is node.output(0).
  ::onnx::NodeProto& node(std::string_view op, std::initializer_list<std::string> inputs, std::string_view name) {
    ::onnx::NodeProto& n = *g_.add_node();
    n.set_op_type(std::string(op));
    n.set_name(std::string(name));
    for (const auto& i : inputs) n.add_input(i);
    n.add_output(fresh(name));
    return n;
  }
  /// node() for a node without attributes: returns its output's name.
  std::string op(std::string_view op, std::initializer_list<std::string> inputs, std::string_view name) {
    return node(op, inputs, name).output(0);
  }

  static void attr(::onnx::NodeProto& n, const char* key, std::int64_t v) {
    auto& a = *n.add_attribute();
    a.set_name(key);
    a.set_type(::onnx::AttributeProto::INT);
    a.set_i(v);
  }
  static void attr(::onnx::NodeProto& n, const char* key, float v) {
    auto& a = *n.add_attribute();
    a.set_name(key);
    a.set_type(::onnx::AttributeProto::FLOAT);
    a.set_f(v);
  }
  static void attr(::onnx::NodeProto& n, const char* key, std::initializer_list<std::int64_t> v) {
    auto& a = *n.add_attribute();
    a.set_name(key);
    a.set_type(::onnx::AttributeProto::INTS);
    for (auto x : v) a.add_ints(x);
  }

  ::onnx::GraphProto& proto() { return g_; }

 private:
  std::string fresh_exact(const std::string& name) {
    if (used_.contains(name)) throw Error("onnx export: value name '" + name + "' used twice");
    used_.insert(name);
    return name;
  }
  void add_initializer(const std::string& name, const std::vector<std::int64_t>& shape, std::span<const float> v) {
    ::onnx::TensorProto& t = *g_.add_initializer();
    t.set_name(name);
    t.set_data_type(::onnx::TensorProto::FLOAT);
    for (auto d : shape) t.add_dims(d);
    t.set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)));  // little-endian
  }

  ::onnx::GraphProto& g_;
  std::map<std::string, NamedTensor> tensors_;
  std::set<std::string> used_, initialized_;
};

}  // namespace ctnn::onnx
