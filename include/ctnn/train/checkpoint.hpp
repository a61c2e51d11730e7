#pragma once
// Training checkpoints in the safetensors layout (include/ctnn/io/safetensors.hpp):
//   * every parameter and buffer under its PyTorch name ("features.0.weight",
//     "features.1.running_mean", ...); a module with buffers (a layer whose params() declares
//     non-trainable tensors: BatchNorm's running statistics) also gets "<module>.num_batches_tracked"
//     (I64), so that torch's load_state_dict takes the file as it is;
//   * the optimizer state ("optimizer.momentum_buffer" or "optimizer.exp_avg"/"exp_avg_sq");
//   * metadata: the architecture string, epochs done, global step, seed and anything the caller adds.
// Writes are atomic (temporary file + rename): a kill leaves the previous checkpoint intact.
// train::Checkpoint is the train::fit callback: resume at the start, a checkpoint after every epoch.
#include <fmt/core.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "ctnn/error.hpp"
#include "ctnn/io/safetensors.hpp"
#include "ctnn/summary.hpp"
#include "ctnn/train/optimizer.hpp"

namespace ctnn::train {

/// Where training stands: enough to continue exactly where it stopped.
struct TrainState {
  int epochs_done = 0;                       ///< completed epochs, over all stages
  std::uint64_t step = 0;                    ///< optimizer steps so far (seeds dropout)
  std::map<std::string, std::string> extra;  ///< caller's metadata (preset, seed, ...)
};

namespace detail {
inline const char* optimizer_kind(const SGD&) { return "sgd"; }
inline const char* optimizer_kind(const Adam&) { return "adam"; }
inline const char* optimizer_kind(const Optimizer& o) {
  return std::visit([](const auto& x) { return optimizer_kind(x); }, o);
}

inline void write_optimizer_state(io::SafetensorsFile& f, const SGD& sgd) {
  if (!sgd.momentum_buffer.empty())
    f.tensors.push_back(io::TensorRecord::from_floats("optimizer.momentum_buffer",
                                                      {std::int64_t(sgd.momentum_buffer.size())}, sgd.momentum_buffer));
}
inline void write_optimizer_state(io::SafetensorsFile& f, const Adam& adam) {
  if (adam.exp_avg.empty()) return;
  const std::int64_t n = std::int64_t(adam.exp_avg.size());
  f.tensors.push_back(io::TensorRecord::from_floats("optimizer.exp_avg", {n}, adam.exp_avg));
  f.tensors.push_back(io::TensorRecord::from_floats("optimizer.exp_avg_sq", {n}, adam.exp_avg_sq));
  f.metadata["optimizer.t"] = std::to_string(adam.t);
}
inline void write_optimizer_state(io::SafetensorsFile& f, const Optimizer& o) {
  std::visit([&](const auto& x) { write_optimizer_state(f, x); }, o);
}

/// `state_vector(name)`: the named optimizer tensor, or empty when the file has none.
template <class V>
void read_optimizer_state(SGD& sgd, const io::SafetensorsFile&, V&& state_vector, const std::string&) {
  sgd.momentum_buffer = state_vector("optimizer.momentum_buffer");
}
template <class V>
void read_optimizer_state(Adam& adam, const io::SafetensorsFile& f, V&& state_vector, const std::string& where) {
  adam.exp_avg = state_vector("optimizer.exp_avg");
  adam.exp_avg_sq = state_vector("optimizer.exp_avg_sq");
  if (adam.exp_avg.empty()) return void(adam.t = 0);
  const auto it = f.metadata.find("optimizer.t");
  if (it == f.metadata.end()) throw Error(where + "not a ctnn checkpoint (metadata 'optimizer.t' missing)");
  adam.t = std::stoll(it->second);
}
template <class V>
void read_optimizer_state(Optimizer& o, const io::SafetensorsFile& f, V&& state_vector, const std::string& where) {
  std::visit([&](auto& x) { read_optimizer_state(x, f, state_vector, where); }, o);
}

/// "features.1." for "features.1.running_var": the module a tensor belongs to.
inline std::string module_of(const std::string& name) { return name.substr(0, name.rfind('.') + 1); }
}  // namespace detail

template <class M, OptimizerValue O>
io::SafetensorsFile make_checkpoint(M& model, const O& opt, const TrainState& st) {
  using Net = typename M::net_type;
  using In = typename M::input_shape;
  io::SafetensorsFile f;
  f.metadata = st.extra;
  f.metadata["ctnn.architecture"] = architecture<Net, In>();
  f.metadata["ctnn.epochs_done"] = std::to_string(st.epochs_done);
  f.metadata["ctnn.step"] = std::to_string(st.step);
  const auto tensors = model.named_tensors();
  bool module_has_buffers = false;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const auto& t = tensors[i];
    f.tensors.push_back(io::TensorRecord::from_floats(t.name, t.shape, t.data));
    const std::string module = detail::module_of(t.name);
    module_has_buffers |= !t.trainable;
    if (i + 1 < tensors.size() && detail::module_of(tensors[i + 1].name) == module) continue;
    // The module's last tensor. PyTorch's modules with running statistics (BatchNorm) also keep a
    // step counter after them.
    if (std::exchange(module_has_buffers, false)) {
      io::TensorRecord c{module + "num_batches_tracked", "I64", {}, {}};
      const auto steps = std::int64_t(st.step);
      c.data.resize(8);
      std::memcpy(c.data.data(), &steps, 8);
      f.tensors.push_back(std::move(c));
    }
  }
  detail::write_optimizer_state(f, opt);
  f.metadata["optimizer.kind"] = detail::optimizer_kind(opt);
  return f;
}

