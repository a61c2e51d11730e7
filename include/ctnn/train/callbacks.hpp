#pragma once
// The small train::fit callbacks: metrics.csv, the NaN guard, the progress line and epoch log,
// and a function called after every epoch. (Evaluate is in train/evaluate.hpp, Checkpoint in
// train/checkpoint.hpp.)
#include <fmt/core.h>

#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "ctnn/error.hpp"
#include "ctnn/optim/schedule.hpp"
#include "ctnn/train/fit.hpp"
#include "ctnn/train/progress.hpp"

namespace ctnn::train {

/// metrics.csv: the header, then one row per epoch
///   epoch,stage,batch_size,lr,train_loss,train_acc,test_loss,test_acc,seconds,images_per_s
/// With `tta` one more column after those: test_acc_tta (flip TTA accuracy, train::Evaluate's
/// tta_flip), so readers of the first ten columns are unaffected.
/// At the start it keeps the rows of the epochs already done (a resumed run continues the file;
/// a row written after the last checkpoint is dropped) and drops the rest.
struct CsvLog {
  std::filesystem::path path;
  bool tta = false;
  static constexpr const char* header =
      "epoch,stage,batch_size,lr,train_loss,train_acc,test_loss,test_acc,seconds,images_per_s";

  template <class S>
  void on_fit_begin(S& s) {
    std::vector<std::string> keep;
    std::ifstream in(path);
    std::string line;
    for (int i = 0; std::getline(in, line) && i <= s.first_epoch; ++i)
      if (i > 0) keep.push_back(line);
    in.close();
    std::ofstream out(path, std::ios::trunc);
    if (!out) throw Error("cannot write " + path.string());
    out << header << (tta ? ",test_acc_tta" : "") << "\n";
    for (const auto& l : keep) out << l << "\n";
  }

  template <class S>
  void on_epoch_end(S& s) {
    const EpochResult& r = s.row;
    std::ofstream out(path, std::ios::app);
    out << fmt::format("{},{},{},{:g},{:.6f},{:.4f},{:.6f},{:.4f},{:.2f},{:.1f}", r.epoch, r.stage, r.batch_size, r.lr,
                       r.train_loss, r.train_acc, r.test_loss, r.test_acc, r.seconds, r.images_per_s)
        << (tta ? fmt::format(",{:.4f}", r.test_acc_tta) : std::string()) << "\n";
    if (!out) throw Error("cannot write " + path.string());
  }
};

/// Turns a NaN/Inf loss (a ctnn::Error thrown while the loss is computed, or during an
/// evaluation) into "training diverged at epoch E, batch B (lr L): <why>. The last good
/// checkpoint (<checkpoint>) is intact; <advice>." Other errors pass unchanged.
struct NanGuard {
  std::filesystem::path checkpoint;  ///< "": the message names none
  std::string advice = "lower the learning rate and resume";

  template <class S>
  void on_exception(S& s, std::exception_ptr e) {
    if (s.phase != Phase::loss && s.phase != Phase::evaluate) return;
    try {
      std::rethrow_exception(e);
    } catch (const Error& err) {
      std::string msg = s.phase == Phase::loss
                            ? fmt::format("training diverged at epoch {}, batch {} (lr {}): {}", s.epoch + 1,
                                          s.batch + 1, s.lr, err.what())
                            : fmt::format("training diverged in epoch {} (lr {}), seen when evaluating: {}",
                                          s.epoch + 1, s.lr, err.what());
      msg += checkpoint.empty() ? "; " + advice + "."
                                : ". The last good checkpoint (" + checkpoint.string() + ") is intact; " + advice + ".";
      throw Error(msg);
    } catch (...) {}
  }
};

/// What a run shows on stdout: a live line (epoch, batch, loss, images/s, ETA) while stdout is a
/// terminal, and one line per epoch; `quiet` shows neither.
struct Progress {
  bool quiet = false;
  ProgressLine line{!quiet && ProgressLine().live()};

  template <class S>
  void on_fit_begin(S& s) {
    if (s.first_epoch >= s.epochs) say("nothing left to train: all " + std::to_string(s.epochs) + " epochs are done");
  }
  template <class S>
  void on_batch_end(S& s) {
    const double secs = s.seconds();
    line.update(s.epoch + 1, s.epochs, s.batch, s.loader.batches_per_epoch(), s.loss_sum / double(s.seen),
                double(s.seen) / secs, secs / double(s.seen) * (double(s.loader.size()) - double(s.seen)));
  }
  template <class S>
  void on_epoch_end(S& s) {
    line.clear();
    const EpochResult& r = s.row;
    say(fmt::format("epoch {:>3}/{}  stage {}  bs {:>3}  lr {:<8g} train loss {:.4f} acc {:6.2f}%  test loss {:.4f} "
                    "acc {:6.2f}%  {:.1f} s  {:.0f} img/s",
                    r.epoch, s.epochs, r.stage, r.batch_size, r.lr, r.train_loss, r.train_acc, r.test_loss, r.test_acc,
                    r.seconds, r.images_per_s) +
        (std::isnan(r.test_acc_tta) ? std::string() : fmt::format("  tta acc {:6.2f}%", r.test_acc_tta)));
  }
  template <class S>
  void on_exception(S&, std::exception_ptr) {
    line.clear();
  }

 private:
  void say(const std::string& s) const {
    if (!quiet) fmt::print("{}\n", s), std::fflush(stdout);
  }
};

/// Per-step learning rate: OneCycleLR over the whole run, its peak the epoch's rate (what the
/// callbacks before it set in on_epoch_begin: a stage's lr, a MultiStepLR within it). With one
/// stage of rate r this is torch's OneCycleLR(max_lr = r); with several stages each scales the
/// cycle. The step is the run's optimizer step (s.state.step, checkpointed), so a resumed run
/// continues the cycle. The row's lr is the rate of the epoch's first step. At the epoch's end
/// s.lr is the peak again (so an epoch without a stage callback keeps the same peak).
struct PerStepLR {
  OneCycleLR cycle;  ///< total_steps: the optimizer steps of the whole run; max_lr is overwritten
  bool enabled = true;
  template <class S>
  void on_epoch_begin(S& s) {
    if (!enabled) return;
    cycle.check();
    cycle.max_lr = s.lr;
    s.lr = float(cycle.lr(long(s.state.step)));
  }
  template <class S>
  void on_batch_begin(S& s) {
    if (enabled) s.lr = float(cycle.lr(long(s.state.step)));
  }
  template <class S>
  void on_epoch_end(S& s) {
    if (enabled) s.lr = float(cycle.max_lr);
  }
};

/// Calls `fn(row)` after every epoch (after the callbacks listed before it).
struct OnEpochEnd {
  std::function<void(const EpochResult&)> fn;
  template <class S>
  void on_epoch_end(S& s) {
    if (fn) fn(s.row);
  }
};

}  // namespace ctnn::train
