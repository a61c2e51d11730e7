#pragma once
// Horizontal flip of a batch on the device (the `flip` of data::render_image, for a pipeline that
// augments after upload): sample b of x (n × c × h × w) is mirrored in place where flags[b] != 0.
// flags is an n-value device tensor, uploaded with Context::upload like any other.
#include <string>

#include "backends/cuda/context.hpp"
#include "backends/cuda/kernels.hpp"

namespace ctnn::gpu {

inline void hflip(Context<cuda>& ctx, Tensor& x, const Tensor& flags) {
  if (flags.size() != std::size_t(x.n))
    throw Error("cuda backend: hflip: " + std::to_string(flags.size()) + " flags for a batch of " +
                std::to_string(x.n));
  kernels::hflip(x.data, flags.data, x.n, x.c, x.h, x.w, ctx.stream());
}

}  // namespace ctnn::gpu
