#pragma once
// CIFAR-10 batch loader: shuffles, augments and normalises the next batch on a background thread.
// It is a data::Loader (data/batch.hpp) of Shape<3, 32, 32> samples, so train::fit takes it.
#include <algorithm>
#include <cstdint>
#include <exception>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ctnn/core/random.hpp"
#include "ctnn/data/batch.hpp"
#include "ctnn/data/cifar10/format.hpp"
#include "ctnn/data/cifar10/transforms.hpp"
#include "ctnn/error.hpp"
#include "ctnn/shape.hpp"

namespace ctnn::data {

namespace detail {
/// Chains splitmix64 (core/random.hpp) so that nearby (seed, epoch, stream) triples give unrelated
/// mt19937_64 seeds.
inline std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t epoch, std::uint64_t stream) {
  return mix64(mix64(mix64(seed) + epoch) + stream);
}
}  // namespace detail

/// Yields the batches of one epoch; while the caller trains on batch b, batch b+1 is rendered
/// on a background std::thread (one short-lived thread per batch: joining it is the only
/// synchronisation needed, and the thread's cost is tiny next to a training step).
///
/// Determinism: the epoch's permutation uses mt19937_64 seeded with mix(seed, epoch, 0), and
/// batch b's augmentation uses mt19937_64 seeded with mix(seed, epoch, b+1), where mix chains
/// splitmix64. Integers are drawn as rng() % n rather than via std::uniform_int_distribution or
/// std::shuffle, whose output differs between standard libraries. So batches are a pure function
/// of (split, norm, aug, shuffle, seed, epoch, batch_size, b): resuming at an epoch reproduces
/// them exactly, whatever the thread timing. Each image draws (flip, dy, dx) in batch order,
/// even when an augmentation is off.
///
/// `split` is held by reference and must outlive the loader. Not copyable or movable.
class BatchLoader {
 public:
  using sample_shape = Shape<kCifarChannels, kCifarHeight, kCifarWidth>;  ///< what data::Loader asks for

  /// Throws ctnn::Error if the split is inconsistent, a std is not > 0, or crop_padding < 0.
  BatchLoader(const Cifar10Split& split, Normalize norm, Augment aug, bool shuffle, std::uint64_t seed)
      : split_(split), norm_(norm), aug_(aug), shuffle_(shuffle), seed_(seed) {
    detail::check_split(split, "BatchLoader");
    for (float s : norm.std)
      if (!(s > 0.f)) throw Error("BatchLoader: Normalize std must be > 0 (got " + std::to_string(s) + ")");
    if (aug.crop_padding < 0) throw Error("BatchLoader: crop_padding must be >= 0");
    if (aug.crop_reflect && aug.crop_padding > 31)
      throw Error("BatchLoader: reflect padding must be <= 31 (the image is 32 wide), got " +
                  std::to_string(aug.crop_padding));
  }
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;
  /// Waits for the batch in preparation (at most one), even mid-epoch.
  ~BatchLoader() { join(); }

  /// Starts epoch `epoch` (0-based, >= 0) with batches of `batch_size` (> 0); the last batch
  /// keeps the remainder (size < batch_size). Abandons any epoch in progress. Throws ctnn::Error
  /// on bad arguments.
  void start_epoch(int epoch, int batch_size) {
    if (epoch < 0 || batch_size <= 0)
      throw Error("BatchLoader::start_epoch: need epoch >= 0 and batch_size > 0, got " + std::to_string(epoch) + ", " +
                  std::to_string(batch_size));
    join();
    epoch_ = epoch;
    batch_size_ = batch_size;
    const std::size_t n = split_.size();
    perm_.resize(n);
    for (std::size_t i = 0; i < n; ++i) perm_[i] = i;
    if (shuffle_) {  // Fisher-Yates
      std::mt19937_64 rng(detail::mix_seed(seed_, std::uint64_t(epoch), 0));
      for (std::size_t i = n; i > 1; --i) std::swap(perm_[i - 1], perm_[rng() % i]);
    }
    pending_ = 0;
    if (pending_ < batches_per_epoch()) launch();
  }

  /// Samples per epoch (the split's size).
  std::size_t size() const { return split_.size(); }

  /// Number of batches in the current epoch: ceil(split.size() / batch_size); 0 before start_epoch.
  std::size_t batches_per_epoch() const { return batch_size_ ? (split_.size() + batch_size_ - 1) / batch_size_ : 0; }

  /// Sets `out` to the next batch and returns true, or sets it to nullptr and returns false at
  /// the end of the epoch. `*out` stays valid until the next call of next/start_epoch or the
  /// destructor. Throws ctnn::Error if called before start_epoch.
  bool next(const Batch*& out) {
    out = nullptr;
    if (batch_size_ == 0) throw Error("BatchLoader::next: call start_epoch first");
    if (pending_ >= batches_per_epoch()) return false;
    join();
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    std::swap(front_, back_);
    if (++pending_ < batches_per_epoch()) launch();
    out = &front_;
    return true;
  }

 private:
  void join() {
    if (worker_.joinable()) worker_.join();
  }
  void launch() {
    worker_ = std::thread([this, b = pending_] {
      try {
        fill(b, back_);
      } catch (...) {
        error_ = std::current_exception();
      }
    });
  }
  void fill(std::size_t b, Batch& dst) const {
    const std::size_t begin = b * std::size_t(batch_size_);
    const std::size_t end = std::min(split_.size(), begin + std::size_t(batch_size_));
    dst.size = int(end - begin);
    dst.images.resize((end - begin) * kCifarPixels);
    dst.labels.resize(end - begin);
    std::mt19937_64 rng(detail::mix_seed(seed_, std::uint64_t(epoch_), b + 1));
    const int pad = aug_.crop_padding;
    for (std::size_t i = 0; i < end - begin; ++i) {
      const std::size_t idx = perm_[begin + i];
      const bool flip = (rng() & 1) && aug_.hflip;
      const int dy = int(rng() % std::uint64_t(2 * pad + 1));
      const int dx = int(rng() % std::uint64_t(2 * pad + 1));
      render_image(split_.images.data() + idx * kCifarPixels, norm_, flip, pad, dy, dx,
                   dst.images.data() + i * kCifarPixels, aug_.crop_reflect);
      dst.labels[i] = split_.labels[idx];
    }
  }

  const Cifar10Split& split_;
  Normalize norm_;
  Augment aug_;
  bool shuffle_;
  std::uint64_t seed_;
  int epoch_ = 0, batch_size_ = 0;
  std::vector<std::size_t> perm_;
  std::size_t pending_ = 0;  // index of the batch being rendered into back_
  Batch front_, back_;       // front_: handed to the caller; back_: being rendered
  std::thread worker_;
  std::exception_ptr error_;
};

}  // namespace ctnn::data
