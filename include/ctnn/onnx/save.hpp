#pragma once
// ctnn::onnx::save(model, "net.onnx"): the net in evaluation semantics (BatchNorm on its running
// statistics, Dropout the identity) as an ONNX model, opset 13, for onnxruntime, OpenCV's DNN
// module, TensorRT and the like. Needs the CMake target ctnn::onnx (Debian libonnx-dev and
// libprotobuf-dev); ctnn::ctnn does not.
//
//   Model<models::AlexNetCifar, models::CifarImage, cpu> model;
//   load_weights(model, "checkpoint.safetensors");
//   ctnn::onnx::save(model, "alexnet.onnx");   // input "input" N×3×32×32, output "output" N×10
//
// Inputs are the normalised NCHW floats the model takes (normalise as in training; the
// checkpoint's normalisation is copied into the file's metadata when given). Weights are
// initializers named as the checkpoint's tensors ("features.0.weight").
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "ctnn/error.hpp"
#include "ctnn/onnx/graph.hpp"
#include "ctnn/onnx/layers.hpp"
#include "ctnn/onnx/residual.hpp"  // Residual blocks, where ctnn/residual.hpp exists
#include "ctnn/summary.hpp"

namespace ctnn::onnx {

struct SaveOptions {
  std::int64_t opset = 13;    ///< the layers emit opset-13 operators (valid in every later opset)
  bool dynamic_batch = true;  ///< batch dimension "N"; false: fixed to `batch`
  std::int64_t batch = 1;
  std::map<std::string, std::string> metadata;  ///< e.g. data::normalize_metadata(norm)
};

namespace detail {
template <class S>
void set_shape(::onnx::ValueInfoProto& v, const SaveOptions& o) {
  v.mutable_type()->mutable_tensor_type()->set_elem_type(::onnx::TensorProto::FLOAT);
  auto& shape = *v.mutable_type()->mutable_tensor_type()->mutable_shape();
  auto& n = *shape.add_dim();
  if (o.dynamic_batch)
    n.set_dim_param("N");
  else
    n.set_dim_value(o.batch);
  shape.add_dim()->set_dim_value(S::c);
  if constexpr (!S::flat) {  // flat shapes are N×C, as ctnn's Linear and BatchNorm1d see them
    shape.add_dim()->set_dim_value(S::h);
    shape.add_dim()->set_dim_value(S::w);
  }
}
}  // namespace detail

/// The ONNX model of `model` (its current weights). Throws ctnn::Error if an exporter asks for a
/// tensor the model does not have.
template <class M>
::onnx::ModelProto to_model_proto(M& model, const SaveOptions& opt = {}) {
  using Net = typename M::net_type;
  using In = typename M::input_shape;
  ::onnx::ModelProto m;
  m.set_ir_version(7);  // ONNX 1.7: the first IR with opset 13; every runtime of the last years reads it
  m.set_producer_name("ctnn");
  m.set_producer_version("0.1.0");
  auto& op = *m.add_opset_import();
  op.set_domain("");
  op.set_version(opt.opset);
  auto add_meta = [&](const std::string& k, const std::string& v) {
    auto& p = *m.add_metadata_props();
    p.set_key(k);
    p.set_value(v);
  };
  add_meta("ctnn.architecture", architecture<Net, In>());
  for (const auto& [k, v] : opt.metadata) add_meta(k, v);

  ::onnx::GraphProto& gp = *m.mutable_graph();
  gp.set_name("ctnn");
  Graph g(gp, model.named_tensors());
  const std::string input = g.fresh("input");
  detail::set_shape<In>(*gp.add_input(), opt);
  gp.mutable_input(0)->set_name(input);
  std::string y = emit_net<Net, In>(g, input);
  // Name the result "output": rename the value of the node that produces it, or add an Identity
  // when no node does (a net of Dropouts only).
  ::onnx::NodeProto* last = nullptr;
  for (auto& n : *gp.mutable_node())
    for (const auto& o : n.output())
      if (o == y) last = &n;
  const std::string out = g.fresh("output");
  if (last)
    last->set_output(0, out);
  else
    g.node("Identity", {y}, "output_identity").set_output(0, out);
  detail::set_shape<output_shape_t<Net, In>>(*gp.add_output(), opt);
  gp.mutable_output(0)->set_name(out);
  return m;
}

/// Writes the ONNX model of `model` to `path`. Throws ctnn::Error when the file cannot be written.
template <class M>
void save(M& model, const std::filesystem::path& path, const SaveOptions& opt = {}) {
  const ::onnx::ModelProto m = to_model_proto(model, opt);
  std::string bytes;
  if (!m.SerializeToString(&bytes)) throw Error("onnx::save: " + path.string() + ": the model could not be serialised");
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw Error("onnx::save: " + path.string() + ": cannot open for writing");
  f.write(bytes.data(), std::streamsize(bytes.size()));
  f.close();
  if (!f) throw Error("onnx::save: " + path.string() + ": write failed");
}

}  // namespace ctnn::onnx
