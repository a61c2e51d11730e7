#pragma once
// The oneDNN CPU backend (ctnn::cpu): every layer runs as oneDNN 2.6 primitives.
//
// Layout policy: convolutions and inner products are created with format_tag::any, so oneDNN picks
// its blocked layouts (nChw16c for f32, nhwc for bf16 on AMX); batch norm, ReLU and pooling take
// whatever layout arrives, so activations flow from layer to layer without reorders. Only the
// network's input and output are plain NCHW float32. (Measured: forcing a layout is catastrophic;
// fp32 convolutions forced to nhwc fell to a reference kernel, ~1.9 s a step, and bf16 forced to
// nChw16c lost AMX.)
// Primitives and activation buffers are created once per batch size (Model's workspace).
#include <cstdlib>
#include <cstring>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <span>
#include <utility>
#include <vector>

#include "ctnn/backend.hpp"
#include "ctnn/error.hpp"

namespace ctnn {

namespace onednn {
using dnnl::memory;
using dt = memory::data_type;
using tag = memory::format_tag;

/// True when the memory is dense and row-major in logical order, ignoring size-1 dimensions —
/// then two such descriptors with the same element count and type hold the same bytes
/// (N×C equals N×C×1×1 in nchw or nhwc).
inline bool dense_rowmajor(const memory::desc& md) {
  const auto& d = md.data;
  if (d.format_kind != dnnl_blocked || d.format_desc.blocking.inner_nblks != 0) return false;
  dnnl_dim_t expect = 1;
  for (int i = d.ndims - 1; i >= 0; --i) {
    if (d.dims[i] == 1) continue;
    if (d.format_desc.blocking.strides[i] != expect || d.padded_dims[i] != d.dims[i]) return false;
    expect *= d.dims[i];
  }
  return true;
}
inline bool same_bytes(const memory::desc& a, const memory::desc& b) {
  return a.data_type() == b.data_type() && a.get_size() == b.get_size() && dense_rowmajor(a) && dense_rowmajor(b);
}
inline tag plain_tag(int ndims) { return ndims == 2 ? tag::nc : ndims == 4 ? tag::nchw : tag::x; }

/// The input gradients of one workspace. Layer i's dx is read only by layer i−1's backward, so
/// two buffers used alternately (in the order layers ask) hold them all: a third of the memory of
/// one buffer per layer. Layers that pass gradients through unchanged must not take a slot.
class GradientPool {
 public:
  memory make(const memory::desc& md, const dnnl::engine& engine) {
    const int slot = count_++ % 2;
    memory m(md, engine, DNNL_MEMORY_NONE);
    bytes_[slot] = std::max(bytes_[slot], md.get_size());
    users_[slot].push_back(m);
    return m;
  }
  /// Allocates both buffers (64-byte aligned, as oneDNN prefers) and points every user at its slot.
  void allocate() {
    for (int s = 0; s < 2; ++s) {
      buffer_[s].reset(static_cast<std::byte*>(std::aligned_alloc(64, (bytes_[s] + 63) / 64 * 64 + 64)));
      for (auto& m : users_[s]) m.set_data_handle(buffer_[s].get());
    }
  }

 private:
  struct Free {
    void operator()(std::byte* p) const { std::free(p); }
  };
  int count_ = 0;
  std::size_t bytes_[2] = {0, 0};
  std::vector<memory> users_[2];
  std::unique_ptr<std::byte, Free> buffer_[2];
};

/// How Conv2d computes (Context<cpu>::conv_algorithm, read at setup). Winograd F(4×4, 3×3)
/// (oneDNN 2.6's jit_wino_4x3, fp32, AVX-512 only) does ~2.25x fewer multiplications for 3×3
/// stride-1 convolutions. Measured on an AMD EPYC Zen 5 at batch 128 (fwd / bwd-data / bwd-weights
/// ms, direct → Winograd): 128→256 15×15 43.0/41.3/43.0 → 24.1/22.0/26.9; 256→256 13×13
/// 64.3/67.1/68.4 → 38.4/38.4/48.2; 256→128 13×13 33.5/35.1/34.9 → 22.8/25.3/28.7; but 3→96
/// 32×32 2.1/13.0/3.4 → 12.7/14.5/12.7. Hence `automatic`: Winograd for 3×3 stride-1 layers with
/// at least 64 input and output channels in fp32, direct elsewhere; each pass falls back to
/// direct where oneDNN has no Winograd kernel (AVX2 CPUs, bf16).
enum class ConvAlgorithm { automatic, direct, winograd };

}  // namespace onednn

template <>
inline constexpr const char* backend_name_v<cpu> = "oneDNN";

template <>
struct Context<cpu> {
  using Act = dnnl::memory;

