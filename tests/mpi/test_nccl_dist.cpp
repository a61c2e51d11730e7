// Data parallelism on the CUDA backend, one rank per GPU (`mpirun -np N` on a host with N GPUs):
// N ranks × B/N give the weights of one process × B, with dist::Nccl (device gradients) and with
// dist::Mpi (gradients copied to the host and back). Built whenever ctnn::nccl exists
// (CI compiles it); exits 77 (skipped) where there are fewer GPUs than ranks.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/data/in_memory.hpp"
#include "ctnn/dist/data_parallel.hpp"
#include "ctnn/dist/mpi.hpp"
#include "ctnn/dist/nccl.hpp"
#include "ctnn/dist/shard.hpp"
#include "ctnn/train/fit.hpp"

using namespace ctnn;

namespace {
using In = Shape<1, 8, 8>;
using Net = Sequential<Conv2d<1, 4, 3, 1, 1>, ReLU, MaxPool2d<2, 2>, Flatten, Linear<64, 16>, Tanh, Linear<16, 10>>;

data::InMemory<In> synthetic(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g;
  std::vector<float> x(n * In::size);
  std::vector<std::int32_t> y(n);
  for (auto& v : x) v = g(rng);
  for (auto& v : y) v = std::int32_t(rng() % 10);
  return data::InMemory<In>(std::move(x), std::move(y), true, seed);
}

template <class M>
void exact_math(M& m) {  // no TF32, deterministic algorithms: rounding is the only difference left
  m.context().allow_tf32 = false;
  m.context().deterministic = true;
}
}  // namespace

int main(int argc, char** argv) {
  dist::Mpi mpi(&argc, &argv);
  int gpus = 0;
  if (cudaGetDeviceCount(&gpus) != cudaSuccess) gpus = 0;
  if (gpus < mpi.size()) {
    if (mpi.rank() == 0) std::printf("SKIPPED: %d GPU(s) for %d rank(s)\n", gpus, mpi.size());
    return 77;
  }
  cudaSetDevice(mpi.rank());
  const int batch = 6, epochs = 2;
  Model<Net, In, cuda> one(100);
  exact_math(one);
  auto data_one = synthetic(23, 9);
  train::fit(one, data_one, CrossEntropyLoss{}, SGD(0.05f, 0.9f), {epochs, batch});
  one.context().pull();

  double bad = 0;
  auto compare = [&](auto& many, const char* what) {
    many.context().pull();
    const auto a = many.parameters(), b = one.parameters();
    double worst = 0, scale = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
      worst = std::max(worst, std::fabs(double(a[i]) - double(b[i]))), scale = std::max(scale, std::fabs(double(b[i])));
    double here = !(worst <= 1e-5 * scale);
    mpi.allreduce_sum(std::span<double>(&here, 1));
    bad += here;
    if (mpi.rank() == 0)
      std::printf("%s: %s on %d ranks, weights within %.3g (relative) of one process\n", here ? "FAILED" : "PASSED",
                  what, mpi.size(), worst / scale);
  };
  {
    Model<Net, In, cuda> many(100 + std::uint64_t(mpi.rank()));
    exact_math(many);
    dist::Nccl nccl(mpi, many.context().stream());
    auto data_many = synthetic(23, 9);
    dist::Shard shard(data_many, mpi.rank(), mpi.size());
    dist::DataParallel<dist::Nccl> parallel{nccl, {.bucket_elements = 300}};
    train::fit(many, shard, CrossEntropyLoss{}, SGD(0.05f, 0.9f), {epochs, batch}, parallel);
    compare(many, "NCCL");
  }
  {
    Model<Net, In, cuda> many(100 + std::uint64_t(mpi.rank()));
    exact_math(many);
    auto data_many = synthetic(23, 9);
    dist::Shard shard(data_many, mpi.rank(), mpi.size());
    dist::DataParallel<dist::Mpi> parallel{mpi, {.bucket_elements = 300}};
    train::fit(many, shard, CrossEntropyLoss{}, SGD(0.05f, 0.9f), {epochs, batch}, parallel);
    compare(many, "MPI with host copies");
  }
  return bad ? 1 : 0;
}
