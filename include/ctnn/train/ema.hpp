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
// trained. The average is not checkpointed: a resumed run restarts it from the resumed weights.
// On a device backend (HasArenas) the host arenas are pulled before each update and pushed after
// each swap.
#include <algorithm>
#include <exception>
#include <span>
#include <string>
#include <vector>

#include "ctnn/backend.hpp"
#include "ctnn/error.hpp"

namespace ctnn::train {

struct Ema {
  float decay = 0.999f;
  bool enabled = true;
  std::vector<float> params, buffers;  ///< the averages, in the model's arena layout
  bool swapped = false;                ///< the model holds the averages now

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

/// Swaps the training weights back after the evaluation of the averages (see train::Ema).
struct EmaRestore {
  Ema& ema;
  template <class S>
  void on_epoch_end(S& s) {
    if (ema.swapped) ema.swap(s.model);
  }
};

}  // namespace ctnn::train
