// Data-parallel training on Open MPI (label mpi; run under `mpirun -np N`, N = 1, 2, 3: see
// tests/mpi/CMakeLists.txt). Every rank runs every check in the same order; the oracle of the
// training checks is the ordinary one-process loop (train::fit / Trainer with dist::Local), run
// inside each rank on the same data: N ranks × B/N must give the weights of 1 × B.
//
//   test_mpi_dist                       collectives, shards, broadcast, equivalence, Trainer
//   test_mpi_dist --resume-part first DIR    Trainer, 1 epoch of 2, checkpoint in DIR
//   test_mpi_dist --resume-part second DIR   resume from DIR, compare with an uninterrupted run
//   test_mpi_dist --throw-on-rank R     rank R throws in step 3: every rank must end (MPI_Abort)
// Exit code 0 when every check passed on every rank.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/data/cifar10.hpp"
#include "ctnn/data/in_memory.hpp"
#include "ctnn/dist/data_parallel.hpp"
#include "ctnn/dist/evaluate.hpp"
#include "ctnn/dist/mpi.hpp"
#include "ctnn/dist/shard.hpp"
#include "ctnn/train/fit.hpp"
#include "ctnn/train/trainer.hpp"

namespace fs = std::filesystem;
using namespace ctnn;

namespace {

int failures = 0;
int my_rank = 0;
#define EXPECT(cond, ...)                                                                       \
  do {                                                                                          \
    if (!(cond)) {                                                                              \
      ++failures;                                                                               \
      std::fprintf(stderr, "FAILED (rank %d) %s:%d: %s: ", my_rank, __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                                        \
      std::fprintf(stderr, "\n");                                                               \
    }                                                                                           \
  } while (0)

// A small net without BatchNorm (equivalence is exact up to rounding only without it) and one with.
using In = Shape<1, 8, 8>;
using Net = Sequential<Conv2d<1, 4, 3, 1, 1>, ReLU, MaxPool2d<2, 2>, Flatten, Linear<64, 16>, Tanh, Linear<16, 10>>;
using CifarNet = Sequential<Conv2d<3, 4, 3, 2, 1>, ReLU, MaxPool2d<4, 4>, Flatten, Linear<64, 10>>;
using CifarBNNet = Sequential<Conv2d<3, 4, 3, 2, 1>, BatchNorm2d, ReLU, MaxPool2d<4, 4>, Flatten, Linear<64, 10>>;
using Backend = ctnn::reference;

data::InMemory<In> synthetic(std::size_t n, std::uint64_t seed, bool shuffle) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g;
  std::vector<float> x(n * In::size);
  std::vector<std::int32_t> y(n);
  for (auto& v : x) v = g(rng);
  for (std::size_t i = 0; i < n; ++i) y[i] = std::int32_t(rng() % 10);
  return data::InMemory<In>(std::move(x), std::move(y), shuffle, seed);
}

// max |a - b| / max |b|: the difference relative to the size of the weights (element-wise
// relative differences of values near 0 measure rounding noise, not disagreement).
double rel_diff(std::span<const float> a, std::span<const float> b) {
  if (a.size() != b.size()) return INFINITY;
  double worst = 0, scale = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(double(a[i]) - double(b[i]));
    if (!(d <= worst)) worst = std::isnan(d) ? INFINITY : d;
    scale = std::max(scale, std::fabs(double(b[i])));
  }
  return worst / scale;
}

void collectives(dist::Mpi& comm) {
  const int r = comm.rank(), p = comm.size();
  std::vector<float> f(1000);
  for (std::size_t i = 0; i < f.size(); ++i) f[i] = float(r + 1) * float(i % 7);
  comm.allreduce_sum(std::span<float>(f));
  const float ranks_sum = float(p * (p + 1) / 2);
  bool ok = true;
  for (std::size_t i = 0; i < f.size(); ++i) ok &= f[i] == ranks_sum * float(i % 7);
  EXPECT(ok, "allreduce_sum<float>");
  std::vector<double> d{double(r), 1.0};
  comm.allreduce_sum(std::span<double>(d));
  EXPECT(d[0] == p * (p - 1) / 2.0 && d[1] == p, "allreduce_sum<double>: %g %g", d[0], d[1]);
  const int root = p - 1;
  std::vector<float> b(37, float(r));
  comm.broadcast(std::span<float>(b), root);
  EXPECT(b.front() == float(root) && b.back() == float(root), "broadcast<float> from %d", root);
  std::int64_t big[2] = {r == root ? (std::int64_t(1) << 40) + 3 : 0, r};
  comm.broadcast(std::span<std::int64_t>(big), root);
  EXPECT(big[0] == (std::int64_t(1) << 40) + 3 && big[1] == root, "broadcast<int64>");
  struct Pod {
    char text[5];
    short s;
  } pod{};
  if (r == 0) std::memcpy(pod.text, "ctnn", 5), pod.s = 77;
  comm.broadcast(std::span<Pod>(&pod, 1), 0);
  EXPECT(std::strcmp(pod.text, "ctnn") == 0 && pod.s == 77, "broadcast of bytes");
  comm.barrier();
}

