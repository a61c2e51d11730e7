#pragma once
// Conv2d on cuDNN (contract in ctnn/layers/conv2d.hpp). At setup, for this batch size, cuDNN
// benchmarks its algorithms for the three passes (cudnnFind*: measured, not guessed) and the
// fastest usable one is kept; the scratch memory they need is reserved once in the Context.
// Bias is added with cudnnAddTensor and its gradient summed with cudnnConvolutionBackwardBias.
// Groups: cuDNN's group count on the convolution descriptors, filter Co × Ci/G × K × K.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "backends/cuda/context.hpp"
#include "backends/cuda/descriptors.hpp"
#include "ctnn/layers/conv2d.hpp"

namespace ctnn {

namespace gpu {

/// FFT and Winograd algorithms compute in a transformed domain whose rounding is not float32's:
/// measured on an H200 (cuDNN 9, AlexNet's convolutions, batch 8), one such layer moves the net's
/// output by ~1e-3 relative, as TF32 does, against ~1e-6 for the GEMM and direct algorithms.
inline bool transforms(cudnnConvolutionFwdAlgo_t a) {
  return a == CUDNN_CONVOLUTION_FWD_ALGO_FFT || a == CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING ||
         a == CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD || a == CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED;
}
inline bool transforms(cudnnConvolutionBwdDataAlgo_t a) {
  return a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT || a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING ||
         a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD || a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED;
}
inline bool transforms(cudnnConvolutionBwdFilterAlgo_t a) {
  return a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT || a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING ||
         a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD || a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED;
}

/// The first (= fastest) successful result that fits the scratch limit and, if asked, is
/// deterministic; with allow_tf32 off (plain float32 accuracy), no FFT or Winograd algorithm.
template <class Perf>
Perf pick_algorithm(const Perf* results, int count, const Context<cuda>& ctx, const char* pass) {
  for (int i = 0; i < count; ++i) {
    const Perf& r = results[i];
    if (r.status == CUDNN_STATUS_SUCCESS && r.memory <= kMaxScratchBytes &&
        (!ctx.deterministic || r.determinism == CUDNN_DETERMINISTIC) && (ctx.allow_tf32 || !transforms(r.algo)))
      return r;
  }
  throw Error(std::string("cuda backend: Conv2d: cuDNN has no usable ") + pass + " algorithm" +
              (ctx.deterministic ? " (deterministic = true)" : ""));
}

/// Keeps the math type the algorithm was measured with, except that FMA stays FMA when TF32 is off.
inline void use_math(ConvDesc& c, cudnnMathType_t measured, const Context<cuda>& ctx) {
  c.math_type(ctx.allow_tf32 ? measured : CUDNN_FMA_MATH);
}

/// One pass's algorithm: `find(results, max, &got)` runs cuDNN's benchmark, the pick sets the
/// pass's math type, and `scratch(algo, &bytes)` raises `need` to what the algorithm asks for.
/// The three passes differ only in the cuDNN functions and types they hand in.
template <class Perf, class Find, class Scratch>
auto choose(ConvDesc& conv, const Context<cuda>& ctx, const char* pass, std::size_t& need, Find find, Scratch scratch) {
  constexpr int kMax = 16;  // more than any pass's CUDNN_CONVOLUTION_*_ALGO_COUNT
  static_assert(CUDNN_CONVOLUTION_FWD_ALGO_COUNT <= kMax && CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT <= kMax &&
                CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT <= kMax);
  Perf results[kMax];
  int got = 0;
  find(results, kMax, &got);
  const Perf p = pick_algorithm(results, got, ctx, pass);
  use_math(conv, p.mathType, ctx);
  if (std::getenv("CTNN_CUDA_VERBOSE"))  // which algorithm cuDNN measured fastest, and its math
    std::fprintf(stderr, "ctnn cuda: conv %s algorithm %d, math type %d, %.3f ms, %zu bytes\n", pass, int(p.algo),
                 int(p.mathType), double(p.time), p.memory);
  std::size_t bytes = 0;
  scratch(p.algo, &bytes);
  need = std::max(need, bytes);
  return p.algo;
}

}  // namespace gpu

template <int Ci, int Co, int K, int S, int P, bool B, int G, class In>
struct Impl<Conv2d<Ci, Co, K, S, P, B, G>, In, cuda> {
  using Out = typename Conv2d<Ci, Co, K, S, P, B, G>::template output_shape<In>;
  static constexpr float one = 1.f, zero = 0.f;
  gpu::Tensor y, dx;
  gpu::TensorDesc xd, yd, bd;
  gpu::FilterDesc wd;
  gpu::ConvDesc fwd, bwd_data, bwd_filter;  // one each: the passes may want different math types
  cudnnConvolutionFwdAlgo_t fwd_algo{};
  cudnnConvolutionBwdDataAlgo_t data_algo{};
  cudnnConvolutionBwdFilterAlgo_t filter_algo{};
  float *w = nullptr, *dw = nullptr, *b = nullptr, *db = nullptr;

