#pragma once
// The contract between Model and a backend.
//
// A backend is a tag type (ctnn::reference, ctnn::cpu, ctnn::cuda). For each tag it provides
//   Context<Backend>            engine/stream handles, train/eval mode, RNG seed, precision, and
//                               the activation type `Context<B>::Act`, plus upload/download of
//                               host NCHW float data;
//   Impl<Layer, In, Backend>    for every layer description: how its forward/backward contract runs.
// Every Impl has the same five members:
//   void setup(Context&, int batch, const Act& x, Bound p, Links l)  build for a batch size
//                                                   (x: the input as it will arrive, e.g. its layout)
//   const Act& output() const                        the output as it will leave (the next setup's x)
//   const Act& forward(Context&, const Act& x)       output owned by the Impl
//   const Act& backward(Context&, const Act& x, const Act& dy, bool need_dx)
//                                                   overwrites its parameter gradients; returns dx
//                                                   (meaningful only when need_dx)
// Bound gives the layer's tensors in the order of Layer::params<In>() as pointers into Model's
// arenas (grad is null for buffers). Links tells a layer about its neighbours so a backend can
// fuse: where fuses_v<Backend, A, B> is true (oneDNN: any BatchNorm, then ReLU), layer A also
// applies B and B passes data and gradients through.
// Optional Context hooks, used by Model only where a backend has them: begin_workspace() /
// end_workspace() around the setups of one batch size (oneDNN pools its gradient buffers there),
// bind_arenas(...) (CUDA mirrors the arenas on the device), param_version (bumped whenever
// parameters may have been written, so cached weight conversions can be skipped otherwise).
#include <array>
#include <cstdint>

#include "ctnn/core/random.hpp"  // mix64, dropout_stream, dropout_keep: shared by every backend

namespace ctnn {

/// Backend tags.
struct reference {};  ///< plain C++ loops: the test oracle, and what runs without oneDNN
struct cpu {};        ///< oneDNN primitives (backends/onednn)
struct cuda {};       ///< cuDNN / cuBLAS / own kernels (backends/cuda)

enum class Precision { f32, bf16 };

template <class Backend>
struct Context;  // specialised per backend

template <class Layer, class In, class Backend>
struct Impl;  // specialised per layer and backend

/// A layer's tensors inside Model's arenas, in Layer::params<In>() order.
struct Bound {
  std::array<float*, 4> value{};
  std::array<float*, 4> grad{};  ///< null for buffers
};

/// True where Backend runs layer A followed by layer B as one operation (specialised by the
/// backend that does it, next to the Impl that implements it).
template <class Backend, class A, class B>
inline constexpr bool fuses_v = false;

/// What a layer knows about its neighbours (decided at compile time by Model from fuses_v).
struct Links {
  bool fuse_next = false;        ///< this layer also applies the following one
  bool fused_into_prev = false;  ///< the previous layer applied this one: pass through
  int index = 0;                 ///< position in the net (seeds per-layer randomness)
};

}  // namespace ctnn
