#pragma once
// Device mirrors of Model's three host arenas (parameters, gradients, buffers): one device
// allocation each, laid out exactly like the host arena, so a layer finds its tensors on the
// device at the same offset as in the `Bound` host pointers Model gives it.
// Copies happen only in push/pull — the explicit synchronisation points of Context<cuda>.
#include <functional>
#include <span>

#include "backends/cuda/buffer.hpp"

namespace ctnn::gpu {

class Arenas {
 public:
  bool bound() const { return bound_; }

  /// Allocates the mirrors and copies the host values over. Binding the arenas already bound does
  /// nothing (Model binds at every new batch size; the device copy may be the newer one).
  void bind(std::span<float> params, std::span<float> grads, std::span<float> buffers, cudaStream_t s) {
    if (bound_ && p_.same(params) && g_.same(grads) && b_.same(buffers)) return;
    p_.attach(params), g_.attach(grads), b_.attach(buffers);
    bound_ = true;
    push(s);
  }

  /// The device address of a host address inside one of the arenas; nullptr stays nullptr.
  float* device(const float* host) const {
    if (!host) return nullptr;
    for (const Mirror* m : {&p_, &g_, &b_})
      if (float* d = m->map(host)) return d;
    throw Error(bound_ ? "cuda backend: a layer pointer lies outside Model's arenas"
                       : "cuda backend: Model did not bind its arenas (Context<cuda>::bind_arenas, see model.hpp)");
  }

  void push(cudaStream_t s) const { p_.up(s), b_.up(s); }             ///< parameters and buffers, host → device
  void pull_params(cudaStream_t s) const { p_.down(s), b_.down(s); }  ///< parameters and buffers, device → host
  void pull_grads(cudaStream_t s) const { g_.down(s); }
  void push_grads(cudaStream_t s) const { g_.up(s); }  ///< after a host all-reduce (dist::Mpi)
  void pull_buffers(cudaStream_t s) const { b_.down(s); }

  float* params() const { return p_.dev.get(); }
  float* grads() const { return g_.dev.get(); }
  std::size_t num_params() const { return p_.host.size(); }

 private:
  struct Mirror {
    std::span<float> host;
    DeviceBuffer<float> dev;
    bool same(std::span<float> h) const { return host.data() == h.data() && host.size() == h.size(); }
    void attach(std::span<float> h) {
      host = h;
      dev = DeviceBuffer<float>(h.size());
    }
    float* map(const float* h) const {
      const std::less<const float*> lt;  // a total order, also for unrelated pointers
      return !lt(h, host.data()) && lt(h, host.data() + host.size()) ? dev.get() + (h - host.data()) : nullptr;
    }
    // Pageable host memory: the host → device copy returns once the data is staged, the
    // device → host copy once it has arrived, so the host may touch the arena right after.
    void up(cudaStream_t s) const {
      if (!host.empty())
        CTNN_CUDA_CHECK(cudaMemcpyAsync(dev.get(), host.data(), host.size_bytes(), cudaMemcpyHostToDevice, s));
    }
    void down(cudaStream_t s) const {
      if (host.empty()) return;
      CTNN_CUDA_CHECK(cudaMemcpyAsync(host.data(), dev.get(), host.size_bytes(), cudaMemcpyDeviceToHost, s));
      CTNN_CUDA_CHECK(cudaStreamSynchronize(s));
    }
  };
  Mirror p_, g_, b_;
  bool bound_ = false;
};

}  // namespace ctnn::gpu
