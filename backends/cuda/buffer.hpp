#pragma once
// Device memory: DeviceBuffer<T> (one cudaMalloc, freed with the object, move-only) and Tensor,
// the activation type of the CUDA backend (Context<cuda>::Act): n × c × h × w float32, NCHW,
// contiguous, in device memory. A Tensor either owns its memory or is a view of another's
// (Flatten); Impls allocate theirs once per batch size, in setup.
#include <cstddef>
#include <utility>

#include "backends/cuda/check.hpp"

namespace ctnn::gpu {

template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t n) : n_(n) {
    if (n) CTNN_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&p_), n * sizeof(T)));
  }
  DeviceBuffer(DeviceBuffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      p_ = std::exchange(o.p_, nullptr), n_ = std::exchange(o.n_, 0);
    }
    return *this;
  }
  ~DeviceBuffer() { reset(); }
  void reset() noexcept {
    if (p_) cudaFree(p_);  // no throw from a destructor; a failure here means the context is gone anyway
    p_ = nullptr, n_ = 0;
  }
  T* get() const { return p_; }
  std::size_t size() const { return n_; }

 private:
  T* p_ = nullptr;
  std::size_t n_ = 0;
};

struct Tensor {
  int n = 0, c = 0, h = 1, w = 1;
  float* data = nullptr;  ///< device memory: own.get() or someone else's (a view)
  DeviceBuffer<float> own;

  std::size_t size() const { return std::size_t(n) * c * h * w; }
  /// Gives the tensor this shape and its own memory; reallocates only when the element count changes.
  void resize(int n_, int c_, int h_, int w_) {
    const std::size_t want = std::size_t(n_) * c_ * h_ * w_;
    if (own.size() != want || data != own.get()) own = DeviceBuffer<float>(want);
    n = n_, c = c_, h = h_, w = w_, data = own.get();
  }
  /// A non-owning tensor over `d` (valid as long as the owner is).
  static Tensor view(float* d, int n_, int c_, int h_, int w_) {
    Tensor t;
    t.n = n_, t.c = c_, t.h = h_, t.w = w_, t.data = d;
    return t;
  }
};

}  // namespace ctnn::gpu
