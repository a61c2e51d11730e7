#pragma once
// Evaluation of a classifier on the batches of a data::Loader: mean loss, accuracy and the
// confusion matrix; and train::Evaluate, the train::fit callback that runs it after every epoch.
#include <cstddef>
#include <vector>

#include "ctnn/data/batch.hpp"
#include "ctnn/loss.hpp"
#include "ctnn/train/fit.hpp"
#include "ctnn/train/report.hpp"

namespace ctnn::train {

struct EvalResult {
  double loss = 0, accuracy = 0;  ///< mean loss (nats), accuracy (%)
  Confusion confusion;
};

/// Loss (CrossEntropyLoss), accuracy and confusion matrix of `model`, put in eval mode, on one
/// pass (epoch 0) over `loader` in batches of `batch_size`. Throws what forward or the loss
/// throws (a NaN/Inf loss), and ctnn::Error if the loader yields nothing.
template <class M, data::Loader L>
EvalResult evaluate(M& model, L& loader, int batch_size) {
  static_assert(loader_fits_v<L, M>, "see sample_shape_mismatch above");
  model.eval();
  loader.start_epoch(0, batch_size);
  constexpr int classes = int(M::output_shape::size);
  EvalResult r;
  r.confusion.assign(classes, std::vector<long>(classes, 0));
  double loss = 0;
  long seen = 0;
  const data::Batch* b = nullptr;
  while (loader.next(b)) {
    const auto logits = model.forward(b->images, b->size);
    loss += CrossEntropyLoss{}(logits, b->labels, classes).loss * b->size;
    seen += b->size;
    for (int i = 0; i < b->size; ++i) {
      int arg = 0;
      for (int k = 1; k < classes; ++k)
        if (logits[std::size_t(i) * classes + k] > logits[std::size_t(i) * classes + arg]) arg = k;
      ++r.confusion[b->labels[i]][arg];
    }
  }
  if (seen == 0) throw Error("train::evaluate: the loader yielded no samples");
  long correct = 0;
  for (int t = 0; t < classes; ++t) correct += r.confusion[t][t];
  r.loss = loss / double(seen);
  r.accuracy = 100.0 * double(correct) / double(seen);
  return r;
}

/// train::fit callback: evaluates on `loader` after every epoch, fills the row's test_loss and
/// test_acc, keeps the result in `last`. Runs with s.phase = Phase::evaluate (the NaN guard
/// names a divergence first seen here).
template <data::Loader L>
struct Evaluate {
  L& loader;
  int batch_size = 0;  ///< 0: the epoch's training batch size (reuses that workspace: no extra memory)
  EvalResult last;

  explicit Evaluate(L& l, int bs = 0) : loader(l), batch_size(bs) {}

  template <class S>
  void on_epoch_end(S& s) {
    const Phase was = s.phase;
    s.phase = Phase::evaluate;
    last = evaluate(s.model, loader, batch_size ? batch_size : s.batch_size);
    s.phase = was;
    s.row.test_loss = last.loss, s.row.test_acc = last.accuracy;
  }
};

}  // namespace ctnn::train
