#pragma once
// Trainer: the CIFAR-10 convenience over train::fit — a staged schedule (stages of {epochs,
// batch_size, lr}, optionally a MultiStepLR inside a stage), SGD with momentum or Adam,
// evaluation on the test split after every epoch. Per epoch it appends a row to <out>/metrics.csv
//   epoch,stage,batch_size,lr,train_loss,train_acc,test_loss,test_acc,seconds,images_per_s
// and writes <out>/checkpoint.safetensors atomically; `resume` continues from that checkpoint.
// A NaN/Inf loss stops training with a ctnn::Error naming epoch, batch and learning rate; the
// last good checkpoint is left as it was. The loop, logging, checkpoints and the guard are
// train::fit and its callbacks (train/fit.hpp, callbacks.hpp, checkpoint.hpp, evaluate.hpp);
// what is CIFAR-10 here is the data: data::BatchLoader, Normalize::from, Augment.
// Data parallelism: Trainer(model, data, options, comm) with a dist::Communicator (dist::Mpi)
// trains on comm.size() processes with the stages' batch sizes as GLOBAL batches
// (dist/data_parallel.hpp); only rank 0 writes metrics.csv, checkpoints and log lines, and an
// exception on one rank ends all of them (MPI_Abort) with its message.
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ctnn/data/cifar10.hpp"
#include "ctnn/dist/communicator.hpp"
#include "ctnn/dist/data_parallel.hpp"
#include "ctnn/dist/evaluate.hpp"
#include "ctnn/dist/root.hpp"
#include "ctnn/dist/shard.hpp"
#include "ctnn/error.hpp"
#include "ctnn/loss.hpp"
#include "ctnn/optim/schedule.hpp"
#include "ctnn/train/adaptive_threads.hpp"
#include "ctnn/train/callbacks.hpp"
#include "ctnn/train/checkpoint.hpp"
#include "ctnn/train/ema.hpp"
#include "ctnn/train/evaluate.hpp"
#include "ctnn/train/fit.hpp"
#include "ctnn/train/report.hpp"

namespace ctnn::train {

struct Stage {
  int epochs = 1;
  int batch_size = 128;
  float lr = 0.001f;
  MultiStepLR schedule{};  ///< milestones within the stage (epochs from the stage's start)
};

/// train::fit callback: the stage of each epoch sets its batch size, learning rate and stage number.
struct Stages {
  std::vector<Stage> stages;

