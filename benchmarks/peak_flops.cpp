// ctnn_peak_flops: this machine's fp32 FMA throughput. Every thread runs independent chains of
// AVX2 _mm256_fmadd_ps (8 floats × 2 FLOPs each) on registers only; 12 accumulators per thread
// cover the FMA latency × pipes of current x86 cores. Prints GFLOP/s per thread count, over
// wall time (what the machine delivered now, load included) and over the threads' own CPU time
// (CLOCK_THREAD_CPUTIME_ID: the throughput of a core while this program had it, i.e. the peak an
// unloaded machine gives per core; × cores = the machine's peak).
//
//   ctnn_peak_flops [threads (default: hardware_concurrency)] [seconds per measurement (default 1)]
#include <immintrin.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

constexpr int kAcc = 12;

__attribute__((target("avx2,fma"))) double run(long reps) {
  __m256 a[kAcc];
  for (int i = 0; i < kAcc; ++i) a[i] = _mm256_set1_ps(0.001f * float(i));
  const __m256 m = _mm256_set1_ps(0.9999999f), c = _mm256_set1_ps(1e-7f);
  for (long r = 0; r < reps; ++r) {
#pragma GCC unroll 12
    for (int i = 0; i < kAcc; ++i) a[i] = _mm256_fmadd_ps(a[i], m, c);
  }
  __m256 s = a[0];
  for (int i = 1; i < kAcc; ++i) s = _mm256_add_ps(s, a[i]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0];
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

struct Result {
  double wall_gflops, per_cpu_second_gflops;  // the latter summed over threads
};

Result measure(int threads, double seconds) {
  // Calibrate reps on one thread, then run all threads for about `seconds`.
  long reps = 1 << 20;
  for (;;) {
    const auto t0 = std::chrono::steady_clock::now();
    volatile double sink = run(reps);
    (void)sink;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s > 0.05) {
      reps = long(double(reps) * seconds / s);
      break;
    }
    reps *= 4;
  }
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> pool;
  std::vector<double> sinks(threads), cpu(threads);
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      ready.fetch_add(1);
      while (!go.load()) {}
      const double c0 = thread_cpu_seconds();
      sinks[t] = run(reps);
      cpu[t] = thread_cpu_seconds() - c0;
    });
  while (ready.load() < threads) {}
  const auto t0 = std::chrono::steady_clock::now();
  go.store(true);
  for (auto& th : pool) th.join();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double flops_per_thread = double(reps) * kAcc * 8 * 2;
  Result r{double(threads) * flops_per_thread / s * 1e-9, 0};
  for (double c : cpu) r.per_cpu_second_gflops += flops_per_thread / c * 1e-9;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    std::printf("peak_flops: this CPU has no AVX2+FMA\n");
    return 1;
  }
  const int hw = int(std::thread::hardware_concurrency());
  const int threads = argc > 1 ? std::atoi(argv[1]) : hw;
  const double seconds = argc > 2 ? std::atof(argv[2]) : 1.0;
  std::vector<int> counts{1};
  if (threads > 1) counts.push_back(threads);
  for (int t : counts) {
    const Result r = measure(t, seconds);
    std::printf(
        "fp32 AVX2 FMA: %d thread(s): %.1f GFLOP/s wall-clock, %.1f GFLOP/s per CPU-second of its threads "
        "(%.1f per core)\n",
        t, r.wall_gflops, r.per_cpu_second_gflops, r.per_cpu_second_gflops / t);
  }
  return 0;
}
