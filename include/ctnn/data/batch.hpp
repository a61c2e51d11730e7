#pragma once
// What train::fit consumes: a Batch of samples with class labels, and the Loader concept — any
// type that yields the batches of an epoch and names the shape of one sample at compile time
// (train::fit checks it against the net's input shape).
//
//   struct MyLoader {
//     using sample_shape = Shape<1, 28, 28>;
//     std::size_t size() const;                    // samples per epoch
//     std::size_t batches_per_epoch() const;       // after start_epoch
//     void start_epoch(int epoch, int batch_size); // epoch 0-based; resuming calls it with a later epoch
//     bool next(const data::Batch*& out);          // false (and out = nullptr) at the end of the epoch
//   };
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ctnn::data {

/// One batch: `size` samples as float NCHW [size][C][H][W] (the loader's sample_shape), and
/// their class labels.
struct Batch {
  int size = 0;
  std::vector<float> images;
  std::vector<std::int32_t> labels;
};

template <class L>
concept Loader = requires(L& l, const L& cl, int epoch, int batch_size, const Batch*& out) {
  typename L::sample_shape;
  { L::sample_shape::size } -> std::convertible_to<std::size_t>;
  l.start_epoch(epoch, batch_size);
  { l.next(out) } -> std::same_as<bool>;
  { cl.batches_per_epoch() } -> std::convertible_to<std::size_t>;
  { cl.size() } -> std::convertible_to<std::size_t>;
};

}  // namespace ctnn::data
