#pragma once
// The CUDA backend (ctnn::cuda): cuDNN for convolution and batch norm, cuBLAS for Linear, own
// kernels for the rest (backends/cuda/kernels). Activations are device tensors in NCHW float32
// (gpu::Tensor), allocated once per batch size; upload/download are their only host crossings.
//
// Parameters. Model keeps its host arenas; Context<cuda> mirrors them on the device (Model calls
// bind_arenas when it builds its first workspace) and layers work on the mirrors. Which copy is
// the truth is `sync`:
//   Sync::host    (default) host arenas are: each forward starts by pushing parameters and buffers,
//                 each backward ends by pulling the gradients, each training forward by pulling the
//                 running statistics. Any host-side code (SGD::step on model.parameters(), checkpoints,
//                 tests) works unchanged, at the price of ~3 parameter-sized copies per step.
//   Sync::device  the mirrors are: nothing crosses except at push()/pull(); update(optimizer) runs
//                 the step on the device. The first update() switches to this mode; from then on
//                 call pull() (or pull(optimizer)) before reading host values and push() after
//                 writing them (checkpoint load). To go back to Sync::host, pull() first.
#include <cuda_runtime_api.h>

#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

#include "backends/cuda/arenas.hpp"
#include "backends/cuda/buffer.hpp"
#include "backends/cuda/optim.hpp"
#include "ctnn/backend.hpp"

namespace ctnn {

namespace gpu {

enum class Sync { host, device };

/// Owning handle for the C APIs' pointer-typed handles.
template <auto Destroy>
struct Destroyer {
  template <class H>
  void operator()(H h) const {
    Destroy(h);
  }
};
template <class H, auto Destroy>
using Handle = std::unique_ptr<std::remove_pointer_t<H>, Destroyer<Destroy>>;

/// cuDNN may ask for this much scratch per convolution pass, at most (faster algorithms that want
/// more are skipped).
constexpr std::size_t kMaxScratchBytes = std::size_t(1) << 30;

/// True when a CUDA device is usable (tests skip, programs fall back, when not).
inline bool device_available() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
}

}  // namespace gpu

template <>
inline constexpr const char* backend_name_v<cuda> = "CUDA";

template <>
struct Context<cuda> {
  using Act = gpu::Tensor;

  /// Creates a stream and cuDNN/cuBLAS handles on the current device. Throws ctnn::Error when no
  /// device is visible or precision is not f32.
  explicit Context(Precision p = Precision::f32) : precision(p == Precision::automatic ? Precision::f32 : p) {
    if (precision != Precision::f32)
      throw Error("cuda backend: only float32 is implemented (bf16 is the CPU backend's)");
    int count = 0;
    if (const cudaError_t e = cudaGetDeviceCount(&count); e != cudaSuccess || count == 0)
      throw Error("cuda backend: no CUDA device is visible (cudaGetDeviceCount: " +
                  (e == cudaSuccess ? std::string("0 devices") : gpu::status_text(e)) + ")");
    cudaStream_t s{};
    CTNN_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    stream_.reset(s);
    cudnnHandle_t d{};
    CTNN_CUDA_CHECK(cudnnCreate(&d));
    dnn_.reset(d);
    CTNN_CUDA_CHECK(cudnnSetStream(d, s));
    cublasHandle_t b{};
    CTNN_CUDA_CHECK(cublasCreate(&b));
    blas_.reset(b);
    CTNN_CUDA_CHECK(cublasSetStream(b, s));
  }
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  bool training = true;
  Precision precision;
  std::uint64_t seed = 0, step = 0;
  float dropout_override = -1.f;
  /// Reduced-precision math where it is faster: TF32 tensor cores in convolutions and GEMMs, FFT and
  /// Winograd convolutions (each ~1e-3 relative on the output; PyTorch's cuDNN default allows TF32
  /// and, with cudnn.benchmark, both transforms). Off: plain float32 accuracy. Read at setup.
  bool allow_tf32 = true;
  bool deterministic = false;  ///< only deterministic cuDNN algorithms; read at setup
  gpu::Sync sync = gpu::Sync::host;