void shards(dist::Mpi& comm) {
  // The slices of a batch: disjoint, covering, in order, sizes differing by at most one, rank 0 never empty.
  for (std::size_t n = 0; n <= 20; ++n)
    for (int p = 1; p <= 4; ++p) {
      std::size_t next = 0;
      for (int r = 0; r < p; ++r) {
        const auto s = dist::slice_of(n, r, p);
        EXPECT(s.begin == next && s.end >= s.begin && s.size() + 1 >= (n + p - 1) / p && s.size() <= (n + p - 1) / p,
               "slice_of(%zu, %d, %d)", n, r, p);
        next = s.end;
      }
      EXPECT(next == n && (n == 0 || dist::slice_of(n, 0, p).size() > 0), "slices of %zu over %d", n, p);
    }
  // The shards of a shuffled loader, over the real ranks: each sample of an epoch seen exactly once.
  for (std::size_t n : {25u, 23u, 2u}) {
    const std::size_t batch = 6;
    auto data = synthetic(n, 5, true);
    dist::Shard shard(data, comm.rank(), comm.size());
    for (int epoch = 0; epoch < 2; ++epoch) {
      // Identify samples by their first value (distinct: normal draws).
      const data::Batch* all = nullptr;
      std::vector<float> firsts;
      std::vector<float> seen(n, 0.f);
      // The full epoch in this rank's own copy, to map first values to indices.
      auto copy = synthetic(n, 5, true);
      copy.start_epoch(0, int(n));
      copy.next(all);
      for (int i = 0; i < all->size; ++i) firsts.push_back(all->images[std::size_t(i) * In::size]);
      shard.start_epoch(epoch, int(batch));
      const data::Batch* b = nullptr;
      std::size_t local = 0;
      while (shard.next(b)) {
        for (int i = 0; i < b->size; ++i) {
          const float v = b->images[std::size_t(i) * In::size];
          for (std::size_t k = 0; k < n; ++k)
            if (firsts[k] == v) seen[k] += 1;
        }
        local += std::size_t(b->size);
      }
      EXPECT(local == shard.size(), "shard.size() %zu, yielded %zu", shard.size(), local);
      comm.allreduce_sum(std::span<float>(seen));
      bool once = true;
      for (float s : seen) once &= s == 1.f;
      EXPECT(once, "n=%zu epoch %d: every sample exactly once over the ranks", n, epoch);
    }
  }
}

// K steps of SGD (momentum, weight decay) or Adam on N ranks with the global batch B, against
// the one-process loop. Rank r's model is seeded 100 + r: only the broadcast makes them agree.
template <class Opt>
void equivalence(dist::Mpi& comm, std::size_t n, int batch, int epochs, Opt opt, const char* what) {
  Model<Net, In, Backend> one(100);
  auto data_one = synthetic(n, 9, true);
  train::fit(one, data_one, CrossEntropyLoss{}, Opt(opt), {epochs, batch});

  Model<Net, In, Backend> many(100 + std::uint64_t(comm.rank()));
  auto data_many = synthetic(n, 9, true);
  dist::Shard shard(data_many, comm.rank(), comm.size());
  dist::DataParallel<dist::Mpi> parallel{comm, {.bucket_elements = 300, .check_every = 1}};  // several buckets
  const auto row = train::fit(many, shard, CrossEntropyLoss{}, Opt(opt), {epochs, batch}, parallel);

  const double d = rel_diff(many.parameters(), one.parameters());
  EXPECT(d <= 1e-5, "%s: n=%zu batch %d on %d ranks: weights differ from one process by %.3g (relative)", what, n,
         batch, comm.size(), d);
  // The epoch's figures are the global ones.
  data_one.start_epoch(0, batch);
  EXPECT(row.epoch == epochs && std::isfinite(row.train_loss), "%s: row", what);
  std::uint64_t h[2] = {dist::hash_of(many.parameters()), 0};
  h[1] = h[0];
  comm.broadcast(std::span<std::uint64_t>(h, 1), 0);
  EXPECT(h[0] == h[1], "%s: weights bit-identical to rank 0's", what);
  if (comm.rank() == 0)
    std::printf("equivalence %-10s n=%zu batch %d, %d ranks: max relative difference %.3g\n", what, n, batch,
                comm.size(), d);
}

