#pragma once
// The contract between Model and a backend.
//
// A backend is a tag type (ctnn::reference, ctnn::eigen, ctnn::cpu, ctnn::cuda). For each tag it provides
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
// What a backend must provide is written down as concepts below (BackendContext, LayerImpl), and
// Model checks them, so a missing or malformed piece is one error naming the layer and backend.
// Optional Context hooks (the one table of them; Model and train::fit use each only where a
// backend has it):
//   begin_workspace() / end_workspace()  around the setups of one batch size (oneDNN pools its
//                                        gradient buffers there)                   HasWorkspaceHooks
//   bind_arenas(params, grads, buffers)  mirror Model's arenas (CUDA: on the device) HasArenas
//   begin_forward() / end_backward()     around each whole pass (CUDA: parameters go up before a
//                                        forward, gradients come down after a backward) HasPassHooks
//   param_version                        bumped whenever parameters may have been written, so
//                                        cached weight conversions are skipped otherwise HasParamVersion
//   update(opt), push(opt), pull(opt)    the optimizer step where the parameters live, and the
//                                        hand-over of its state (train/optimizer.hpp)   HasDeviceOptimizer
#include <array>
#include <concepts>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "ctnn/core/random.hpp"  // mix64, dropout_stream, dropout_keep: shared by every backend

namespace ctnn {

/// Backend tags.
struct reference {};  ///< plain C++ loops: the test oracle
struct eigen {};      ///< Eigen 3.4 GEMMs (im2col) and loops (backends/eigen): the portable CPU backend
struct cuda {};       ///< cuDNN / cuBLAS / own kernels (backends/cuda)
/// The CPU backend of this build: oneDNN primitives (backends/onednn) when built with oneDNN
/// (CTNN_WITH_ONEDNN, defined by the CMake target), else Eigen (CTNN_WITH_EIGEN), else reference.
#if CTNN_WITH_ONEDNN
struct cpu {};
#elif CTNN_WITH_EIGEN
using cpu = eigen;
#else
using cpu = reference;
#endif

/// A backend's name for logs and reports ("oneDNN", "Eigen", ...); each backend's context.hpp
/// specialises it.
template <class Backend>
inline constexpr const char* backend_name_v = "unknown";

/// Arithmetic of activations and weights in the passes (parameters stay f32 masters). `automatic`
/// is resolved by the backend when its Context is made: bf16 where the CPU computes it natively
/// (AVX512-BF16 or AMX), f32 elsewhere and on the other backends; Context::precision holds the result.
enum class Precision { f32, bf16, automatic };

template <class Backend>
struct Context;  // specialised per backend

template <class... T>
inline constexpr bool always_false_v = false;

/// Specialised per layer and backend (backends/<name>/*.hpp). This primary template is what a
/// layer without an implementation on this backend gets.
template <class Layer, class In, class Backend>
struct Impl {
  static_assert(always_false_v<Layer, Backend>,
                "ctnn: this layer has no implementation on this backend: include the backend's all.hpp, or "
                "specialise ctnn::Impl for it (the instantiation above names layer, input shape and backend)");
};

/// A layer's tensors inside Model's arenas, in Layer::params<In>() order (at least 4 entries,
/// unused ones null; a composite layer such as Residual has one per tensor of its inner layers).
struct Bound {
  std::vector<float*> value = std::vector<float*>(4);
  std::vector<float*> grad = std::vector<float*>(4);  ///< null for buffers
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

/// The required part of Context<B>: the activation type, mode, randomness and precision, and the
/// host crossings of activations.
template <class C>
concept BackendContext = requires(C& c, const C& cc, std::span<const float> in, std::span<float> out, int n,
                                  typename C::Act& a) {
  typename C::Act;
  { c.training } -> std::convertible_to<bool>;
  { c.seed } -> std::convertible_to<std::uint64_t>;
  { c.step } -> std::convertible_to<std::uint64_t>;
  { c.precision } -> std::convertible_to<Precision>;
  c.upload_shape(n, n, n, n, a);
  c.upload(in, n, n, n, n, a);
  c.download(std::as_const(a), out);
};

/// The five members of every Impl (see the top of this file).
template <class I, class C>
concept LayerImpl = requires(I& impl, const I& ci, C& ctx, const typename C::Act& a, int n, Bound b, Links l,
                             bool need_dx) {
  impl.setup(ctx, n, a, b, l);
  { ci.output() } -> std::convertible_to<const typename C::Act&>;
  { impl.forward(ctx, a) } -> std::convertible_to<const typename C::Act&>;
  { impl.backward(ctx, a, a, need_dx) } -> std::convertible_to<const typename C::Act&>;
};

// The optional hooks (table above).
template <class C>
concept HasWorkspaceHooks = requires(C& c) {
  c.begin_workspace();
  c.end_workspace();
};
template <class C>
concept HasArenas = requires(C& c, std::span<float> s) {
  c.bind_arenas(s, s, s);
};
template <class C>
concept HasPassHooks = requires(C& c) {
  c.begin_forward();
  c.end_backward();
};
template <class C>
concept HasParamVersion = requires(C& c) {
  ++c.param_version;
};
template <class C, class Opt>
concept HasDeviceOptimizer = requires(C& c, Opt& o) {
  c.update(o);
  c.push(o);
  c.pull(o);
};

}  // namespace ctnn