  int total_epochs() const {
    int n = 0;
    for (const auto& s : stages) n += s.epochs;
    return n;
  }
  template <class S>
  void on_epoch_begin(S& s) {
    int first = 0;
    for (std::size_t i = 0; i < stages.size(); first += stages[i++].epochs)
      if (s.epoch < first + stages[i].epochs) {
        s.row.stage = int(i) + 1;
        s.batch_size = stages[i].batch_size;
        s.lr = stages[i].schedule.lr(stages[i].lr, s.epoch - first);
        return;
      }
    throw Error("train::Stages: epoch " + std::to_string(s.epoch + 1) + " is past the last stage");
  }
};

struct TrainerOptions {
  std::vector<Stage> stages;
  bool adam = false;      ///< Adam instead of SGD
  float momentum = 0.9f;  ///< SGD momentum
  bool nesterov = false;  ///< SGD with Nesterov momentum (torch.optim.SGD(nesterov=True))
  float weight_decay = 0.f;
  /// Weight decay on Conv2d/Linear weights only, not on biases or BatchNorm's weight and bias
  /// (PyTorch's two param groups; optim/param_groups.hpp). false: every parameter decays.
  bool decay_weights_only = false;
  /// Per-step OneCycleLR over the whole run (train::PerStepLR), its peak each stage's lr;
  /// total_steps 0: computed from the stages and the training split (what fit will step).
  std::optional<OneCycleLR> one_cycle;
  bool tta_flip = false;  ///< also evaluate with flip TTA: metrics.csv gets a test_acc_tta column
  /// > 0: evaluate an exponential moving average of the weights and BN buffers (train::Ema,
  /// timm ModelEmaV2 semantics) with this decay per step; 0: the weights themselves. The averages
  /// are kept in <out>/ema.safetensors for --resume.
  float ema_decay = 0.f;
  /// Let train::AdaptiveThreads pick the thread count (up to the current one) from measured step
  /// times: fewer when another program takes a core. Off: a fixed count, repeatable bit for bit.
  /// Ignored with more than one rank (each rank keeps its count).
  bool adaptive_threads = false;
  float label_smoothing = 0.f;  ///< CrossEntropyLoss(label_smoothing) for training (the test loss is plain)
  std::uint64_t seed = 0;
  data::Augment augment{};
  int eval_batch_size = 0;  ///< 0: the current stage's batch size (reuses its workspace: no extra memory)
  std::filesystem::path out = "runs/latest";
  bool resume = false;
  bool quiet = false;                                                    ///< no per-epoch lines (tests)
  std::map<std::string, std::string> metadata;                           ///< stored in checkpoints (preset, ...)
  std::string divergence_advice = "lower the learning rate and resume";  ///< ends the NaN guard's message
  dist::DataParallelOptions data_parallel{};  ///< with more than one rank: buckets, weight-hash checks
};

/// Loss, accuracy and confusion matrix of `model` (in eval mode) on a CIFAR-10 split.
template <class M>
EvalResult evaluate(M& model, const data::Cifar10Split& split, const data::Normalize& norm, int batch_size) {
  data::BatchLoader loader(split, norm, {}, false, 0);
  return evaluate(model, loader, batch_size);
}

namespace detail {
inline dist::Local& local_group() {
  static dist::Local local;  // stateless
  return local;
}

/// Keeps the EMA the same on every rank. Listed after train::Ema: rank 0's averages (it alone
/// read ema.safetensors on a resume) are broadcast once Ema has them, and at each epoch's end,
/// when Ema has swapped its averages into the model, their running statistics are averaged over
/// the ranks, as dist::DataParallel does for the model's own.
template <class C>
struct SyncEma {
  Ema& ema;
  dist::DataParallel<C>& parallel;
  template <class S>
  void on_fit_begin(S&) {
    if (parallel.comm.size() == 1 || !ema.enabled) return;
    dist::detail::broadcast_vector(dist::host_of(parallel.comm), ema.params, 0);
    dist::detail::broadcast_vector(dist::host_of(parallel.comm), ema.buffers, 0);
  }
  template <class S>
  void on_epoch_end(S& s) {
    if (parallel.comm.size() > 1 && ema.swapped) parallel.average_buffers(s.model);
  }
};
}  // namespace detail

template <class M, dist::Communicator C = dist::Local>
class Trainer {
 public:
  Trainer(M& model, const data::Cifar10& data, TrainerOptions opt) requires std::same_as<C, dist::Local>
      : Trainer(model, data, std::move(opt), detail::local_group()) {}
  /// Data-parallel over `comm`'s ranks (every rank constructs it with the same data and options).
  Trainer(M& model, const data::Cifar10& data, TrainerOptions opt, C& comm)
      : model_(model), data_(data), opt_(std::move(opt)), norm_(data::Normalize::from(data.train)), comm_(comm) {
    if (opt_.stages.empty()) throw Error("Trainer: no stages");
    for (const auto& s : opt_.stages)
      if (s.epochs < 1 || s.batch_size < 1 || !(s.lr > 0))
        throw Error("Trainer: a stage needs epochs >= 1, batch_size >= 1, lr > 0");
  }

  /// Called after every epoch (e.g. by tests); the row is already in metrics.csv.
  std::function<void(const EpochResult&)> on_epoch;

  /// Runs every stage (or what is left of them after a resume). Returns the last epoch's row.
  EpochResult run() {
    return dist::abort_on_exception(comm_, [&] { return run_here(); });
  }