  explicit Context(Precision p = Precision::f32)
      : precision(p == Precision::automatic ? (native_bf16() ? Precision::bf16 : Precision::f32) : p),
        engine(dnnl::engine::kind::cpu, 0),
        stream(engine) {
    if (precision == Precision::bf16) require_bf16();
  }
  /// True where oneDNN runs bf16 on bf16 instructions (AVX512-BF16, AMX), not emulated on AVX-512:
  /// there bf16 roughly doubles the step (measured on a Zen 5: 343–382 against 176–211 img/s).
  static bool native_bf16() {
    const auto isa = dnnl::get_effective_cpu_isa();
    return isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
  }
  bool training = true;
  Precision precision;
  std::uint64_t seed = 0, step = 0;
  std::uint64_t param_version = 0;  ///< bumped by Model whenever parameters may have been written
  float dropout_override = -1.f;
  onednn::ConvAlgorithm conv_algorithm = onednn::ConvAlgorithm::automatic;
  dnnl::engine engine;
  dnnl::stream stream;

 private:
  onednn::GradientPool* pool_ = nullptr;

 public:
  /// Fails early, and clearly, where oneDNN has no bf16 kernels (it needs AVX-512: emulated on
  /// avx512_core, native with AVX512-BF16 or AMX) instead of at the first primitive.
  void require_bf16() const {
    using namespace onednn;
    const memory::desc a({1, 16, 4, 4}, dt::bf16, tag::any), w({16, 16, 3, 3}, dt::bf16, tag::any);
    try {
      dnnl::convolution_forward::primitive_desc(
          {dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, a, w, a, {1, 1}, {1, 1}, {1, 1}},
          engine);
    } catch (const dnnl::error&) {
      throw Error("precision bf16: oneDNN " + std::to_string(dnnl::version()->major) + "." +
                  std::to_string(dnnl::version()->minor) +
                  " has no bf16 convolution on this CPU (it needs AVX-512; this one offers " +
                  (dnnl::get_effective_cpu_isa() == dnnl::cpu_isa::avx2 ? std::string("AVX2") : std::string("less")) +
                  "). Use --precision f32.");
    }
  }

  /// Per-workspace resources: Model calls begin_workspace() before setting up the layers of a
  /// batch size and end_workspace() after; in between, gradient() hands out pooled dx buffers.
  std::shared_ptr<void> begin_workspace() {
    auto pool = std::make_shared<onednn::GradientPool>();
    pool_ = pool.get();
    return pool;
  }
  void end_workspace() {
    pool_->allocate();
    pool_ = nullptr;
  }
  /// Makes gradient() draw from `pool` (null: own buffers) and returns the pool it drew from: a
  /// composite layer (Residual) gives each inner branch a pool of its own, since the branches'
  /// gradients must not overwrite the block's incoming gradient, which both branches read.
  onednn::GradientPool* exchange_pool(onednn::GradientPool* pool) { return std::exchange(pool_, pool); }
  /// A buffer for a layer's input gradient: pooled while a workspace is being built, else owned.
  dnnl::memory gradient(const dnnl::memory::desc& md) {
    return pool_ ? pool_->make(md, engine) : dnnl::memory(md, engine);
  }

  /// Data type of activations (weights are converted to it once per step; masters stay f32).
  onednn::dt act_dt() const { return precision == Precision::bf16 ? onednn::dt::bf16 : onednn::dt::f32; }

