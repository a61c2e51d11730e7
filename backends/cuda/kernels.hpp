#pragma once
// Host-callable launchers of the backend's own kernels (defined in backends/cuda/kernels/*.cu,
// compiled once by nvcc into the ctnn_cuda library). Everything else in backends/cuda is a plain
// C++ header, so a consumer translation unit may be a .cpp built by the host compiler: nvcc is
// needed only for these few kernels (and cannot compile oneDNN's C++20 headers, see cuda.cmake).
// All launchers enqueue on `s` and return at once; sizes are element counts.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "ctnn/core/optim.hpp"

namespace ctnn::gpu::kernels {

// Activations. ReLU's backward reads the input x, Sigmoid's the output y (as the reference).
void relu_forward(const float* x, float* y, std::size_t n, cudaStream_t s);
void relu_backward(const float* x, const float* dy, float* dx, std::size_t n, cudaStream_t s);
void sigmoid_forward(const float* x, float* y, std::size_t n, cudaStream_t s);
void sigmoid_backward(const float* y, const float* dy, float* dx, std::size_t n, cudaStream_t s);
/// LeakyReLU (y = x > 0 ? x : slope·x; backward from x), Tanh (backward from y: dy·(1 − y²)),
/// GELU's exact erf form (backward from x: dy·(Φ(x) + x·φ(x))), and out = factor·in (Scale,
/// forward and backward alike).
void leaky_relu_forward(const float* x, float* y, std::size_t n, float slope, cudaStream_t s);
void leaky_relu_backward(const float* x, const float* dy, float* dx, std::size_t n, float slope, cudaStream_t s);
void tanh_forward(const float* x, float* y, std::size_t n, cudaStream_t s);
void tanh_backward(const float* y, const float* dy, float* dx, std::size_t n, cudaStream_t s);
void gelu_forward(const float* x, float* y, std::size_t n, cudaStream_t s);
void gelu_backward(const float* x, const float* dy, float* dx, std::size_t n, cudaStream_t s);
void scale(const float* in, float* out, std::size_t n, float factor, cudaStream_t s);

/// out[i] = keep(i) ? in[i]·scale : 0 with the reference backend's counter-based mask
/// (dropout_keep(key, i, p) in backends/reference/elementwise.hpp): forward and backward alike.
void dropout(const float* in, float* out, std::size_t n, std::uint64_t key, float p, float scale, cudaStream_t s);

/// Max over K×K windows with stride S of `planes` H×W planes; argmax gets the in-plane index of
/// the first maximum of each window (the reference's tie rule). Backward gathers, for each input
/// element, dy of the windows whose argmax it is, in window order: no atomics, deterministic.
void maxpool_forward(const float* x, float* y, int* argmax, int planes, int h, int w, int ho, int wo, int k, int stride,
                     cudaStream_t s);
void maxpool_backward(const float* dy, const int* argmax, float* dx, int planes, int h, int w, int ho, int wo, int k,
                      int stride, cudaStream_t s);

/// Average over K×K windows, stride S, zero padding p on every side, dividing by K² (PyTorch's
/// count_include_pad=True). Backward gathers, for each input element, dy/K² of the windows that
/// cover it: no atomics, deterministic.
void avgpool_forward(const float* x, float* y, int planes, int h, int w, int ho, int wo, int k, int stride, int pad,
                     cudaStream_t s);
void avgpool_backward(const float* dy, float* dx, int planes, int h, int w, int ho, int wo, int k, int stride, int pad,
                      cudaStream_t s);
/// Global pooling of `planes` planes of hw values each to one value per plane: the mean (backward
/// dx = dy/hw), or the maximum with the in-plane index of its first occurrence (backward routes dy
/// there).
void global_avgpool_forward(const float* x, float* y, int planes, int hw, cudaStream_t s);
void global_avgpool_backward(const float* dy, float* dx, int planes, int hw, cudaStream_t s);
void global_maxpool_forward(const float* x, float* y, int* argmax, int planes, int hw, cudaStream_t s);
void global_maxpool_backward(const float* dy, const int* argmax, float* dx, int planes, int hw, cudaStream_t s);

/// BatchNorm in evaluation mode: rstd[c] = 1/√(var[c] + eps) and dx = dy·weight[c]·rstd[c].
void batchnorm_rstd(const float* var, float* rstd, int channels, float eps, cudaStream_t s);
void batchnorm_eval_dx(const float* dy, const float* weight, const float* rstd, float* dx, std::size_t n, int channels,
                       int plane, cudaStream_t s);

/// torch.optim.SGD / Adam over n elements: core::sgd_update / core::adam_update (ctnn/core/optim.hpp),
/// the host optimizers' own element updates.
using SgdArgs = core::SgdArgs;
void sgd_step(float* p, const float* g, float* buf, std::size_t n, SgdArgs a, cudaStream_t s);
using AdamArgs = core::AdamArgs;
void adam_step(float* p, const float* g, float* m, float* v, std::size_t n, AdamArgs a, cudaStream_t s);

/// Log-softmax cross-entropy per row of n × classes logits (the formulas of ctnn/loss.hpp, in
/// double): row_loss[b] = logsumexp(z_b) − z_b[t_b]; row_ok[b] = 1 if argmax = target, 0 if not,
/// −1 if the target is outside [0, classes); dlogits (may be null) = (softmax − onehot)/n.
/// label_smoothing ε: torch's (core::cross_entropy_row), the target (1 − ε)·onehot + ε/classes.
void cross_entropy(const float* logits, const std::int32_t* target, int n, int classes, float* dlogits,
                   double* row_loss, int* row_ok, cudaStream_t s, double label_smoothing = 0);

/// Mirrors the width of sample b of an n × c × h × w batch in place where flip[b] != 0.
void hflip(float* x, const float* flip, int n, int c, int h, int w, cudaStream_t s);

}  // namespace ctnn::gpu::kernels
