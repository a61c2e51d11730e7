#pragma once
// The Eigen CPU backend (ctnn::eigen): portable, header-only, for builds without oneDNN.
//
// Activations are plain NCHW float32 (as the reference backend's), so data flows between layers
// without reorders and a Map of a tensor is an Eigen matrix of any of its natural shapes:
//   one image of N×C×H×W row-major = col-major (H·W) × C;  N×F row-major = col-major F × N.
// The heavy passes (Conv2d lowered by im2col, Linear) are Eigen GEMMs; the rest are loops and
// Eigen arrays.
// Threads: OpenMP when the build has it (CMake links OpenMP for this backend), as many as
// omp_get_max_threads() — so ctnn::set_num_threads (threads.hpp) and OMP_NUM_THREADS set them.
// Conv2d gives each thread whole chunks of images (its own im2col and a one-thread Eigen GEMM:
// one parallel region per pass); Linear uses Eigen's own parallel GEMM; pooling, BatchNorm's
// channels and the element-wise layers split their loops with parallel_for below. Without OpenMP
// everything runs on one thread.
#include <Eigen/Core>
#if defined(_OPENMP)
#include <omp.h>
#endif
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "ctnn/backend.hpp"
#include "ctnn/error.hpp"

namespace ctnn {

namespace eigen_backend {

using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic>;  // column-major
using MatMap = Eigen::Map<Mat>;
using ConstMatMap = Eigen::Map<const Mat>;
using Arr = Eigen::Array<float, Eigen::Dynamic, 1>;
using ArrMap = Eigen::Map<Arr>;
using ConstArrMap = Eigen::Map<const Arr>;
using Vec = Eigen::Matrix<float, Eigen::Dynamic, 1>;
using VecMap = Eigen::Map<Vec>;
using ConstVecMap = Eigen::Map<const Vec>;

/// Runs f(i) for i in [0, n), split over the OpenMP threads when the build has OpenMP and the
/// whole loop touches at least kParallelWork elements (`work`, an estimate). Below that a
/// parallel region costs more than it saves: on a loaded machine each barrier waits for a
/// descheduled thread (measured: the tiny nets of test_finite_differences took 39 s with every
/// loop parallel on 2 threads, 0.03 s on one).
inline constexpr std::ptrdiff_t kParallelWork = std::ptrdiff_t(1) << 16;
template <class F>
void parallel_for(std::ptrdiff_t n, std::ptrdiff_t work, F&& f) {
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) if (n > 1 && work >= kParallelWork)
  for (std::ptrdiff_t i = 0; i < n; ++i) f(i);
#else
  (void)work;
  for (std::ptrdiff_t i = 0; i < n; ++i) f(i);
#endif
}

/// The threads a parallel_for would use now (omp_get_max_threads; 1 without OpenMP).
inline int max_threads() {
#if defined(_OPENMP)
  return omp_get_max_threads();
#else
  return 1;
#endif
}

/// parallel_for that also hands f the thread's number in [0, max_threads()) (for per-thread
/// scratch). Static schedule: for given n and thread count, item i always runs on the same thread,
/// so per-thread partial sums, added in thread order, give the same bits every run.
template <class F>
void parallel_for_thread(std::ptrdiff_t n, std::ptrdiff_t work, F&& f) {
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) if (n > 1 && work >= kParallelWork)
  for (std::ptrdiff_t i = 0; i < n; ++i) f(i, omp_get_thread_num());
#else
  (void)work;
  for (std::ptrdiff_t i = 0; i < n; ++i) f(i, 0);
#endif
}

}  // namespace eigen_backend

/// Activation of the Eigen backend: n × c × h × w float32, NCHW, contiguous, aligned as Eigen prefers.
struct EigenTensor {
  std::vector<float, Eigen::aligned_allocator<float>> data;
  int n = 0, c = 0, h = 1, w = 1;
  void resize(int n_, int c_, int h_, int w_) {
    n = n_, c = c_, h = h_, w = w_;
    data.assign(std::size_t(n) * c * h * w, 0.f);
  }
  /// Allocates on first use (input gradients: an inference-only workspace never holds them).
  void ensure(int n_, int c_, int h_, int w_) {
    if (n != n_ || c != c_ || h != h_ || w != w_ || data.empty()) resize(n_, c_, h_, w_);
  }
  float* ptr() { return data.data(); }
  const float* ptr() const { return data.data(); }
  std::size_t size() const { return data.size(); }
  /// The tensor as a column-major rows × cols matrix (rows·cols = size()).
  eigen_backend::MatMap mat(std::ptrdiff_t rows, std::ptrdiff_t cols) { return {ptr(), rows, cols}; }
  eigen_backend::ConstMatMap mat(std::ptrdiff_t rows, std::ptrdiff_t cols) const { return {ptr(), rows, cols}; }
  eigen_backend::ArrMap arr() { return {ptr(), std::ptrdiff_t(size())}; }
  eigen_backend::ConstArrMap arr() const { return {ptr(), std::ptrdiff_t(size())}; }
};

namespace eigen_backend {
using Buffer = std::vector<float, Eigen::aligned_allocator<float>>;
/// One thread's scratch for Conv2d's lowering (backends/eigen/conv2d.hpp), shared by all layers:
/// they run one after another, so one set per thread holds the largest layer's needs.
struct Scratch {
  Buffer col, y, dw, db;  // col also holds dcol once dW is done; y holds Y or dY
  bool used = false;      // holds a partial dW of the current backward
};
}  // namespace eigen_backend

template <>
inline constexpr const char* backend_name_v<eigen> = "Eigen";

template <>
struct Context<eigen> {
  using Act = EigenTensor;
  explicit Context(Precision p = Precision::f32) : precision(p == Precision::automatic ? Precision::f32 : p) {
    if (precision != Precision::f32) throw Error("Eigen backend: only float32 is implemented (use --precision f32)");
  }
  bool training = true;
  Precision precision;
  std::uint64_t seed = 0, step = 0;
  float dropout_override = -1.f;
  std::vector<eigen_backend::Scratch> scratch;  ///< per thread, shared by the layers (see Scratch)

  void upload_shape(int n, int c, int h, int w, Act& a) const { a.resize(n, c, h, w); }
  void upload(std::span<const float> x, int n, int c, int h, int w, Act& a) const {
    if (a.size() != x.size()) a.resize(n, c, h, w);
    std::copy(x.begin(), x.end(), a.data.begin());
  }
  void download(const Act& a, std::span<float> out) const { std::copy(a.data.begin(), a.data.end(), out.begin()); }
};

}  // namespace ctnn