  void upload_shape(int n, int c, int h, int w, Act& a) const {
    a = dnnl::memory({{n, c, h, w}, onednn::dt::f32, onednn::tag::nchw}, engine);
  }
  void upload(std::span<const float> x, int n, int c, int h, int w, Act& a) const {
    if (!a || a.get_desc().get_size() != x.size_bytes()) upload_shape(n, c, h, w, a);
    std::memcpy(a.get_data_handle(), x.data(), x.size_bytes());
  }
  /// Copies an activation out as plain NCHW float32, converting layout and type if needed.
  void download(const Act& a, std::span<float> out) {
    const auto md = a.get_desc();
    const dnnl::memory::desc plain(md.dims(), onednn::dt::f32, onednn::plain_tag(md.data.ndims));
    if (onednn::same_bytes(md, plain)) {
      stream.wait();
      std::memcpy(out.data(), a.get_data_handle(), out.size_bytes());
      return;
    }
    dnnl::memory dst(plain, engine, out.data());
    dnnl::reorder(a, dst).execute(stream, const_cast<Act&>(a), dst);
    stream.wait();
  }
};

namespace onednn {

/// Presents an activation in the descriptor a primitive wants: the memory itself when it already
/// matches, a zero-copy view when both hold the same bytes, else a reorder into a buffer owned
/// here. The reorder primitive and buffer are built on first use and reused every step.
class Relayout {
 public:
  const memory& operator()(Context<cpu>& ctx, const memory& in, const memory::desc& want) {
    const memory& m = reshaped(ctx, in, want);
    const auto have = m.get_desc();
    if (have == want) return m;
    if (same_bytes(have, want)) {
      if (!view_ || view_.get_data_handle() != m.get_data_handle() || view_.get_desc() != want)
        view_ = memory(want, ctx.engine, m.get_data_handle());
      return view_;
    }
    if (!buf_ || buf_.get_desc() != want) buf_ = memory(want, ctx.engine), reorder_ = {};
    if (!reorder_ || from_ != have) reorder_ = dnnl::reorder(m, buf_), from_ = have;
    reorder_.execute(ctx.stream, const_cast<memory&>(m), buf_);
    return buf_;
  }

 private:
  // N×C×1×1 and N×C are the same values: give a plain source the wanted dims before converting.
  const memory& reshaped(Context<cpu>& ctx, const memory& m, const memory::desc& want) {
    const auto have = m.get_desc();
    if (have.dims() == want.dims()) return m;
    if (!dense_rowmajor(have) || have.get_size() / dnnl::memory::data_type_size(have.data_type()) !=
                                     want.get_size() / dnnl::memory::data_type_size(want.data_type()))
      throw Error("oneDNN backend: cannot present an activation in another shape (internal layout error)");
    const memory::desc plain(want.dims(), have.data_type(), plain_tag(int(want.dims().size())));
    if (!reshape_ || reshape_.get_data_handle() != m.get_data_handle() || reshape_.get_desc() != plain)
      reshape_ = memory(plain, ctx.engine, m.get_data_handle());
    return reshape_;
  }
  memory reshape_, view_, buf_;
  memory::desc from_;
  dnnl::reorder reorder_;
};

/// A parameter tensor kept in PyTorch layout and f32 (the arena), mirrored into the layout and
/// type a primitive wants. `sync()` converts once per call (weights change every step).
class Mirror {
 public:
  void bind(Context<cpu>& ctx, float* user, const memory::desc& user_md, const memory::desc& want) {
    user_ = memory(user_md, ctx.engine, user);
    if (want == user_md) {
      mem_ = user_, reorder_ = back_ = {};
    } else {
      mem_ = memory(want, ctx.engine);
      reorder_ = dnnl::reorder(user_, mem_);
      back_ = dnnl::reorder(mem_, user_);
    }
  }
  /// Arena → primitive layout. In training the weights change every step, so this converts on
  /// every call; in evaluation only when Model reports that parameters were handed out for writing.
  memory& sync(Context<cpu>& ctx) {
    if (reorder_ && (ctx.training || synced_ != ctx.param_version)) {
      reorder_.execute(ctx.stream, user_, mem_);
      synced_ = ctx.param_version;
    }
    return mem_;
  }
  /// Primitive layout → arena (weight gradients).
  void write_back(Context<cpu>& ctx) {
    if (back_) back_.execute(ctx.stream, mem_, user_);
  }
  memory& get() { return mem_; }
  memory& user() { return user_; }

 private:
  memory user_, mem_;
  dnnl::reorder reorder_, back_;
  std::uint64_t synced_ = ~std::uint64_t{0};
};

}  // namespace onednn
}  // namespace ctnn
