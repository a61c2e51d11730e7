#pragma once
// Trainer: runs a staged schedule on CIFAR-10-shaped data — stages of {epochs, batch_size, lr}
// (optionally a MultiStepLR inside a stage), SGD with momentum or Adam — evaluating on the test
// split after every epoch. Per epoch it appends a row to <out>/metrics.csv
//   epoch,stage,batch_size,lr,train_loss,train_acc,test_loss,test_acc,seconds,images_per_s
// and writes <out>/checkpoint.safetensors atomically; `resume` continues from that checkpoint.
// A NaN/Inf loss stops training with a ctnn::Error naming epoch, batch and learning rate; the
// last good checkpoint is left as it was.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "ctnn/data/cifar10.hpp"
#include "ctnn/error.hpp"
#include "ctnn/loss.hpp"
#include "ctnn/optim/schedule.hpp"
#include "ctnn/train/checkpoint.hpp"
#include "ctnn/train/progress.hpp"
#include "ctnn/train/report.hpp"

namespace ctnn::train {

struct Stage {
  int epochs = 1;
  int batch_size = 128;
  float lr = 0.001f;
  MultiStepLR schedule{};  ///< milestones within the stage (epochs from the stage's start)
};

struct TrainerOptions {
  std::vector<Stage> stages;
  bool adam = false;            ///< Adam instead of SGD
  float momentum = 0.9f;        ///< SGD momentum
  float weight_decay = 0.f;
  std::uint64_t seed = 0;
  data::Augment augment{};
  int eval_batch_size = 0;      ///< 0: the current stage's batch size (reuses its workspace: no extra memory)
  std::filesystem::path out = "runs/latest";
  bool resume = false;
  bool quiet = false;           ///< no per-epoch lines (tests)
  std::map<std::string, std::string> metadata;  ///< stored in checkpoints (preset, ...)
};

struct EpochResult {
  int epoch = 0, stage = 0, batch_size = 0;
  float lr = 0;
  double train_loss = 0, train_acc = 0, test_loss = 0, test_acc = 0, seconds = 0, images_per_s = 0;
};

struct EvalResult {
  double loss = 0, accuracy = 0;  ///< mean loss (nats), accuracy (%)
  Confusion confusion;
};

/// Loss, accuracy and confusion matrix of `model` (in eval mode) on a split.
template <class M>
EvalResult evaluate(M& model, const data::Cifar10Split& split, const data::Normalize& norm, int batch_size) {
  model.eval();
  data::BatchLoader loader(split, norm, {}, false, 0);
  loader.start_epoch(0, batch_size);
  constexpr int classes = M::output_shape::size;
  EvalResult r;
  r.confusion.assign(classes, std::vector<long>(classes, 0));
  double loss = 0;
  const data::Batch* b = nullptr;
  while (loader.next(b)) {
    const auto logits = model.forward(b->images, b->size);
    loss += CrossEntropyLoss{}(logits, b->labels, classes).loss * b->size;
    for (int i = 0; i < b->size; ++i) {
      int arg = 0;
      for (int k = 1; k < classes; ++k)
        if (logits[std::size_t(i) * classes + k] > logits[std::size_t(i) * classes + arg]) arg = k;
      ++r.confusion[b->labels[i]][arg];
    }
  }
  long correct = 0;
  for (int t = 0; t < classes; ++t) correct += r.confusion[t][t];
  r.loss = loss / double(split.size());
  r.accuracy = 100.0 * double(correct) / double(split.size());
  return r;
}

template <class M>
class Trainer {
 public:
  Trainer(M& model, const data::Cifar10& data, TrainerOptions opt)
      : model_(model), data_(data), opt_(std::move(opt)), norm_(data::Normalize::from(data.train)) {
    if (opt_.stages.empty()) throw Error("Trainer: no stages");
    for (const auto& s : opt_.stages)
      if (s.epochs < 1 || s.batch_size < 1 || !(s.lr > 0)) throw Error("Trainer: a stage needs epochs >= 1, batch_size >= 1, lr > 0");
  }

  /// Called after every epoch (e.g. by tests); the row is already in metrics.csv.
  std::function<void(const EpochResult&)> on_epoch;

