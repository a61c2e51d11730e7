#pragma once
// ReLU, Sigmoid, LeakyReLU, Tanh, GELU and Scale with the backend's own element-wise kernels
// (contracts in ctnn/layers/activation.hpp, leaky_relu.hpp, tanh.hpp, gelu.hpp, scale.hpp).
#include "backends/cuda/context.hpp"
#include "backends/cuda/kernels.hpp"
#include "ctnn/layers/activation.hpp"
#include "ctnn/layers/gelu.hpp"
#include "ctnn/layers/leaky_relu.hpp"
#include "ctnn/layers/scale.hpp"
#include "ctnn/layers/tanh.hpp"

namespace ctnn {

namespace gpu {

/// Shared shell: Derived supplies static fwd(x, y, n, s) and bwd(x, y, dy, dx, n, s).
template <class Derived, class In>
struct Elementwise {
  Tensor y, dx;
  void setup(Context<cuda>&, int n, const Tensor&, Bound, Links) {
    y.resize(n, In::c, In::h, In::w), dx.resize(n, In::c, In::h, In::w);
  }
  const Tensor& output() const { return y; }
  const Tensor& forward(Context<cuda>& ctx, const Tensor& x) {
    Derived::fwd(x.data, y.data, y.size(), ctx.stream());
    return y;
  }
  const Tensor& backward(Context<cuda>& ctx, const Tensor& x, const Tensor& dy, bool need_dx) {
    if (need_dx) Derived::bwd(x.data, y.data, dy.data, dx.data, dx.size(), ctx.stream());
    return dx;
  }
};

}  // namespace gpu

template <class In>
struct Impl<ReLU, In, cuda> : gpu::Elementwise<Impl<ReLU, In, cuda>, In> {
  static void fwd(const float* x, float* y, std::size_t n, cudaStream_t s) { gpu::kernels::relu_forward(x, y, n, s); }
  static void bwd(const float* x, const float*, const float* dy, float* dx, std::size_t n, cudaStream_t s) {
    gpu::kernels::relu_backward(x, dy, dx, n, s);
  }
};

template <class In>
struct Impl<Sigmoid, In, cuda> : gpu::Elementwise<Impl<Sigmoid, In, cuda>, In> {
  static void fwd(const float* x, float* y, std::size_t n, cudaStream_t s) {
    gpu::kernels::sigmoid_forward(x, y, n, s);
  }
  static void bwd(const float*, const float* y, const float* dy, float* dx, std::size_t n, cudaStream_t s) {
    gpu::kernels::sigmoid_backward(y, dy, dx, n, s);
  }
};

template <Ratio Slope, class In>
struct Impl<LeakyReLU<Slope>, In, cuda> : gpu::Elementwise<Impl<LeakyReLU<Slope>, In, cuda>, In> {
  static constexpr float slope = Slope;
  static void fwd(const float* x, float* y, std::size_t n, cudaStream_t s) {
    gpu::kernels::leaky_relu_forward(x, y, n, slope, s);
  }
  static void bwd(const float* x, const float*, const float* dy, float* dx, std::size_t n, cudaStream_t s) {
    gpu::kernels::leaky_relu_backward(x, dy, dx, n, slope, s);
  }
};

template <class In>
struct Impl<Tanh, In, cuda> : gpu::Elementwise<Impl<Tanh, In, cuda>, In> {
  static void fwd(const float* x, float* y, std::size_t n, cudaStream_t s) { gpu::kernels::tanh_forward(x, y, n, s); }
  static void bwd(const float*, const float* y, const float* dy, float* dx, std::size_t n, cudaStream_t s) {
    gpu::kernels::tanh_backward(y, dy, dx, n, s);
  }
};

template <class In>
struct Impl<GELU, In, cuda> : gpu::Elementwise<Impl<GELU, In, cuda>, In> {
  static void fwd(const float* x, float* y, std::size_t n, cudaStream_t s) { gpu::kernels::gelu_forward(x, y, n, s); }
  static void bwd(const float* x, const float*, const float* dy, float* dx, std::size_t n, cudaStream_t s) {
    gpu::kernels::gelu_backward(x, dy, dx, n, s);
  }
};

template <Ratio F, class In>
struct Impl<Scale<F>, In, cuda> : gpu::Elementwise<Impl<Scale<F>, In, cuda>, In> {
  static constexpr float factor = F;
  static void fwd(const float* x, float* y, std::size_t n, cudaStream_t s) { gpu::kernels::scale(x, y, n, factor, s); }
  static void bwd(const float*, const float*, const float* dy, float* dx, std::size_t n, cudaStream_t s) {
    gpu::kernels::scale(dy, dx, n, factor, s);
  }
};

}  // namespace ctnn
