#pragma once
// train::AdaptiveThreads — a train::fit callback that lets a ThreadTuner (thread_tuner.hpp) pick
// the CPU thread count while training: it times each step (forward, loss, backward, optimizer),
// and when the tuner asks for another count it sets it and drops the model's workspaces, because
// oneDNN's kernels are built for the thread count current when they are created.
//
//   train::fit(model, loader, loss, sgd, options, train::AdaptiveThreads{}, ...);   // first in the list
//
// A count chosen this way changes the order of floating-point sums inside oneDNN, so a run that
// must repeat bit for bit (or resume bit for bit) sets a fixed count instead.
#include <chrono>

#include "ctnn/thread_tuner.hpp"
#include "ctnn/threads.hpp"

namespace ctnn::train {

struct AdaptiveThreads {
  bool enabled = true;
  ThreadTuner tuner{num_threads()};
  std::chrono::steady_clock::time_point start{};
  int changes = 0;  ///< how many times the count changed (for logs and tests)

  template <class S>
  void on_fit_begin(S&) {
    if (enabled) set_num_threads(tuner.threads());
  }
  template <class S>
  void on_batch_begin(S&) {
    if (enabled) start = std::chrono::steady_clock::now();
  }
  template <class S>
  void on_batch_end(S& s) {
    if (!enabled) return;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (auto n = tuner.record(seconds, s.data->size)) {
      set_num_threads(*n);
      s.model.reset_workspaces();
      ++changes;
    }
  }
};

}  // namespace ctnn::train