template <class M, OptimizerValue O>
void save_checkpoint(const std::filesystem::path& path, M& model, const O& opt, const TrainState& st) {
  io::save_safetensors_atomic(path, make_checkpoint(model, opt, st));
}

/// Loads a checkpoint into model and optimizer. Throws ctnn::Error, naming the file, when it is
/// corrupt or truncated (from the reader), was written by another net (architecture differs),
/// or lacks a tensor or has one of the wrong shape. Nothing is modified unless all checks pass.
template <class M, OptimizerValue O>
TrainState load_checkpoint(const std::filesystem::path& path, M& model, O& opt) {
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
    throw Error(where + "checkpoint of another network: it holds\n  " + arch + "\nthis program's network is\n  " +
                want);
  auto tensors = model.named_tensors();
  std::vector<std::vector<float>> values;
  for (const auto& t : tensors) {
    const auto& r = f.at(t.name);
    if (r.shape != t.shape) throw Error(where + "tensor '" + t.name + "' has another shape than the network's");
    values.push_back(r.to_floats());
  }
  const std::string kind = meta("optimizer.kind");
  if (kind != detail::optimizer_kind(opt))
    throw Error(where + "checkpoint was written with optimizer '" + kind + "', this run uses another");
  const std::size_t np = model.parameters().size();
  auto state_vector = [&](const char* name) {
    const auto* r = f.find(name);
    std::vector<float> v = r ? r->to_floats() : std::vector<float>{};
    if (r && v.size() != np)
      throw Error(where + std::string(name) + " has " + std::to_string(v.size()) + " values, expected " +
                  std::to_string(np));
    return v;
  };
  O loaded = opt;
  detail::read_optimizer_state(loaded, f, state_vector, where);
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
  for (std::size_t i = 0; i < tensors.size(); ++i)
    std::copy(values[i].begin(), values[i].end(), tensors[i].data.begin());
  opt = std::move(loaded);
  return st;
}

/// train::fit callback: continues from `path` when `resume` is set and the file exists (else
/// starts afresh), and writes `path` atomically after every epoch (after the callbacks listed
/// before it, e.g. the CSV log: a kill between the two leaves a row the resumed run drops).
struct Checkpoint {
  std::filesystem::path path;  ///< e.g. runs/x/checkpoint.safetensors
  bool resume = false;
  std::map<std::string, std::string> metadata;  ///< written; on resume, a value the checkpoint holds must match
  std::map<std::string, std::string> info;      ///< written, never compared (e.g. the input normalisation)
  std::optional<std::uint64_t> seed;            ///< written as "seed"; on resume it must match
  bool quiet = false;                           ///< no "resumed from" line

  /// Removes temporary files a kill during a write left behind; on resume loads model,
  /// optimizer and TrainState (refusing a checkpoint of another run) and moves s.first_epoch.
  template <class S>
  void on_resume(S& s) {
    namespace fs = std::filesystem;
    const fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
    fs::create_directories(dir);
    const std::string tmp_prefix = path.filename().string() + ".tmp.";
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().filename().string().starts_with(tmp_prefix)) fs::remove(e.path());
    s.state.extra = info;
    for (const auto& [key, value] : metadata) s.state.extra[key] = value;
    if (seed) s.state.extra["seed"] = std::to_string(*seed);
    if (!resume || !fs::exists(path)) return;
    TrainState st = load_checkpoint(path, s.model, s.optimizer);
    for (const auto& [key, value] : metadata)  // e.g. the preset: resuming another run is a mistake
      if (auto it = st.extra.find(key); it != st.extra.end() && it->second != value)
        throw Error(path.string() + ": checkpoint was written by a run with " + key + "=" + it->second +
                    ", this run has " + key + "=" + value);
    if (auto it = st.extra.find("seed"); seed && it != st.extra.end() && it->second != std::to_string(*seed))
      throw Error(path.string() + ": checkpoint was written with seed " + it->second + ", this run has seed " +
                  std::to_string(*seed));
    s.model.context().step = st.step;  // dropout masks continue where they were
    push_optimizer(s.model, s.optimizer);
    s.first_epoch = st.epochs_done;
    s.state = std::move(st);
    if (!quiet) fmt::print("resumed from {} after epoch {}\n", path.string(), s.state.epochs_done), std::fflush(stdout);
  }

  template <class S>
  void on_epoch_end(S& s) {
    pull_optimizer(s.model, s.optimizer);
    save_checkpoint(path, s.model, s.optimizer, s.state);
  }
};

}  // namespace ctnn::train
