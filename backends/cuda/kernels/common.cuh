#pragma once
// Shared by the kernel files: grid sizing for grid-stride loops and the launch check.
#include <algorithm>
#include <cstddef>

#include "backends/cuda/check.hpp"
#include "backends/cuda/kernels.hpp"

namespace ctnn::gpu::kernels::detail {

constexpr int kThreads = 256;
/// Blocks for n elements; capped because every kernel loops with a grid stride.
inline unsigned blocks_for(std::size_t n) {
  return unsigned(std::min<std::size_t>((n + kThreads - 1) / kThreads, 1u << 16));
}

}  // namespace ctnn::gpu::kernels::detail

/// Launch-configuration errors appear at once; name the kernel in the message.
#define CTNN_KERNEL_CHECK(name) ::ctnn::gpu::check(cudaGetLastError(), name "<<<...>>>", __FILE__, __LINE__)

/// for (i = this thread; i < n; i += all threads)
#define CTNN_GRID_LOOP(i, n)                                                        \
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < (n); \
       i += std::size_t(gridDim.x) * blockDim.x)
