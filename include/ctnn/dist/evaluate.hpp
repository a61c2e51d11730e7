#pragma once
// Sharded evaluation: each rank evaluates its slice of every batch (dist::Shard) and the figures
// are summed over the ranks — loss × samples, the confusion matrix, flip-TTA hits — so every rank
// gets the result for the whole split. dist::Evaluate is the train::fit callback (train::Evaluate's
// counterpart); list it after dist::DataParallel, whose on_epoch_end averages the running statistics first.
#include <cmath>
#include <vector>

#include "ctnn/dist/communicator.hpp"
#include "ctnn/dist/shard.hpp"
#include "ctnn/train/evaluate.hpp"

namespace ctnn::dist {

/// train::evaluate over this rank's shard, then reduced over the ranks. A rank whose shard is
/// empty contributes nothing. Throws ctnn::Error when the whole split is empty.
template <class M, data::Loader L, Communicator C>
train::EvalResult evaluate(M& model, Shard<L>& shard, int batch_size, C& comm, bool tta_flip = false) {
  if (comm.size() == 1) return train::evaluate(model, shard, batch_size, tta_flip);
  constexpr int classes = int(M::output_shape::size);
  train::EvalResult r;
  r.confusion.assign(classes, std::vector<long>(classes, 0));
  shard.start_epoch(0, batch_size);
  double seen = 0, tta_correct = 0;
  if (shard.size() > 0) {
    r = train::evaluate(model, shard, batch_size, tta_flip);
    for (const auto& row : r.confusion)
      for (long v : row) seen += double(v);
    if (tta_flip) tta_correct = std::round(r.tta_accuracy * seen / 100.0);
  }
  model.eval();
  std::vector<double> v;
  v.push_back(r.loss * seen);
  v.push_back(tta_correct);
  for (const auto& row : r.confusion) v.insert(v.end(), row.begin(), row.end());
  host_of(comm).allreduce_sum(std::span<double>(v));
  long correct = 0, total = 0;
  for (int t = 0; t < classes; ++t)
    for (int p = 0; p < classes; ++p) {
      r.confusion[t][p] = long(v[2 + std::size_t(t) * classes + p]);
      total += r.confusion[t][p];
      correct += t == p ? r.confusion[t][p] : 0;
    }
  if (total == 0) throw Error("dist::evaluate: the loader yielded no samples");
  r.loss = v[0] / double(total);
  r.accuracy = 100.0 * double(correct) / double(total);
  r.tta_accuracy = tta_flip ? 100.0 * v[1] / double(total) : std::numeric_limits<double>::quiet_NaN();
  return r;
}

/// train::fit callback: dist::evaluate after every epoch (see train::Evaluate).
template <data::Loader L, Communicator C>
struct Evaluate {
  Shard<L>& loader;
  C& comm;
  int batch_size = 0;  ///< 0: the epoch's (global) training batch size
  bool tta_flip = false;
  train::EvalResult last;

  Evaluate(Shard<L>& l, C& c, int bs = 0, bool tta = false) : loader(l), comm(c), batch_size(bs), tta_flip(tta) {}

  template <class S>
  void on_epoch_end(S& s) {
    const train::Phase was = s.phase;
    s.phase = train::Phase::evaluate;
    last = evaluate(s.model, loader, batch_size ? batch_size : s.batch_size, comm, tta_flip);
    s.phase = was;
    s.row.test_loss = last.loss, s.row.test_acc = last.accuracy, s.row.test_acc_tta = last.tta_accuracy;
  }
};

}  // namespace ctnn::dist