  /// Optimizer steps of the whole run: Σ over stages of epochs × ⌈training images / batch size⌉.
  long total_steps() const {
    long n = 0;
    for (const auto& s : opt_.stages)
      n += long(s.epochs) * long((data_.train.size() + std::size_t(s.batch_size) - 1) / std::size_t(s.batch_size));
    return n;
  }

  const EvalResult& last_evaluation() const { return last_eval_; }
  const data::Normalize& normalize() const { return norm_; }
  /// Wall time of the gradient all-reduce over the run's steps (0 with one rank).
  double allreduce_seconds() const { return allreduce_seconds_; }

 private:
  EpochResult run_here() {
    const bool root = comm_.rank() == 0;
    if (root) std::filesystem::create_directories(opt_.out);
    const Stage& first = opt_.stages.front();
    Optimizer optim = opt_.adam ? Optimizer(Adam(first.lr, 0.9f, 0.999f, 1e-8f, opt_.weight_decay))
                                : Optimizer(SGD(first.lr, opt_.momentum, 0.f, opt_.weight_decay, opt_.nesterov));
    if (opt_.decay_weights_only) std::visit([&](auto& o) { o.no_decay = no_decay_ranges(model_); }, optim);
    data::BatchLoader train_all(data_.train, norm_, opt_.augment, true, opt_.seed);
    data::BatchLoader test_all(data_.test, norm_, {}, false, 0);
    dist::Shard train_loader(train_all, comm_.rank(), comm_.size());  // one rank: the loader itself
    dist::Shard test_loader(test_all, comm_.rank(), comm_.size());
    dist::DataParallel<C> parallel{comm_, opt_.data_parallel};
    Stages stages{opt_.stages};
    PerStepLR per_step{opt_.one_cycle.value_or(OneCycleLR{}), opt_.one_cycle.has_value()};
    if (per_step.enabled && per_step.cycle.total_steps == 0) per_step.cycle.total_steps = total_steps();
    dist::Evaluate eval(test_loader, comm_, opt_.eval_batch_size, opt_.tta_flip);
    AdaptiveThreads threads{opt_.adaptive_threads && comm_.size() == 1};
    Ema ema{opt_.ema_decay, opt_.ema_decay > 0, root ? opt_.out / "ema.safetensors" : std::filesystem::path()};
    Checkpoint checkpoint{opt_.out / "checkpoint.safetensors", opt_.resume, opt_.metadata,
                          data::normalize_metadata(norm_),     opt_.seed,   opt_.quiet};
    detail::SyncEma<C> ema_sync{ema, parallel};
    const std::filesystem::path checkpoint_path = checkpoint.path;
    EpochResult last =
        fit(model_, train_loader, CrossEntropyLoss{opt_.label_smoothing}, optim,
            {stages.total_epochs(), first.batch_size}, threads, parallel, stages, per_step, ema, ema_sync, eval,
            EmaRestore{ema}, dist::on_root(comm_, CsvLog{opt_.out / "metrics.csv", opt_.tta_flip}),
            dist::on_root(comm_, std::move(checkpoint)), dist::on_root(comm_, Progress{opt_.quiet}),
            NanGuard{checkpoint_path, opt_.divergence_advice}, OnEpochEnd{on_epoch});
    allreduce_seconds_ = parallel.reduce_seconds;
    last_eval_ = eval.last;
    if (last_eval_.confusion.empty()) {  // resumed with nothing left: still report the model
      last_eval_ = dist::evaluate(model_, test_loader,
                                  opt_.eval_batch_size ? opt_.eval_batch_size : opt_.stages.back().batch_size, comm_,
                                  opt_.tta_flip);
      last.test_loss = last_eval_.loss, last.test_acc = last_eval_.accuracy,
      last.test_acc_tta = last_eval_.tta_accuracy;
    }
    return last;
  }

  M& model_;
  const data::Cifar10& data_;
  TrainerOptions opt_;
  data::Normalize norm_;
  EvalResult last_eval_;
  C& comm_;
  double allreduce_seconds_ = 0;
};

}  // namespace ctnn::train