  /// Runs every stage (or what is left of them after a resume). Returns the last epoch's row.
  EpochResult run() {
    namespace fs = std::filesystem;
    fs::create_directories(opt_.out);
    const auto ckpt = opt_.out / "checkpoint.safetensors";
    // A kill during a checkpoint write leaves its temporary file (never the checkpoint) behind.
    for (const auto& e : fs::directory_iterator(opt_.out))
      if (e.path().filename().string().starts_with("checkpoint.safetensors.tmp.")) fs::remove(e.path());
    Optimizer optim = opt_.adam ? Optimizer(Adam(opt_.stages[0].lr, 0.9f, 0.999f, 1e-8f, opt_.weight_decay))
                                : Optimizer(SGD(opt_.stages[0].lr, opt_.momentum, 0.f, opt_.weight_decay));
    TrainState st;
    st.extra = opt_.metadata;
    st.extra["seed"] = std::to_string(opt_.seed);
    // What a user of the weights needs to feed the net the way it was trained.
    st.extra["normalize.mean"] = fmt::format("{},{},{}", norm_.mean[0], norm_.mean[1], norm_.mean[2]);
    st.extra["normalize.std"] = fmt::format("{},{},{}", norm_.std[0], norm_.std[1], norm_.std[2]);
    if (opt_.resume && fs::exists(ckpt)) {
      st = load_checkpoint(ckpt, model_, optim);
      for (const auto& [key, value] : opt_.metadata)  // e.g. the preset: resuming another run is a mistake
        if (auto it = st.extra.find(key); it != st.extra.end() && it->second != value)
          throw Error(ckpt.string() + ": checkpoint was written by a run with " + key + "=" + it->second +
                      ", this run has " + key + "=" + value);
      if (auto it = st.extra.find("seed"); it != st.extra.end() && it->second != std::to_string(opt_.seed))
        throw Error(ckpt.string() + ": checkpoint was written with seed " + it->second + ", this run has seed " +
                    std::to_string(opt_.seed));
      model_.context().step = st.step;
      // A device backend keeps its own copy of the optimizer state: hand it the loaded one.
      std::visit([&](auto& o) { if constexpr (requires { model_.context().push(o); }) model_.context().push(o); }, optim);
      say(fmt::format("resumed from {} after epoch {}", ckpt.string(), st.epochs_done));
    }
    const auto csv = opt_.out / "metrics.csv";
    rewrite_csv(csv, st.epochs_done);
    int total = 0;
    for (const auto& s : opt_.stages) total += s.epochs;
    if (st.epochs_done >= total) say("nothing left to train: all " + std::to_string(total) + " epochs are done");

    data::BatchLoader loader(data_.train, norm_, opt_.augment, true, opt_.seed);
    ProgressLine progress(!opt_.quiet && ProgressLine().live());
    EpochResult last;
    int epoch = 0;
    for (std::size_t si = 0; si < opt_.stages.size(); ++si) {
      const Stage& stage = opt_.stages[si];
      for (int e = 0; e < stage.epochs; ++e, ++epoch) {
        if (epoch < st.epochs_done) continue;
        EpochResult r{epoch + 1, int(si) + 1, stage.batch_size, stage.schedule.lr(stage.lr, e)};
        std::visit([&](auto& o) { o.lr = r.lr; }, optim);
        const auto t0 = std::chrono::steady_clock::now();
        loader.start_epoch(epoch, stage.batch_size);
        model_.train();
        double loss_sum = 0;
        long correct = 0, seen = 0;
        std::size_t bi = 0;
        const data::Batch* b = nullptr;
        std::vector<float> dlogits;
        constexpr int classes = M::output_shape::size;
        for (; loader.next(b); ++bi) {
          const auto logits = model_.forward(b->images, b->size);
          dlogits.resize(logits.size());
          LossResult lr;
          try {
            lr = CrossEntropyLoss{}(logits, b->labels, classes, dlogits);
          } catch (const Error& err) {
            progress.clear();
            throw Error(fmt::format("training diverged at epoch {}, batch {} (lr {}): {}. The last good checkpoint ({}) "
                                    "is intact; lower the learning rate and resume with --resume.",
                                    epoch + 1, bi + 1, r.lr, err.what(), ckpt.string()));
          }
          model_.backward(dlogits);
          std::visit([&](auto& o) {  // on a device backend the update runs there, without copies
            if constexpr (requires { model_.context().update(o); }) model_.context().update(o);
            else o.step(model_.parameters(), model_.gradients());
          }, optim);
          ++st.step;
          loss_sum += lr.loss * b->size, correct += lr.correct, seen += b->size;
          const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          progress.update(epoch + 1, total, bi, loader.batches_per_epoch(), loss_sum / seen, seen / secs,
                          secs / seen * double(data_.train.size() - seen));
        }
        r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        r.images_per_s = seen / r.seconds;
        r.train_loss = loss_sum / seen, r.train_acc = 100.0 * correct / seen;
        try {
          last_eval_ = evaluate(model_, data_.test, norm_, opt_.eval_batch_size ? opt_.eval_batch_size : stage.batch_size);
        } catch (const Error& err) {  // the last update of the epoch can be the one that diverged
          progress.clear();
          throw Error(fmt::format("training diverged in epoch {} (lr {}), seen when evaluating: {}. The last good "
                                  "checkpoint ({}) is intact; lower the learning rate and resume with --resume.",
                                  epoch + 1, r.lr, err.what(), ckpt.string()));
        }
        r.test_loss = last_eval_.loss, r.test_acc = last_eval_.accuracy;
        progress.clear();
        st.epochs_done = epoch + 1;
        append_csv(csv, r);
        std::visit([&](auto& o) { if constexpr (requires { model_.context().pull(o); }) model_.context().pull(o); }, optim);
        save_checkpoint(ckpt, model_, optim, st);
        say(fmt::format("epoch {:>3}/{}  stage {}  bs {:>3}  lr {:<8g} train loss {:.4f} acc {:6.2f}%  test loss {:.4f} "
                        "acc {:6.2f}%  {:.1f} s  {:.0f} img/s",
                        r.epoch, total, r.stage, r.batch_size, r.lr, r.train_loss, r.train_acc, r.test_loss, r.test_acc,
                        r.seconds, r.images_per_s));
        if (on_epoch) on_epoch(r);
        last = r;
      }
    }
    if (last_eval_.confusion.empty()) {  // resumed with nothing left: still report the model
      last_eval_ = evaluate(model_, data_.test, norm_, opt_.eval_batch_size ? opt_.eval_batch_size : opt_.stages.back().batch_size);
      last.test_loss = last_eval_.loss, last.test_acc = last_eval_.accuracy, last.epoch = st.epochs_done;
    }
    return last;
  }