void broadcast_at_start(dist::Mpi& comm) {
  Model<Net, In, Backend> m(7 + std::uint64_t(comm.rank()) * 1000);
  Model<Net, In, Backend> rank0(7);
  auto data = synthetic(4, 1, false);
  dist::Shard shard(data, comm.rank(), comm.size());
  dist::DataParallel<dist::Mpi> parallel{comm};
  // 0 epochs: only the start (broadcast) happens.
  train::fit(m, shard, CrossEntropyLoss{}, SGD(0.1f), {0, 4}, parallel);
  EXPECT(rel_diff(m.parameters(), rank0.parameters()) == 0, "after the broadcast every rank holds rank 0's weights");
}

// The weight-hash check notices one changed bit on one rank, and says so on every rank.
void hash_check(dist::Mpi& comm) {
  Model<Net, In, Backend> m(7);
  dist::DataParallel<dist::Mpi> parallel{comm};
  bool threw = false;
  parallel.check_identical(m, "at the start");
  if (comm.size() > 1 && comm.rank() == comm.size() - 1) {
    auto p = m.parameters();
    std::uint32_t bits;
    std::memcpy(&bits, &p[3], 4), bits ^= 1u, std::memcpy(&p[3], &bits, 4);
  }
  try {
    parallel.check_identical(m, "after a flipped bit");
  } catch (const Error& e) {
    threw = std::string(e.what()).find("differ from rank 0") != std::string::npos;
  }
  EXPECT(threw == (comm.size() > 1), "hash check: threw %d", int(threw));
}

data::Cifar10Split random_split(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  data::Cifar10Split s;
  s.images.resize(n * data::kCifarPixels);
  for (auto& p : s.images) p = std::uint8_t(rng() & 0xff);
  for (std::size_t i = 0; i < n; ++i) s.labels.push_back(std::uint8_t(rng() % 10));
  return s;
}
const data::Cifar10& tiny_cifar() {
  static const data::Cifar10 d{random_split(45, 1), random_split(31, 2)};
  return d;
}
train::TrainerOptions trainer_options(const fs::path& out, int epochs) {
  train::TrainerOptions o;
  o.stages = {{epochs, 8, 0.05f}};
  o.weight_decay = 5e-4f;
  o.seed = 3;
  o.augment.hflip = true;
  o.augment.crop_padding = 2;
  o.eval_batch_size = 7;
  o.out = out;
  o.quiet = true;
  o.metadata = {{"preset", "mpi-test"}};
  return o;
}

// The Trainer on N ranks, each with its own output folder (as on hosts without a shared file
// system): only rank 0's gets files; the weights and the test figures are those of one process.
void trainer(dist::Mpi& comm, const fs::path& base) {
  const fs::path mine = base / ("rank" + std::to_string(comm.rank()));
  const fs::path solo = base / ("solo" + std::to_string(comm.rank()));
  Model<CifarNet, models::CifarImage, Backend> one(11);
  train::Trainer t1(one, tiny_cifar(), trainer_options(solo, 2));
  const auto r1 = t1.run();

  Model<CifarNet, models::CifarImage, Backend> many(11 + std::uint64_t(comm.rank()));
  train::Trainer tn(many, tiny_cifar(), trainer_options(mine, 2), comm);
  const auto rn = tn.run();
  const double d = rel_diff(many.parameters(), one.parameters());
  EXPECT(d <= 1e-5, "Trainer on %d ranks: weights differ from one process by %.3g", comm.size(), d);
  EXPECT(std::fabs(rn.test_loss - r1.test_loss) <= 1e-5 * std::fabs(r1.test_loss) && rn.test_acc == r1.test_acc &&
             rn.train_acc == r1.train_acc && std::fabs(rn.train_loss - r1.train_loss) <= 1e-5 * r1.train_loss,
         "Trainer on %d ranks: figures (train %g %g, test %g %g) vs one process (%g %g, %g %g)", comm.size(),
         rn.train_loss, rn.train_acc, rn.test_loss, rn.test_acc, r1.train_loss, r1.train_acc, r1.test_loss,
         r1.test_acc);
  if (comm.rank() == 0)
    EXPECT(fs::exists(mine / "metrics.csv") && fs::exists(mine / "checkpoint.safetensors"), "rank 0 writes its files");
  else
    EXPECT(!fs::exists(mine), "rank %d wrote %s", comm.rank(), mine.c_str());
  if (comm.rank() == 0)
    std::printf("trainer on %d ranks: weights within %.3g of one process; test_acc %.2f (one process %.2f)\n",
                comm.size(), d, rn.test_acc, r1.test_acc);
}