  cudaStream_t stream() const { return stream_.get(); }
  cudnnHandle_t dnn() const { return dnn_.get(); }
  /// The cuBLAS handle, with the math mode `allow_tf32` asks for.
  cublasHandle_t blas() const {
    CTNN_CUDA_CHECK(cublasSetMathMode(blas_.get(), allow_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    return blas_.get();
  }

  // ---- Model's hook and the layers' view of the parameters ------------------------------------
  void bind_arenas(std::span<float> params, std::span<float> grads, std::span<float> buffers) {
    arenas_.bind(params, grads, buffers, stream());
  }
  /// Device address of a host arena address (a Bound pointer).
  float* device(const float* host) const { return arenas_.device(host); }

  // ---- activations ------------------------------------------------------------------------------
  void upload_shape(int n, int c, int h, int w, Act& a) const { a.resize(n, c, h, w); }
  void upload(std::span<const float> x, int n, int c, int h, int w, Act& a) const {
    if (a.size() != x.size() || a.data != a.own.get()) a.resize(n, c, h, w);
    CTNN_CUDA_CHECK(cudaMemcpyAsync(a.data, x.data(), x.size_bytes(), cudaMemcpyHostToDevice, stream()));
  }
  void download(const Act& a, std::span<float> out) {
    if (out.size() != a.size())
      throw Error("cuda backend: download of " + std::to_string(a.size()) + " values into " +
                  std::to_string(out.size()));
    CTNN_CUDA_CHECK(cudaMemcpyAsync(out.data(), a.data, out.size_bytes(), cudaMemcpyDeviceToHost, stream()));
    if (std::exchange(buffers_changed_, false)) arenas_.pull_buffers(stream());
    CTNN_CUDA_CHECK(cudaStreamSynchronize(stream()));
  }

  // ---- pass boundaries (Model calls them around each whole pass: HasPassHooks) ------------------
  void begin_forward() {
    if (sync != gpu::Sync::host) return;
    arenas_.push(stream());
    buffers_changed_ = training;  // running statistics come back with the output (download)
  }
  void end_backward() const {
    if (sync == gpu::Sync::host) arenas_.pull_grads(stream());
  }

  // ---- explicit synchronisation (Sync::device; in Sync::host the host is always current, and
  // pull() does nothing: it would undo a host optimizer step not yet pushed) ----------------------
  void push() const {
    if (arenas_.bound()) arenas_.push(stream());
  }
  void pull() const {
    if (arenas_.bound() && sync == gpu::Sync::device) arenas_.pull_params(stream()), arenas_.pull_grads(stream());
  }
  /// The gradients alone, device → host and back: data parallelism over a host communicator
  /// (dist::Mpi) sums them in host memory between the backward pass and the device optimizer step.
  void pull_gradients() const {
    if (arenas_.bound()) arenas_.pull_grads(stream());
  }
  void push_gradients() const {
    if (arenas_.bound()) arenas_.push_grads(stream());
  }
  /// push()/pull() with the optimizer's state (for checkpoints: pull before saving, push after loading).
  void push(const SGD&) { push(), optimizer_.reset(); }
  void push(const Adam&) { push(), optimizer_.reset(); }
  void pull(SGD& o) const { pull(), optimizer_.pull(o, stream()); }
  void pull(Adam& o) const { pull(), optimizer_.pull(o, stream()); }
  /// One optimizer step on the device mirrors (from now on the device holds the truth: Sync::device).
  void update(SGD& o) { optimizer_.step(o, device_params("update"), arenas_.grads(), arenas_.num_params(), stream()); }
  void update(Adam& o) { optimizer_.step(o, device_params("update"), arenas_.grads(), arenas_.num_params(), stream()); }

  // ---- cuDNN scratch memory, shared by all convolutions, sized at setup ---------------------------
  void reserve_scratch(std::size_t bytes) {
    if (bytes > scratch_.size()) scratch_ = gpu::DeviceBuffer<std::byte>(bytes);
  }
  void* scratch() const { return scratch_.get(); }
  std::size_t scratch_size() const { return scratch_.size(); }

 private:
  float* device_params(const char* what) {
    if (!arenas_.bound()) throw Error(std::string("cuda backend: ") + what + "() before the model's first forward");
    sync = gpu::Sync::device;
    return arenas_.params();
  }
  // Declared first, destroyed last: memory is freed while the handles still exist.
  gpu::Handle<cudaStream_t, cudaStreamDestroy> stream_;
  gpu::Handle<cudnnHandle_t, cudnnDestroy> dnn_;
  gpu::Handle<cublasHandle_t, cublasDestroy> blas_;
  gpu::Arenas arenas_;
  gpu::DeviceOptimizer optimizer_;
  gpu::DeviceBuffer<std::byte> scratch_;
  bool buffers_changed_ = false;
};

}  // namespace ctnn
