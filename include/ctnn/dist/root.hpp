#pragma once
// dist::on_root(comm, callback): a train::fit callback that only rank 0 runs — metrics.csv, the
// checkpoint, the progress line, anything that writes files or prints. Every hook the wrapped
// callback has is forwarded on rank 0 and skipped elsewhere. What such a callback reads at
// resume (Checkpoint::on_resume) reaches the other ranks through dist::DataParallel's broadcast.
#include <exception>
#include <utility>

namespace ctnn::dist {

template <class Callback>
struct OnRoot {
  Callback callback;
  bool root;

#define CTNN_DIST_FORWARD(hook)                     \
  template <class S>                                \
  void hook(S& s) requires requires(Callback & c) { \
    c.hook(s);                                      \
  }                                                 \
  {                                                 \
    if (root) callback.hook(s);                     \
  }
  CTNN_DIST_FORWARD(on_resume)
  CTNN_DIST_FORWARD(on_fit_begin)
  CTNN_DIST_FORWARD(on_epoch_begin)
  CTNN_DIST_FORWARD(on_batch_begin)
  CTNN_DIST_FORWARD(on_gradients)
  CTNN_DIST_FORWARD(on_batch_end)
  CTNN_DIST_FORWARD(on_batches_end)
  CTNN_DIST_FORWARD(on_epoch_end)
  CTNN_DIST_FORWARD(on_fit_end)
#undef CTNN_DIST_FORWARD
  template <class S>
  void on_exception(S& s, std::exception_ptr e) requires requires(Callback& c) {
    c.on_exception(s, e);
  }
  {
    if (root) callback.on_exception(s, e);
  }
};

/// Wraps `callback` so that only rank 0 of `comm` runs it.
template <class C, class Callback>
OnRoot<std::decay_t<Callback>> on_root(const C& comm, Callback&& callback) {
  return {std::forward<Callback>(callback), comm.rank() == 0};
}

}  // namespace ctnn::dist
