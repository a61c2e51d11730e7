#pragma once
// Counter-based randomness: results depend only on (seed, step, layer, element), never on thread
// timing or the backend. splitmix64's finaliser (Steele, Lea, Flood 2014) mixes; dropout keeps
// element i of a layer's tensor when the top 24 bits of its hash, as a uniform in [0, 1), are ≥ p.
#include <cstddef>
#include <cstdint>

#include "ctnn/core/host_device.hpp"

namespace ctnn {

/// splitmix64: a tiny, well-mixed hash (dropout masks, shuffles).
CTNN_HOST_DEVICE constexpr std::uint64_t mix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/// The key of one layer's dropout mask at one training step.
CTNN_HOST_DEVICE constexpr std::uint64_t dropout_stream(std::uint64_t seed, std::uint64_t step, int layer) {
  return mix64(mix64(seed) ^ mix64(step * 1315423911ull + std::uint64_t(layer)));
}

/// Whether element i survives dropout with probability p of being dropped.
CTNN_HOST_DEVICE constexpr bool dropout_keep(std::uint64_t stream, std::size_t i, float p) {
  return float(mix64(stream ^ (std::uint64_t(i) * 0x2545F4914F6CDD1Dull)) >> 40) * (1.f / 16777216.f) >= p;
}

}  // namespace ctnn
