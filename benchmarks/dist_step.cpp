// ctnn_dist_step: data-parallel training speed of the seed AlexNet (2,091,274 parameters, oneDNN
// backend) on Open MPI, for predicting scaling: run it under `mpirun -np N`.
//
//   mpirun -np 2 ctnn_dist_step [--batch 128] [--iters 10] [--warmup 2] [--threads 1] [--reps 20]
//
// Trains --warmup + --iters steps of SGD (momentum 0.9) on random images with the GLOBAL batch
// --batch (each rank gets batch/N), through train::fit and dist::DataParallel (the gradients
// all-reduced in 4 MiB buckets), and prints from rank 0 one line of key=value pairs:
//   ranks threads batch images_per_s (global, timed steps) ms_per_step allreduce_ms_per_step (the
//   gradient all-reduce inside those steps, bucketing and scaling included) allreduce_ms_bare
//   (MPI_Allreduce of 2,091,274 floats alone, median of --reps) params
// With one rank there is no all-reduce (both figures 0).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "benchmarks/common.hpp"
#include "ctnn/data/in_memory.hpp"
#include "ctnn/dist/data_parallel.hpp"
#include "ctnn/dist/mpi.hpp"
#include "ctnn/dist/shard.hpp"
#include "ctnn/train/fit.hpp"

using namespace ctnn;
using namespace ctnn_bench;
using Clock = std::chrono::steady_clock;

namespace {
struct StepClock {  // the time of each step's end
  std::vector<Clock::time_point> ends;
  std::vector<double> reduce;
  dist::DataParallel<dist::Mpi>* parallel;
  template <class S>
  void on_batch_end(S&) {
    ends.push_back(Clock::now());
    reduce.push_back(parallel->reduce_seconds);
  }
};
}  // namespace

int main(int argc, char** argv) {
  dist::Mpi comm(&argc, &argv);
  int batch = 128, iters = 10, warmup = 2, threads = 1, reps = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const int v = std::stoi(argv[i + 1]);
    if (k == "--batch")
      batch = v;
    else if (k == "--iters")
      iters = v;
    else if (k == "--warmup")
      warmup = v;
    else if (k == "--threads")
      threads = v;
    else if (k == "--reps")
      reps = v;
    else
      return std::fprintf(stderr, "unknown option %s\n", k.c_str()), 2;
  }
  set_num_threads(threads);
  const int steps = warmup + iters;
  data::InMemory<Input> data(random_floats(std::size_t(batch) * steps * Input::size, 1),
                             random_targets(std::size_t(batch) * steps, 2), false, 0);
  dist::Shard shard(data, comm.rank(), comm.size());
  Model<Net, Input, ctnn::cpu> model(1);
  dist::DataParallel<dist::Mpi> parallel{comm};
  StepClock clock{{}, {}, &parallel};
  comm.barrier();
  train::fit(model, shard, CrossEntropyLoss{}, SGD(0.01f, 0.9f), {1, batch}, parallel, clock);
  const double secs = std::chrono::duration<double>(clock.ends.back() - clock.ends[std::size_t(warmup) - 1]).count();
  const double reduce = clock.reduce.back() - clock.reduce[std::size_t(warmup) - 1];

  // The bare collective on a buffer of the net's size.
  std::vector<float> g(Model<Net, Input, ctnn::cpu>::num_parameters, 1.f);
  std::vector<double> times;
  for (int r = 0; r < reps + 2; ++r) {
    comm.barrier();
    const auto a = Clock::now();
    comm.allreduce_sum(std::span<float>(g));
    if (r >= 2) times.push_back(std::chrono::duration<double>(Clock::now() - a).count());
  }
  std::sort(times.begin(), times.end());
  double worst = secs;  // the slowest rank paces the job
  comm.allreduce_sum(std::span<double>(&worst, 1));
  if (comm.rank() == 0)
    std::printf(
        "ctnn_dist_step ranks=%d threads=%d batch=%d iters=%d images_per_s=%.1f ms_per_step=%.1f "
        "allreduce_ms_per_step=%.2f allreduce_ms_bare=%.2f params=%zu\n",
        comm.size(), threads, batch, iters, batch * iters / secs, 1e3 * secs / iters,
        comm.size() > 1 ? 1e3 * reduce / iters : 0.0, comm.size() > 1 ? 1e3 * times[times.size() / 2] : 0.0, g.size());
  return 0;
}
