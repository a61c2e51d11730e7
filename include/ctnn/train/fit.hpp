#pragma once
// train::fit — the training loop, for any data: epochs of batches from a data::Loader through
// Model::forward, a loss, Model::backward and an optimizer step. Everything else — evaluation,
// metrics.csv, checkpoints and resume, the NaN guard, the progress line, learning-rate stages —
// is a callback: a small struct with some of the hooks below, called in the order the callbacks
// are given (so list the CSV log before the checkpoint, the evaluation before both).
//
//   data::InMemory<Shape<1, 28, 28>> train_set(images, labels, /*shuffle=*/true, seed), test_set(...);
//   train::Evaluate eval(test_set);
//   train::fit(model, train_set, CrossEntropyLoss{}, SGD(0.05f, 0.9f), {.epochs = 5, .batch_size = 32},
//              eval, train::CsvLog{"runs/x/metrics.csv"}, train::Checkpoint{"runs/x/checkpoint.safetensors"},
//              train::Progress{}, train::NanGuard{"runs/x/checkpoint.safetensors"});
//
// Hooks (each optional, each takes the loop's state `Fit<...>& s`, which callbacks may read and,
// where noted, write):
//   on_resume(s)        first: restore saved state; may set s.first_epoch, s.state (Checkpoint)
//   on_fit_begin(s)     after every on_resume
//   on_epoch_begin(s)   may set s.batch_size and s.lr for this epoch (stages, schedules)
//   on_batch_begin(s)   before each batch's forward; may set s.lr for this optimizer step
//                       (per-step schedules; s.state.step counts the steps before this one)
//   on_gradients(s)     after backward, before the optimizer step; may change the gradients
//                       (dist::DataParallel sums them over the ranks)
//   on_batch_end(s)     after the optimizer step; s.data, s.batch_loss, s.loss_sum, s.seen, ...
//   on_batches_end(s)   after the epoch's last batch, before its row is computed; may change
//                       s.loss_sum, s.correct, s.seen (dist::DataParallel sums them over the ranks)
//   on_epoch_end(s)     s.row holds the epoch's training figures; may fill test_loss/test_acc
//   on_fit_end(s)       after the last epoch
//   on_exception(s, std::exception_ptr)   when anything above (or the loop) throws; s.phase says
//                       where. If a callback throws from it, the first such exception replaces
//                       the original (the NaN guard adds epoch, batch and lr); every callback's
//                       hook still runs (the progress line is cleared).
// A batch of size 0 (a data-parallel rank's empty share of a short last batch, dist::Shard) is
// not run through the model; the hooks still run, so the rank takes part in the collectives.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "ctnn/data/batch.hpp"
#include "ctnn/error.hpp"
#include "ctnn/loss.hpp"
#include "ctnn/sequential.hpp"
#include "ctnn/train/checkpoint.hpp"
#include "ctnn/train/optimizer.hpp"