  const EvalResult& last_evaluation() const { return last_eval_; }
  const data::Normalize& normalize() const { return norm_; }

 private:
  void say(const std::string& s) const {
    if (!opt_.quiet) fmt::print("{}\n", s), std::fflush(stdout);
  }
  static constexpr const char* kHeader =
      "epoch,stage,batch_size,lr,train_loss,train_acc,test_loss,test_acc,seconds,images_per_s";
  // Keeps the header and the rows of epochs already done (a resumed run continues the file).
  static void rewrite_csv(const std::filesystem::path& csv, int epochs_done) {
    std::vector<std::string> keep;
    std::ifstream in(csv);
    std::string line;
    for (int i = 0; std::getline(in, line) && i <= epochs_done; ++i)
      if (i > 0) keep.push_back(line);
    std::ofstream out(csv, std::ios::trunc);
    if (!out) throw Error("cannot write " + csv.string());
    out << kHeader << "\n";
    for (const auto& l : keep) out << l << "\n";
  }
  static void append_csv(const std::filesystem::path& csv, const EpochResult& r) {
    std::ofstream out(csv, std::ios::app);
    out << fmt::format("{},{},{},{:g},{:.6f},{:.4f},{:.6f},{:.4f},{:.2f},{:.1f}\n", r.epoch, r.stage, r.batch_size, r.lr,
                       r.train_loss, r.train_acc, r.test_loss, r.test_acc, r.seconds, r.images_per_s);
    if (!out) throw Error("cannot write " + csv.string());
  }

  M& model_;
  const data::Cifar10& data_;
  TrainerOptions opt_;
  data::Normalize norm_;
  EvalResult last_eval_;
};

}  // namespace ctnn::train
