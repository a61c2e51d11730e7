#pragma once
// CPU threads of the oneDNN and Eigen backends.
//
// oneDNN (Debian's libdnnl 2.6) runs its primitives on OpenMP threads, and so do the Eigen
// backend's GEMMs and loops (when the build links OpenMP: backends/eigen/eigen.cmake): by default as many as the
// machine has cores, or OMP_NUM_THREADS when that is set in the environment. Nothing can know
// which cores another program keeps busy, so the default is all of them; on a shared machine set
// the count yourself:
//   ctnn::set_num_threads(1);            // from code: later steps called from this thread use 1
//   OMP_NUM_THREADS=1 ./my_program       // from the environment, before the program starts
//   alexnet_cifar10 --threads 1          // the example's option (it calls set_num_threads)
// With one of two cores busy, 1 thread beats 2: OpenMP's threads wait for each other at every
// barrier, so the slowest (shared) core paces the whole step (benchmarks/README.md, "threads").
// ThreadTuner (thread_tuner.hpp, train::AdaptiveThreads for fit) picks the count from measured
// step times instead: the example's --threads auto.
//
// Why dlsym and no OpenMP link: the setting must reach the OpenMP runtime that oneDNN itself
// calls (libgomp for Debian's build), whatever compiler builds the program; linking -fopenmp with
// Clang would bring a second runtime (libomp). The symbol is looked up in the process, where
// libdnnl has loaded its runtime; a build without an OpenMP runtime makes these calls no-ops.
#include <dlfcn.h>

#include <thread>

namespace ctnn {

namespace detail {
template <class F>
F* omp_function(const char* name) {
  return reinterpret_cast<F*>(dlsym(RTLD_DEFAULT, name));
}
}  // namespace detail

/// Sets the number of CPU threads used by the oneDNN and Eigen backends for calls made from the calling
/// thread (OpenMP's omp_set_num_threads). n must be > 0. Returns false when the process has no
/// OpenMP runtime: a program that does not use the oneDNN backend (libdnnl, and with it its
/// runtime, is loaded at start-up by any program that does), or a oneDNN built without OpenMP.
inline bool set_num_threads(int n) {
  if (n <= 0) return false;
  auto* f = detail::omp_function<void(int)>("omp_set_num_threads");
  if (f) f(n);
  return f != nullptr;
}

/// The number of CPU threads the oneDNN and Eigen backends will use for calls from this thread
/// (omp_get_max_threads), or the number of cores when there is no OpenMP runtime.
inline int num_threads() {
  if (auto* f = detail::omp_function<int()>("omp_get_max_threads")) return f();
  return int(std::thread::hardware_concurrency());
}

}  // namespace ctnn