namespace ctnn::train {

/// One epoch's row of metrics.csv. Figures that were not measured (no evaluation) are NaN.
struct EpochResult {
  int epoch = 0, stage = 0, batch_size = 0;  ///< epoch and stage 1-based
  float lr = 0;
  double train_loss = 0, train_acc = 0, test_loss = 0, test_acc = 0, seconds = 0, images_per_s = 0;
  double test_acc_tta = std::numeric_limits<double>::quiet_NaN();  ///< flip TTA (train::Evaluate tta_flip)
};

struct FitOptions {
  int epochs = 1;       ///< total, counting those a resumed run already has
  int batch_size = 32;  ///< on_epoch_begin hooks may change it per epoch
};

/// Where the loop is, for on_exception: `loss` while the loss is computed (a NaN/Inf loss throws
/// there), `evaluate` while an evaluation callback runs.
enum class Phase { begin, train, loss, epoch_end, evaluate, end };

/// The compile-time check that a loader feeds the net: fires with both shapes named, as
///   required from 'struct ctnn::train::sample_shape_mismatch<ctnn::got<ctnn::Shape<3, 32, 32> >,
///                                                            ctnn::expected<ctnn::Shape<1, 28, 28> > >'
template <class Got, class Expected>
struct sample_shape_mismatch;
template <class G, class E>
struct sample_shape_mismatch<got<G>, expected<E>> {
  static constexpr bool ok = G::c == E::c && G::h == E::h && G::w == E::w;
  static_assert(ok,
                "ctnn::train: the loader's samples (sample_shape got<...>) are not the shape the net takes "
                "(input_shape expected<...>); see the sample_shape_mismatch<...> instantiation in this message");
};
template <class L, class M>
inline constexpr bool loader_fits_v =
    sample_shape_mismatch<got<typename L::sample_shape>, expected<typename M::input_shape>>::ok;

/// A loss for classification: (logits n × classes, targets, classes, dlogits to fill) -> LossResult.
template <class F>
concept ClassificationLoss = requires(const F& f, std::span<const float> z, std::span<const std::int32_t> t,
                                      std::span<float> dz) {
  { f(z, t, 1, dz) } -> std::same_as<LossResult>;
};

/// The loop's state, as callbacks see it.
template <class M, class L, class Loss, class Opt>
struct Fit {
  M& model;
  L& loader;
  const Loss& loss;
  Opt& optimizer;
  int epochs = 0;         ///< total epochs
  int first_epoch = 0;    ///< 0-based; on_resume may move it
  int epoch = 0;          ///< current epoch, 0-based
  int batch_size = 0;     ///< this epoch's
  float lr = 0;           ///< this epoch's; set on the optimizer after on_epoch_begin
  std::size_t batch = 0;  ///< current batch of the epoch, 0-based
  const data::Batch* data = nullptr;
  LossResult batch_loss{};  ///< the current batch's
  double loss_sum = 0;      ///< Σ batch loss × batch size, this epoch
  long correct = 0, seen = 0;
  std::chrono::steady_clock::time_point epoch_start{};
  TrainState state;  ///< epochs done, optimizer steps, checkpoint metadata
  EpochResult row;   ///< the current epoch's figures
  Phase phase = Phase::begin;

  Fit(M& m, L& l, const Loss& f, Opt& o) : model(m), loader(l), loss(f), optimizer(o) {}
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
  }
};

template <class C, class S>
concept FitCallback = requires(C& c, S& s) {
  c.on_resume(s);
}
|| requires(C& c, S& s) { c.on_fit_begin(s); }
|| requires(C& c, S& s) { c.on_epoch_begin(s); }
|| requires(C& c, S& s) { c.on_batch_begin(s); }
|| requires(C& c, S& s) { c.on_gradients(s); }
|| requires(C& c, S& s) { c.on_batch_end(s); }
|| requires(C& c, S& s) { c.on_batches_end(s); }
|| requires(C& c, S& s) { c.on_epoch_end(s); }
|| requires(C& c, S& s) { c.on_fit_end(s); }
|| requires(C& c, S& s, std::exception_ptr e) { c.on_exception(s, e); };

template <class C, class S>
concept HasBatchBegin = requires(C& c, S& s) {
  c.on_batch_begin(s);
};

