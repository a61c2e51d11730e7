#pragma once
// Training checkpoints in the safetensors layout (include/ctnn/io/safetensors.hpp):
//   * every parameter and buffer under its PyTorch name ("features.0.weight",
//     "features.1.running_mean", ...) plus "<bn>.num_batches_tracked" (I64), so that
//     torch's load_state_dict takes the file as it is;
//   * the optimizer state ("optimizer.momentum_buffer" or "optimizer.exp_avg"/"exp_avg_sq");
//   * metadata: the architecture string, epochs done, global step, seed and anything the caller adds.
// Writes are atomic (temporary file + rename): a kill leaves the previous checkpoint intact.
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <variant>

#include "ctnn/error.hpp"
#include "ctnn/io/safetensors.hpp"
#include "ctnn/optim/adam.hpp"
#include "ctnn/optim/sgd.hpp"
#include "ctnn/summary.hpp"

namespace ctnn::train {

using Optimizer = std::variant<SGD, Adam>;

/// Where training stands: enough to continue exactly where it stopped.
struct TrainState {
  int epochs_done = 0;          ///< completed epochs, over all stages
  std::uint64_t step = 0;       ///< optimizer steps so far (seeds dropout)
  std::map<std::string, std::string> extra;  ///< caller's metadata (preset, seed, ...)
};

template <class M>
io::SafetensorsFile make_checkpoint(M& model, const Optimizer& opt, const TrainState& st) {
  using Net = typename M::net_type;
  using In = typename M::input_shape;
  io::SafetensorsFile f;
  f.metadata = st.extra;
  f.metadata["ctnn.architecture"] = architecture<Net, In>();
  f.metadata["ctnn.epochs_done"] = std::to_string(st.epochs_done);
  f.metadata["ctnn.step"] = std::to_string(st.step);
  for (const auto& t : model.named_tensors()) {
    f.tensors.push_back(io::TensorRecord::from_floats(t.name, t.shape, t.data));
    if (t.name.ends_with(".running_var")) {  // PyTorch's BatchNorm also keeps a step counter
      io::TensorRecord c{t.name.substr(0, t.name.size() - 11) + "num_batches_tracked", "I64", {}, {}};
      const auto steps = std::int64_t(st.step);
      c.data.resize(8);
      std::memcpy(c.data.data(), &steps, 8);
      f.tensors.push_back(std::move(c));
    }
  }
  if (const auto* sgd = std::get_if<SGD>(&opt); sgd && !sgd->momentum_buffer.empty()) {
    f.tensors.push_back(io::TensorRecord::from_floats("optimizer.momentum_buffer",
                                                      {std::int64_t(sgd->momentum_buffer.size())}, sgd->momentum_buffer));
  } else if (const auto* adam = std::get_if<Adam>(&opt); adam && !adam->exp_avg.empty()) {
    const std::int64_t n = std::int64_t(adam->exp_avg.size());
    f.tensors.push_back(io::TensorRecord::from_floats("optimizer.exp_avg", {n}, adam->exp_avg));
    f.tensors.push_back(io::TensorRecord::from_floats("optimizer.exp_avg_sq", {n}, adam->exp_avg_sq));
    f.metadata["optimizer.t"] = std::to_string(adam->t);
  }
  f.metadata["optimizer.kind"] = std::holds_alternative<SGD>(opt) ? "sgd" : "adam";
  return f;
}

template <class M>
void save_checkpoint(const std::filesystem::path& path, M& model, const Optimizer& opt, const TrainState& st) {
  io::save_safetensors_atomic(path, make_checkpoint(model, opt, st));
}

/// Loads a checkpoint into model and optimizer. Throws ctnn::Error, naming the file, when it is
/// corrupt or truncated (from the reader), was written by another net (architecture differs),
/// or lacks a tensor or has one of the wrong shape. Nothing is modified unless all checks pass.
template <class M>
TrainState load_checkpoint(const std::filesystem::path& path, M& model, Optimizer& opt) {
  using Net = typename M::net_type;
  using In = typename M::input_shape;
  const io::SafetensorsFile f = io::load_safetensors(path);
  const std::string where = path.string() + ": ";
  auto meta = [&](const std::string& key) {
    auto it = f.metadata.find(key);
    if (it == f.metadata.end()) throw Error(where + "not a ctnn checkpoint (metadata '" + key + "' missing)");
    return it->second;
  };
  const std::string arch = meta("ctnn.architecture"), want = architecture<Net, In>();
  if (arch != want)
    throw Error(where + "checkpoint of another network: it holds\n  " + arch + "\nthis program's network is\n  " + want);
  auto tensors = model.named_tensors();
  std::vector<std::vector<float>> values;
  for (const auto& t : tensors) {
    const auto& r = f.at(t.name);
    if (r.shape != t.shape) throw Error(where + "tensor '" + t.name + "' has another shape than the network's");
    values.push_back(r.to_floats());
  }
  const std::string kind = meta("optimizer.kind");
  if (kind != (std::holds_alternative<SGD>(opt) ? "sgd" : "adam"))
    throw Error(where + "checkpoint was written with optimizer '" + kind + "', this run uses another");
  const std::size_t np = model.parameters().size();
  auto state_vector = [&](const char* name) {
    const auto* r = f.find(name);
    std::vector<float> v = r ? r->to_floats() : std::vector<float>{};
    if (r && v.size() != np) throw Error(where + std::string(name) + " has " + std::to_string(v.size()) + " values, expected " + std::to_string(np));
    return v;
  };
  Optimizer loaded = opt;
  if (auto* sgd = std::get_if<SGD>(&loaded)) {
    sgd->momentum_buffer = state_vector("optimizer.momentum_buffer");
  } else {
    auto& adam = std::get<Adam>(loaded);
    adam.exp_avg = state_vector("optimizer.exp_avg");
    adam.exp_avg_sq = state_vector("optimizer.exp_avg_sq");
    adam.t = adam.exp_avg.empty() ? 0 : std::stoll(meta("optimizer.t"));
  }
  TrainState st;
  try {
    st.epochs_done = std::stoi(meta("ctnn.epochs_done"));
    st.step = std::stoull(meta("ctnn.step"));
  } catch (const std::logic_error&) {
    throw Error(where + "malformed epoch or step in the metadata");
  }
  for (const auto& [k, v] : f.metadata)
    if (!k.starts_with("ctnn.") && !k.starts_with("optimizer.")) st.extra[k] = v;
  // All checks passed: commit.
  for (std::size_t i = 0; i < tensors.size(); ++i) std::copy(values[i].begin(), values[i].end(), tensors[i].data.begin());
  opt = std::move(loaded);
  return st;
}

}  // namespace ctnn::train