// With BatchNorm (statistics per rank) and an EMA of weights and buffers: every rank ends with
// the same weights and the same running statistics, the mean of the ranks' own (DataParallel
// averages them at each epoch's end; the EMA's too).
void batchnorm_buffers(dist::Mpi& comm, const fs::path& base) {
  Model<CifarBNNet, models::CifarImage, Backend> m(5 + std::uint64_t(comm.rank()));
  auto o = trainer_options(base / ("bn" + std::to_string(comm.rank())), 2);
  o.ema_decay = 0.9f;
  const auto r = train::Trainer(m, tiny_cifar(), o, comm).run();
  std::uint64_t h[4] = {dist::hash_of(m.parameters()), dist::hash_of(m.buffers()), 0, 0};
  h[2] = h[0], h[3] = h[1];
  comm.broadcast(std::span<std::uint64_t>(h, 2), 0);
  EXPECT(h[0] == h[2] && h[1] == h[3], "BatchNorm net: weights and running statistics identical on every rank");
  EXPECT(std::isfinite(r.test_loss) && r.test_acc >= 0, "BatchNorm net: evaluated");
}

// Part one: 1 epoch of 2 on this many ranks, checkpoint in dir (rank 0). Part two (any number of
// ranks): resume to 2 epochs and compare with an uninterrupted one-process run.
void resume_part(dist::Mpi& comm, const std::string& part, const fs::path& dir) {
  Model<CifarNet, models::CifarImage, Backend> m(21 + std::uint64_t(comm.rank()));
  auto o = trainer_options(comm.rank() == 0 ? dir : dir / ("other" + std::to_string(comm.rank())), 2);
  if (part == "first") {
    o.stages = {{1, 8, 0.05f}};
    train::Trainer(m, tiny_cifar(), o, comm).run();
    return;
  }
  o.resume = true;
  train::Trainer(m, tiny_cifar(), o, comm).run();
  Model<CifarNet, models::CifarImage, Backend> one(21);
  const fs::path solo = dir.string() + "-solo" + std::to_string(comm.rank());
  train::Trainer(one, tiny_cifar(), trainer_options(solo, 2)).run();
  fs::remove_all(solo);
  const double d = rel_diff(m.parameters(), one.parameters());
  EXPECT(d <= 1e-5, "resumed on %d ranks: weights differ from an uninterrupted run by %.3g", comm.size(), d);
  if (comm.rank() == 0)
    std::printf("resume on %d ranks: weights within %.3g of an uninterrupted run\n", comm.size(), d);
}

// Rank `bad` throws in its third step; the others are then inside an all-reduce.
struct ThrowAt {
  int rank, bad;
  template <class S>
  void on_batch_begin(S& s) {
    if (rank == bad && s.state.step == 2) throw Error("deliberate failure on rank " + std::to_string(bad));
  }
};
void throw_on(dist::Mpi& comm, int bad) {
  Model<Net, In, Backend> m(1);
  auto data = synthetic(40, 3, true);
  dist::Shard shard(data, comm.rank(), comm.size());
  dist::DataParallel<dist::Mpi> parallel{comm};
  dist::abort_on_exception(comm, [&] {
    train::fit(m, shard, CrossEntropyLoss{}, SGD(0.1f), {3, 8}, parallel, ThrowAt{comm.rank(), bad});
  });
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // lines reach the log even if the job is killed
  dist::Mpi comm(&argc, &argv);
  my_rank = comm.rank();
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 2 && args[0] == "--throw-on-rank") {
    throw_on(comm, std::stoi(args[1]));
    return 0;
  }
  if (args.size() == 3 && args[0] == "--resume-part") {
    resume_part(comm, args[1], args[2]);
  } else {
    collectives(comm);
    shards(comm);
    broadcast_at_start(comm);
    hash_check(comm);
    equivalence(comm, 23, 6, 2, SGD(0.05f, 0.9f, 0.f, 1e-3f), "sgd");
    equivalence(comm, 25, 6, 2, SGD(0.05f, 0.9f, 0.f, 0.f, true), "nesterov");  // last batch of 1
    equivalence(comm, 24, 12, 3, Adam(0.01f), "adam");
    fs::path base = fs::temp_directory_path() / "ctnn_mpi_trainer";
    if (comm.rank() == 0) fs::remove_all(base), fs::create_directories(base);
    comm.barrier();
    trainer(comm, base);
    batchnorm_buffers(comm, base);
    comm.barrier();
    if (comm.rank() == 0) fs::remove_all(base);
  }
  double f = failures;
  comm.allreduce_sum(std::span<double>(&f, 1));
  if (comm.rank() == 0)
    std::printf("%s: %g failure(s) over %d rank(s)\n", f == 0 ? "PASSED" : "FAILED", f, comm.size());
  return f == 0 ? 0 : 1;
}
