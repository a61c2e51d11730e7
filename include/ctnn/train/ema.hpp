#pragma once
// Exponential moving average of the weights, used for evaluation: timm's ModelEmaV2 semantics
// (also torch.optim.swa_utils.AveragedModel(avg_fn = EMA, use_buffers=True)):
//   after every optimizer step, for every parameter AND every buffer (BatchNorm's running mean
//   and variance):  ema ← decay·ema + (1 − decay)·w,   ema starting as a copy of the model.
// Buffers are averaged, not copied (ModelEmaV2 averages the whole state_dict).
//
// As train::fit callbacks: train::Ema (listed before the evaluation) keeps the average and, at the
// end of each epoch, swaps it into the model; train::EmaRestore (listed after the evaluation,
// before the checkpoint) swaps the training weights back, so checkpoints hold the weights being
// trained. With `file` set, EmaRestore also writes the averages there after every epoch
// (safetensors, atomic, "ema.params"/"ema.buffers" and the epochs done), and a resumed run
// continues from them when they belong to the epoch the checkpoint resumes from; otherwise (no
// file, or a kill between the two writes) the average restarts from the resumed weights.
// On a device backend (HasArenas) the host arenas are pulled before each update and pushed after
// each swap.
#include <algorithm>
#include <exception>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "ctnn/backend.hpp"
#include "ctnn/error.hpp"
#include "ctnn/io/safetensors.hpp"

namespace ctnn::train {

struct Ema {
  float decay = 0.999f;
  bool enabled = true;
  std::filesystem::path file;          ///< where the averages persist between runs ("": nowhere)
  std::vector<float> params, buffers;  ///< the averages, in the model's arena layout
  bool swapped = false;                ///< the model holds the averages now
  bool resumed = false;                ///< on_fit_begin took the averages from `file`

  /// ema ← w (the start, as ModelEmaV2's deepcopy).
  void reset(std::span<const float> p, std::span<const float> b) {
    params.assign(p.begin(), p.end()), buffers.assign(b.begin(), b.end());
  }
  /// ema ← decay·ema + (1 − decay)·w, element by element (float, as torch's float32 ops).
  void update(std::span<const float> p, std::span<const float> b) {
    if (p.size() != params.size() || b.size() != buffers.size()) throw Error("train::Ema: update before reset");
    const float d = decay, od = float(1.0 - double(decay));
    for (std::size_t i = 0; i < p.size(); ++i) params[i] = d * params[i] + od * p[i];
    for (std::size_t i = 0; i < b.size(); ++i) buffers[i] = d * buffers[i] + od * b[i];
  }
  /// Exchanges the model's parameters and buffers with the averages.
  template <class M>
  void swap(M& model) {
    pull(model);
    const auto p = model.parameters();
    const auto b = model.buffers();
    std::swap_ranges(p.begin(), p.end(), params.begin());
    std::swap_ranges(b.begin(), b.end(), buffers.begin());
    if constexpr (HasArenas<std::remove_cvref_t<decltype(model.context())>>) model.context().push();
    swapped = !swapped;
  }

  template <class S>
  void on_fit_begin(S& s) {
    if (!enabled) return;
    if (!(decay >= 0 && decay < 1)) throw Error("train::Ema: decay must be in [0, 1), got " + std::to_string(decay));
    pull(s.model);
    reset(s.model.parameters(), s.model.buffers());
    resumed = false;
    if (file.empty() || s.state.epochs_done == 0 || !std::filesystem::exists(file)) return;
    const io::SafetensorsFile f = io::load_safetensors(file);
    const auto it = f.metadata.find("ctnn.epochs_done");
    const auto* p = f.find("ema.params");
    const auto* b = f.find("ema.buffers");
    if (it == f.metadata.end() || it->second != std::to_string(s.state.epochs_done) || !p || !b) return;
    auto pv = p->to_floats(), bv = b->to_floats();
    if (pv.size() != params.size() || bv.size() != buffers.size()) return;
    params = std::move(pv), buffers = std::move(bv), resumed = true;
  }
  /// Writes the averages to `file` (atomically), tagged with the epochs done.
  void save(int epochs_done) const {
    if (file.empty()) return;
    io::SafetensorsFile f;
    f.metadata["ctnn.epochs_done"] = std::to_string(epochs_done);
    f.metadata["ema.decay"] = std::to_string(decay);
    f.tensors.push_back(io::TensorRecord::from_floats("ema.params", {std::int64_t(params.size())}, params));
    f.tensors.push_back(io::TensorRecord::from_floats("ema.buffers", {std::int64_t(buffers.size())}, buffers));
    io::save_safetensors_atomic(file, f);
  }
  template <class S>
  void on_batch_end(S& s) {
    if (!enabled) return;
    pull(s.model);
    update(s.model.parameters(), s.model.buffers());
  }
  template <class S>
  void on_epoch_end(S& s) {
    if (enabled && !swapped) swap(s.model);
  }
  template <class S>
  void on_exception(S& s, std::exception_ptr) {
    if (swapped) swap(s.model);
  }

 private:
  template <class M>
  static void pull(M& model) {
    if constexpr (HasArenas<std::remove_cvref_t<decltype(model.context())>>) model.context().pull();
  }
};

/// Swaps the training weights back after the evaluation of the averages and saves them to
/// ema.file (see train::Ema).
struct EmaRestore {
  Ema& ema;
  template <class S>
  void on_epoch_end(S& s) {
    if (ema.swapped) ema.swap(s.model);
    if (ema.enabled) ema.save(s.state.epochs_done);
  }
};

}  // namespace ctnn::train