/// Trains `model` for options.epochs epochs (minus those a resuming callback finds done) on the
/// batches of `loader`, with `loss` and `optimizer` (SGD, Adam or train::Optimizer; held by
/// reference when passed as an lvalue, so its state stays the caller's). Returns the last epoch's
/// row; when no epoch was left to train, a row with only `epoch` set (the epochs done).
/// Throws what the loop or a callback throws (after on_exception), and ctnn::Error for options
/// out of range or a loader that yields no samples.
template <class M, data::Loader L, ClassificationLoss Loss, class Opt, class... Callbacks>
requires OptimizerValue<std::remove_cvref_t<Opt>> EpochResult fit(M& model, L& loader, Loss loss, Opt&& optimizer,
                                                                  FitOptions options, Callbacks&&... callbacks) {
  static_assert(loader_fits_v<L, M>, "see sample_shape_mismatch above");
  using State = Fit<M, L, Loss, std::remove_cvref_t<Opt>>;
  static_assert((FitCallback<std::remove_cvref_t<Callbacks>, State> && ...),
                "ctnn::train::fit: a callback has none of the hooks on_resume, on_fit_begin, on_epoch_begin, "
                "on_batch_begin, on_gradients, on_batch_end, on_batches_end, on_epoch_end, on_fit_end, on_exception "
                "(taking the Fit state)");
  if (options.epochs < 0 || options.batch_size < 1)
    throw Error("train::fit: need epochs >= 0 and batch_size >= 1, got " + std::to_string(options.epochs) + " and " +
                std::to_string(options.batch_size));
  constexpr int classes = int(M::output_shape::size);
  State s(model, loader, loss, optimizer);
  s.epochs = options.epochs;
  s.batch_size = options.batch_size;
  s.lr = learning_rate(optimizer);
  auto each = [&](auto&& hook) { (hook(callbacks), ...); };
  EpochResult last;
  try {
    each([&](auto& c) {
      if constexpr (requires { c.on_resume(s); }) c.on_resume(s);
    });
    each([&](auto& c) {
      if constexpr (requires { c.on_fit_begin(s); }) c.on_fit_begin(s);
    });
    last.epoch = s.state.epochs_done;
    std::vector<float> dlogits;
    for (s.epoch = s.first_epoch; s.epoch < s.epochs; ++s.epoch) {
      s.phase = Phase::begin;
      s.row = EpochResult{s.epoch + 1, 1};
      each([&](auto& c) {
        if constexpr (requires { c.on_epoch_begin(s); }) c.on_epoch_begin(s);
      });
      s.row.batch_size = s.batch_size;
      s.row.lr = s.lr;
      set_learning_rate(optimizer, s.lr);
      s.phase = Phase::train;
      s.epoch_start = std::chrono::steady_clock::now();
      s.loss_sum = 0, s.correct = 0, s.seen = 0;
      loader.start_epoch(s.epoch, s.batch_size);
      model.train();
      for (s.batch = 0; loader.next(s.data); ++s.batch) {
        if constexpr ((HasBatchBegin<std::remove_cvref_t<Callbacks>, State> || ...)) {
          each([&](auto& c) {
            if constexpr (requires { c.on_batch_begin(s); }) c.on_batch_begin(s);
          });
          set_learning_rate(optimizer, s.lr);
        }
        const data::Batch& b = *s.data;
        s.batch_loss = LossResult{};
        if (b.size > 0) {
          const auto logits = model.forward(b.images, b.size);
          dlogits.resize(logits.size());
          s.phase = Phase::loss;
          s.batch_loss = loss(logits, std::span<const std::int32_t>(b.labels), classes, std::span<float>(dlogits));
          s.phase = Phase::train;
          model.backward(dlogits);
        }
        each([&](auto& c) {
          if constexpr (requires { c.on_gradients(s); }) c.on_gradients(s);
        });
        optimizer_step(model, optimizer);
        ++s.state.step;
        s.loss_sum += s.batch_loss.loss * b.size, s.correct += s.batch_loss.correct, s.seen += b.size;
        each([&](auto& c) {
          if constexpr (requires { c.on_batch_end(s); }) c.on_batch_end(s);
        });
      }
      each([&](auto& c) {
        if constexpr (requires { c.on_batches_end(s); }) c.on_batches_end(s);
      });
      if (s.seen == 0) throw Error("train::fit: the loader yielded no samples in epoch " + std::to_string(s.epoch + 1));
      s.row.seconds = s.seconds();
      s.row.images_per_s = double(s.seen) / s.row.seconds;
      s.row.train_loss = s.loss_sum / double(s.seen), s.row.train_acc = 100.0 * double(s.correct) / double(s.seen);
      s.row.test_loss = s.row.test_acc = s.row.test_acc_tta = std::numeric_limits<double>::quiet_NaN();
      s.state.epochs_done = s.epoch + 1;
      s.phase = Phase::epoch_end;
      each([&](auto& c) {
        if constexpr (requires { c.on_epoch_end(s); }) c.on_epoch_end(s);
      });
      last = s.row;
    }
    s.phase = Phase::end;
    each([&](auto& c) {
      if constexpr (requires { c.on_fit_end(s); }) c.on_fit_end(s);
    });
  } catch (...) {
    const std::exception_ptr original = std::current_exception();
    std::exception_ptr replaced;
    each([&](auto& c) {
      if constexpr (requires { c.on_exception(s, original); }) {
        try {
          c.on_exception(s, original);
        } catch (...) {
          if (!replaced) replaced = std::current_exception();
        }
      }
    });
    std::rethrow_exception(replaced ? replaced : original);
  }
  return last;
}

}  // namespace ctnn::train
