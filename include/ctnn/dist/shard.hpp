#pragma once
// dist::Shard<L>: a rank's share of another data::Loader's batches, for data-parallel training.
// The batch size the loop asks for is the GLOBAL batch: every rank runs the same loader (same
// seed, hence the same shuffled order and augmentation) and keeps its contiguous slice of each
// batch, so a step sees the same images whatever the number of ranks. A batch of n split over p
// ranks gives rank r  n/p + (r < n % p)  samples, the larger slices first: rank 0 always has one
// when n >= 1, a rank may get none (the last batch of an epoch with n < p), and no sample is
// padded or repeated. With one rank it is the wrapped loader, without copies.
#include <algorithm>
#include <cstddef>

#include "ctnn/data/batch.hpp"

namespace ctnn::dist {

/// The slice [begin, end) of a batch of n samples that rank r of p gets.
struct Slice {
  std::size_t begin = 0, end = 0;
  std::size_t size() const { return end - begin; }
};
inline Slice slice_of(std::size_t n, int rank, int ranks) {
  const std::size_t p = std::size_t(ranks), r = std::size_t(rank), q = n / p, rem = n % p;
  const std::size_t b = r * q + std::min(r, rem);
  return {b, b + q + (r < rem ? 1 : 0)};
}

template <data::Loader L>
class Shard {
 public:
  using sample_shape = typename L::sample_shape;

  Shard(L& inner, int rank, int ranks) : inner_(inner), rank_(rank), ranks_(ranks) {}

  /// Samples this rank sees per epoch (after start_epoch: exact for that epoch's batch size).
  std::size_t size() const {
    if (ranks_ == 1) return inner_.size();
    const std::size_t n = inner_.size(), b = batch_size_ ? batch_size_ : n;
    const std::size_t full = b ? n / b : 0;
    return full * slice_of(b, rank_, ranks_).size() + slice_of(n - full * b, rank_, ranks_).size();
  }
  std::size_t batches_per_epoch() const { return inner_.batches_per_epoch(); }
  /// Global samples per epoch (every rank's together).
  std::size_t global_size() const { return inner_.size(); }

  void start_epoch(int epoch, int batch_size) {
    batch_size_ = std::size_t(batch_size > 0 ? batch_size : 0);
    inner_.start_epoch(epoch, batch_size);
  }
  /// The next batch's slice for this rank (possibly of size 0); false at the end of the epoch.
  /// global_batch() is the size of the whole batch it came from.
  bool next(const data::Batch*& out) {
    const data::Batch* b = nullptr;
    if (!inner_.next(b)) return out = nullptr, false;
    global_ = b->size;
    if (ranks_ == 1) return out = b, true;
    const Slice s = slice_of(std::size_t(b->size), rank_, ranks_);
    constexpr std::size_t per = sample_shape::size;
    batch_.size = int(s.size());
    batch_.images.assign(b->images.begin() + std::ptrdiff_t(s.begin * per),
                         b->images.begin() + std::ptrdiff_t(s.end * per));
    batch_.labels.assign(b->labels.begin() + std::ptrdiff_t(s.begin), b->labels.begin() + std::ptrdiff_t(s.end));
    out = &batch_;
    return true;
  }
  int global_batch() const { return global_; }
  int rank() const { return rank_; }
  int ranks() const { return ranks_; }

 private:
  L& inner_;
  int rank_, ranks_;
  std::size_t batch_size_ = 0;
  int global_ = 0;
  data::Batch batch_;
};

}  // namespace ctnn::dist
