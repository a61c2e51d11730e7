#pragma once
// InMemory<Shape>: a data::Loader over samples already in memory as float NCHW — synthetic data,
// a small data set decoded elsewhere, a test split. Batches are a pure function of
// (samples, shuffle, seed, epoch, batch_size, b), so a resumed run sees the same batches.
//
//   data::InMemory<Shape<1, 28, 28>> loader(std::move(images), std::move(labels), /*shuffle=*/true, seed);
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "ctnn/core/random.hpp"
#include "ctnn/data/batch.hpp"
#include "ctnn/error.hpp"

namespace ctnn::data {

template <class S>
class InMemory {
 public:
  using sample_shape = S;

  /// samples: n × S::size floats (NCHW); labels: n values. Throws ctnn::Error if the sizes disagree.
  InMemory(std::vector<float> samples, std::vector<std::int32_t> labels, bool shuffle = false, std::uint64_t seed = 0)
      : samples_(std::move(samples)), labels_(std::move(labels)), shuffle_(shuffle), seed_(seed) {
    if (samples_.size() != labels_.size() * S::size)
      throw Error("data::InMemory: " + std::to_string(samples_.size()) + " values for " +
                  std::to_string(labels_.size()) + " labels, expected " + std::to_string(labels_.size() * S::size) +
                  " (" + std::to_string(S::size) + " per sample)");
  }

  std::size_t size() const { return labels_.size(); }
  std::size_t batches_per_epoch() const { return batch_size_ ? (size() + batch_size_ - 1) / batch_size_ : 0; }

  /// The epoch's order: the identity, or (shuffle) a Fisher–Yates permutation drawn from
  /// mt19937_64 seeded with mix64(mix64(seed) + epoch), integers as rng() % i (portable).
  void start_epoch(int epoch, int batch_size) {
    if (epoch < 0 || batch_size <= 0)
      throw Error("data::InMemory::start_epoch: need epoch >= 0 and batch_size > 0, got " + std::to_string(epoch) +
                  ", " + std::to_string(batch_size));
    batch_size_ = std::size_t(batch_size);
    next_ = 0;
    order_.resize(size());
    for (std::size_t i = 0; i < order_.size(); ++i) order_[i] = i;
    if (shuffle_) {
      std::mt19937_64 rng(mix64(mix64(seed_) + std::uint64_t(epoch)));
      for (std::size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[rng() % i]);
    }
  }

  /// Sets `out` to the next batch (valid until the next call) and returns true, or nullptr and
  /// false at the end of the epoch.
  bool next(const Batch*& out) {
    out = nullptr;
    if (batch_size_ == 0) throw Error("data::InMemory::next: call start_epoch first");
    if (next_ >= size()) return false;
    const std::size_t end = std::min(size(), next_ + batch_size_);
    batch_.size = int(end - next_);
    batch_.images.resize(std::size_t(batch_.size) * S::size);
    batch_.labels.resize(std::size_t(batch_.size));
    for (std::size_t i = next_; i < end; ++i) {
      const std::size_t k = order_[i];
      std::copy_n(samples_.begin() + std::ptrdiff_t(k * S::size), S::size,
                  batch_.images.begin() + std::ptrdiff_t((i - next_) * S::size));
      batch_.labels[i - next_] = labels_[k];
    }
    next_ = end;
    out = &batch_;
    return true;
  }

 private:
  std::vector<float> samples_;
  std::vector<std::int32_t> labels_;
  bool shuffle_;
  std::uint64_t seed_;
  std::size_t batch_size_ = 0, next_ = 0;
  std::vector<std::size_t> order_;
  Batch batch_;
};

}  // namespace ctnn::data