  void setup(Context<cuda>& ctx, int n, const gpu::Tensor&, Bound p, Links) {
    w = ctx.device(p.value[0]), dw = ctx.device(p.grad[0]);
    if constexpr (B) b = ctx.device(p.value[1]), db = ctx.device(p.grad[1]);
    y.resize(n, Co, Out::h, Out::w);
    dx.resize(n, Ci, In::h, In::w);
    xd.set(n, Ci, In::h, In::w), yd.set(n, Co, Out::h, Out::w), bd.set(1, Co, 1, 1), wd.set(Co, Ci / G, K, K);
    const cudnnMathType_t math = ctx.allow_tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
    fwd.set(P, S, math, G), bwd_data.set(P, S, math, G), bwd_filter.set(P, S, math, G);
    const cudnnHandle_t h = ctx.dnn();
    std::size_t need = 0;
    fwd_algo = gpu::choose<cudnnConvolutionFwdAlgoPerf_t>(
        fwd, ctx, "forward", need,
        [&](auto* r, int max, int* got) {
          CTNN_CUDA_CHECK(cudnnFindConvolutionForwardAlgorithm(h, xd, wd, fwd, yd, max, got, r));
        },
        [&](auto algo, std::size_t* bytes) {
          CTNN_CUDA_CHECK(cudnnGetConvolutionForwardWorkspaceSize(h, xd, wd, fwd, yd, algo, bytes));
        });
    data_algo = gpu::choose<cudnnConvolutionBwdDataAlgoPerf_t>(
        bwd_data, ctx, "backward-data", need,
        [&](auto* r, int max, int* got) {
          CTNN_CUDA_CHECK(cudnnFindConvolutionBackwardDataAlgorithm(h, wd, yd, bwd_data, xd, max, got, r));
        },
        [&](auto algo, std::size_t* bytes) {
          CTNN_CUDA_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(h, wd, yd, bwd_data, xd, algo, bytes));
        });
    filter_algo = gpu::choose<cudnnConvolutionBwdFilterAlgoPerf_t>(
        bwd_filter, ctx, "backward-filter", need,
        [&](auto* r, int max, int* got) {
          CTNN_CUDA_CHECK(cudnnFindConvolutionBackwardFilterAlgorithm(h, xd, yd, bwd_filter, wd, max, got, r));
        },
        [&](auto algo, std::size_t* bytes) {
          CTNN_CUDA_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(h, xd, yd, bwd_filter, wd, algo, bytes));
        });
    ctx.reserve_scratch(need);
  }
  const gpu::Tensor& output() const { return y; }

  const gpu::Tensor& forward(Context<cuda>& ctx, const gpu::Tensor& x) {
    CTNN_CUDA_CHECK(cudnnConvolutionForward(ctx.dnn(), &one, xd, x.data, wd, w, fwd, fwd_algo, ctx.scratch(),
                                            ctx.scratch_size(), &zero, yd, y.data));
    if constexpr (B) CTNN_CUDA_CHECK(cudnnAddTensor(ctx.dnn(), &one, bd, b, &one, yd, y.data));
    return y;
  }

  const gpu::Tensor& backward(Context<cuda>& ctx, const gpu::Tensor& x, const gpu::Tensor& dy, bool need_dx) {
    if constexpr (B) CTNN_CUDA_CHECK(cudnnConvolutionBackwardBias(ctx.dnn(), &one, yd, dy.data, &zero, bd, db));
    CTNN_CUDA_CHECK(cudnnConvolutionBackwardFilter(ctx.dnn(), &one, xd, x.data, yd, dy.data, bwd_filter, filter_algo,
                                                   ctx.scratch(), ctx.scratch_size(), &zero, wd, dw));
    if (need_dx)
      CTNN_CUDA_CHECK(cudnnConvolutionBackwardData(ctx.dnn(), &one, wd, w, yd, dy.data, bwd_data, data_algo,
                                                   ctx.scratch(), ctx.scratch_size(), &zero, xd, dx.data));
    return dx;
  }
};

}  // namespace ctnn
