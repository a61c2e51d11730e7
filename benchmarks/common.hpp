#pragma once
// Shared by the benchmark programs: the benchmarked net, FLOP counts, random inputs.
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "ctnn/ctnn.hpp"

namespace ctnn_bench {

using Net = ctnn::models::AlexNetCifar;
using Input = ctnn::models::CifarImage;
using Nodes = ctnn::nodes_t<Net, Input>;
inline constexpr std::size_t kNodes = std::tuple_size_v<Nodes>;
template <std::size_t I>
using node = std::tuple_element_t<I, Nodes>;
template <std::size_t I>
using layer = typename node<I>::layer;
inline constexpr int kClasses = ctnn::output_shape_t<Net, Input>::size;

/// Multiply-adds of one sample's forward pass through layer L (0 for layers without weights).
template <class L, class In>
constexpr double macs_of() {
  if constexpr (requires { L::template macs<In>; })
    return L::template macs<In>;
  else
    return 0;
}

/// FLOPs (2 per multiply-add) of conv & linear layers for one sample. Forward only, or a whole
/// training step: forward + weight gradient for every layer + input gradient for every layer but
/// the first (Model never asks layer 0 for its dx).
template <bool Train>
constexpr double net_flops_per_sample() {
  return []<std::size_t... Is>(std::index_sequence<Is...>) {
    return ((2 * macs_of<layer<Is>, typename node<Is>::in>() * (Train ? (Is > 0 ? 3 : 2) : 1)) + ... + 0.0);
  }
  (std::make_index_sequence<kNodes>{});
}

inline std::vector<float> random_floats(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}
inline std::vector<std::int32_t> random_targets(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::int32_t> v(n);
  for (auto& t : v) t = std::int32_t(rng() % kClasses);
  return v;
}

template <class S>
std::string dims() {
  return S::flat ? std::to_string(S::c)
                 : std::to_string(S::c) + "x" + std::to_string(S::h) + "x" + std::to_string(S::w);
}

}  // namespace ctnn_bench
