#pragma once
// Evaluation of a classifier on the batches of a data::Loader: mean loss, accuracy and the
// confusion matrix; and train::Evaluate, the train::fit callback that runs it after every epoch.
// Optionally with test-time augmentation by flipping: the accuracy of the mean of the logits of
// each image and of its horizontal mirror (the width reversed), reported beside the plain one.
#include <cstddef>
#include <limits>
#include <vector>

#include "ctnn/data/batch.hpp"
#include "ctnn/loss.hpp"
#include "ctnn/train/fit.hpp"
#include "ctnn/train/report.hpp"

namespace ctnn::train {

struct EvalResult {
  double loss = 0, accuracy = 0;  ///< mean loss (nats), accuracy (%)
  Confusion confusion;
  double tta_accuracy = std::numeric_limits<double>::quiet_NaN();  ///< flip TTA accuracy (%); NaN when off
};

/// The n images of x (n × C × H × W) mirrored along the width.
template <class Shape>
void flip_width(std::span<const float> x, int n, std::vector<float>& out) {
  out.resize(x.size());
  for (std::size_t row = 0; row < std::size_t(n) * Shape::c * Shape::h; ++row)
    for (int w = 0; w < Shape::w; ++w) out[row * Shape::w + w] = x[row * Shape::w + (Shape::w - 1 - w)];
}

/// Loss (CrossEntropyLoss), accuracy and confusion matrix of `model`, put in eval mode, on one
/// pass (epoch 0) over `loader` in batches of `batch_size`; with `tta_flip` also the accuracy
/// of (logits(x) + logits(mirror(x))) / 2 (a second forward per batch). Throws what forward or
/// the loss throws (a NaN/Inf loss), and ctnn::Error if the loader yields nothing.
template <class M, data::Loader L>
EvalResult evaluate(M& model, L& loader, int batch_size, bool tta_flip = false) {
  static_assert(loader_fits_v<L, M>, "see sample_shape_mismatch above");
  model.eval();
  loader.start_epoch(0, batch_size);
  constexpr int classes = int(M::output_shape::size);
  EvalResult r;
  r.confusion.assign(classes, std::vector<long>(classes, 0));
  double loss = 0;
  long seen = 0;
  long tta_correct = 0;
  std::vector<float> plain, flipped;
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
    if (tta_flip) {  // after the plain pass's use: the next forward overwrites `logits`
      plain.assign(logits.begin(), logits.end());
      flip_width<typename M::input_shape>(b->images, b->size, flipped);
      const auto mirrored = model.forward(flipped, b->size);
      for (std::size_t k = 0; k < plain.size(); ++k) plain[k] = (plain[k] + mirrored[k]) * 0.5f;
      for (int i = 0; i < b->size; ++i) {
        int arg = 0;
        for (int k = 1; k < classes; ++k)
          if (plain[std::size_t(i) * classes + k] > plain[std::size_t(i) * classes + arg]) arg = k;
        tta_correct += arg == b->labels[i];
      }
    }
  }
  if (seen == 0) throw Error("train::evaluate: the loader yielded no samples");
  long correct = 0;
  for (int t = 0; t < classes; ++t) correct += r.confusion[t][t];
  r.loss = loss / double(seen);
  r.accuracy = 100.0 * double(correct) / double(seen);
  if (tta_flip) r.tta_accuracy = 100.0 * double(tta_correct) / double(seen);
  return r;
}

/// train::fit callback: evaluates on `loader` after every epoch, fills the row's test_loss and
/// test_acc (and test_acc_tta with `tta_flip`), keeps the result in `last`. Runs with s.phase = Phase::evaluate (the
/// NaN guard names a divergence first seen here).
template <data::Loader L>
struct Evaluate {
  L& loader;
  int batch_size = 0;  ///< 0: the epoch's training batch size (reuses that workspace: no extra memory)
  bool tta_flip = false;
  EvalResult last;

  explicit Evaluate(L& l, int bs = 0, bool tta = false) : loader(l), batch_size(bs), tta_flip(tta) {}

  template <class S>
  void on_epoch_end(S& s) {
    const Phase was = s.phase;
    s.phase = Phase::evaluate;
    last = evaluate(s.model, loader, batch_size ? batch_size : s.batch_size, tta_flip);
    s.phase = was;
    s.row.test_loss = last.loss, s.row.test_acc = last.accuracy, s.row.test_acc_tta = last.tta_accuracy;
  }
};

}  // namespace ctnn::train
