#pragma once
// dist::DataParallel: the train::fit callback that makes several processes train one model, each
// on its slice of every batch (dist::Shard), as PyTorch's DistributedDataParallel does, with
// these semantics:
//   * at the start (after a resume) rank 0's parameters, buffers, optimizer state and step
//     counters are broadcast, so ranks seeded differently (or only rank 0 resumed) agree;
//   * the schedule's batch size is the GLOBAL batch. Model's loss is the mean over a rank's n_r
//     samples, so each rank's gradient is multiplied by n_r, the products are summed over the ranks
//     and divided by the global n: the mean over the global batch, whatever the split (a short
//     last batch stays exact, a rank with no sample contributes zeros);
//   * the gradient arena is summed in buckets of `bucket_elements` floats (one collective per
//     bucket, not per tensor; the last layers' bucket first, as DDP);
//   * every rank then runs the same optimizer step on the same values: weights stay identical;
//     with `check_every` > 0 a hash of the parameters is compared every that many steps and a
//     difference throws;
//   * BatchNorm computes its statistics on each rank's slice (DDP's default); the running
//     statistics are averaged over the ranks at each epoch's end, before evaluation and checkpoint;
//   * the epoch's training loss, accuracy and sample count are summed over the ranks;
//   * dropout masks are drawn per rank (rank r > 0 gets seed mix64(seed + r)).
// Every decision before a collective comes from step and epoch counters, never from wall time.
// List it FIRST among the callbacks (its on_fit_begin and on_epoch_end must run before the others'),
// wrap the loaders in dist::Shard, evaluate with dist::Evaluate, and give callbacks that write
// files to dist::on_root (only rank 0 runs them). With one rank every hook returns at once.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "ctnn/backend.hpp"
#include "ctnn/dist/communicator.hpp"
#include "ctnn/error.hpp"
#include "ctnn/optim/adam.hpp"
#include "ctnn/optim/sgd.hpp"
#include "ctnn/train/optimizer.hpp"

namespace ctnn::dist {

struct DataParallelOptions {
  std::size_t bucket_elements = std::size_t(1) << 20;  ///< floats per gradient all-reduce (4 MiB)
  long check_every = 0;                                ///< steps between weight-hash checks; 0: never
  bool average_buffers = true;                         ///< average BN running statistics at epoch end
};

/// FNV-1a over the bytes of x: equal on every rank exactly when the values are bit-identical.
inline std::uint64_t hash_of(std::span<const float> x) {
  std::uint64_t h = 1469598103934665603ull;
  const auto* p = reinterpret_cast<const unsigned char*>(x.data());
  for (std::size_t i = 0; i < x.size_bytes(); ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

namespace detail {
template <class M>
void pull(M& model) {
  if constexpr (HasArenas<std::remove_cvref_t<decltype(model.context())>>) model.context().pull();
}
template <class M>
void push(M& model) {
  if constexpr (HasArenas<std::remove_cvref_t<decltype(model.context())>>) model.context().push();
}
/// Broadcasts a vector whose size may differ between ranks (root's size wins).
template <class H>
void broadcast_vector(H& host, std::vector<float>& v, int root) {
  std::uint64_t n = v.size();
  host.broadcast(std::span<std::uint64_t>(&n, 1), root);
  v.resize(n);
  host.broadcast(std::span<float>(v), root);
}
template <class H>
void broadcast_optimizer(H& host, SGD& o) {
  broadcast_vector(host, o.momentum_buffer, 0);
}
template <class H>
void broadcast_optimizer(H& host, Adam& o) {
  broadcast_vector(host, o.exp_avg, 0), broadcast_vector(host, o.exp_avg_sq, 0);
  host.broadcast(std::span<long long>(&o.t, 1), 0);
}
template <class H>
void broadcast_optimizer(H& host, train::Optimizer& o) {
  std::visit([&](auto& x) { broadcast_optimizer(host, x); }, o);
}
}  // namespace detail

template <Communicator C>
struct DataParallel {
  C& comm;
  DataParallelOptions options{};
  double reduce_seconds = 0;  ///< wall time spent in the gradient all-reduce, all steps
  long reduce_steps = 0;      ///< steps that all-reduced

  template <class S>
  void on_fit_begin(S& s) {
    if (comm.size() == 1) return;
    if constexpr (!C::device_memory && HasDeviceOptimizer<std::remove_cvref_t<decltype(s.model.context())>, SGD> &&
                  !requires { s.model.context().push_gradients(); })
      (void)gradients(s.model);  // throws: say so before any step
    auto& host = host_of(comm);
    auto& ctx = s.model.context();
    detail::pull(s.model);
    train::pull_optimizer(s.model, s.optimizer);
    host.broadcast(s.model.parameters(), 0);
    host.broadcast(s.model.buffers(), 0);
    detail::broadcast_optimizer(host, s.optimizer);
    std::int64_t st[3] = {s.first_epoch, s.state.epochs_done, std::int64_t(s.state.step)};
    host.broadcast(std::span<std::int64_t>(st), 0);
    s.first_epoch = int(st[0]), s.state.epochs_done = int(st[1]), s.state.step = std::uint64_t(st[2]);
    ctx.step = s.state.step;
    if (comm.rank() > 0) ctx.seed = mix64(ctx.seed + std::uint64_t(comm.rank()));
    train::push_optimizer(s.model, s.optimizer);  // also pushes parameters and buffers to a device
    detail::push(s.model);
  }

  template <class S>
  void on_gradients(S& s) {
    if (comm.size() == 1) return;
    const auto t0 = std::chrono::steady_clock::now();
    const int local = s.data->size;
    double global = local;
    if constexpr (requires { s.loader.global_batch(); })
      global = s.loader.global_batch();
    else
      host_of(comm).allreduce_sum(std::span<double>(&global, 1));
    if (local == 0) ++s.model.context().step;  // keep the dropout step counter in line with the others
    // A device backend with a host communicator (dist::Mpi): the gradients cross to the host and back.
    constexpr bool host_copies = !C::device_memory && requires { s.model.context().push_gradients(); };
    if constexpr (host_copies) s.model.context().pull_gradients();
    std::span<float> g = gradients(s.model);
    if constexpr (!C::device_memory)
      if (local == 0) std::fill(g.begin(), g.end(), 0.f);  // no backward ran: the arena holds the last step's
    const std::size_t bucket = options.bucket_elements > 0 ? options.bucket_elements : g.size();
    for (std::size_t end = g.size(); end > 0;) {  // last layers first
      const std::size_t begin = end > bucket ? end - bucket : 0;
      const std::span<float> x = g.subspan(begin, end - begin);
      if constexpr (requires { comm.allreduce_premul_sum(x, 1.f); }) {
        comm.allreduce_premul_sum(x, float(local / global));  // device memory: NCCL scales as it sums
      } else {
        for (float& v : x) v *= float(local);
        comm.allreduce_sum(x);
        const float inv = float(1.0 / global);
        for (float& v : x) v *= inv;
      }
      end = begin;
    }
    if constexpr (host_copies) s.model.context().push_gradients();
    reduce_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ++reduce_steps;
  }

  template <class S>
  void on_batch_end(S& s) {
    if (comm.size() > 1 && options.check_every > 0 && s.state.step % std::uint64_t(options.check_every) == 0)
      check_identical(s.model, "after step " + std::to_string(s.state.step));
  }

  template <class S>
  void on_batches_end(S& s) {
    if (comm.size() == 1) return;
    double v[3] = {s.loss_sum, double(s.correct), double(s.seen)};
    host_of(comm).allreduce_sum(std::span<double>(v));
    s.loss_sum = v[0], s.correct = long(v[1]), s.seen = long(v[2]);
  }

  template <class S>
  void on_epoch_end(S& s) {
    if (comm.size() == 1 || !options.average_buffers) return;
    average_buffers(s.model);
  }

  /// Running statistics ← their mean over the ranks.
  template <class M>
  void average_buffers(M& model) {
    if (comm.size() == 1) return;
    detail::pull(model);
    auto b = model.buffers();
    host_of(comm).allreduce_sum(b);
    const float inv = float(1.0 / comm.size());
    for (float& x : b) x *= inv;
    detail::push(model);
  }

  /// Throws ctnn::Error on every rank whose parameters differ from rank 0's (bit for bit).
  template <class M>
  void check_identical(M& model, const std::string& when) {
    detail::pull(model);
    std::uint64_t h[2] = {hash_of(model.parameters()), 0};
    h[1] = h[0];
    host_of(comm).broadcast(std::span<std::uint64_t>(h, 1), 0);
    double differ = h[0] != h[1];
    host_of(comm).allreduce_sum(std::span<double>(&differ, 1));
    if (differ > 0)
      throw Error("dist::DataParallel: the weights of " + std::to_string(int(differ)) +
                  " rank(s) differ from rank 0's " + when);
  }

 private:
  /// The gradient arena where the communicator reads it: host memory (on a device backend after
  /// pull_gradients), or the device mirror for a device communicator (Nccl).
  template <class M>
  std::span<float> gradients(M& model) {
    auto g = model.gradients();
    if constexpr (C::device_memory) {
      static_assert(
          requires { model.context().device(g.data()); },
          "dist::DataParallel: a device communicator (Nccl) needs a device backend (ctnn::cuda)");
      return {model.context().device(g.data()), g.size()};
    } else if constexpr (HasDeviceOptimizer<std::remove_cvref_t<decltype(model.context())>, SGD> &&
                         !requires { model.context().push_gradients(); }) {
      throw Error(
          "dist::DataParallel: this device backend cannot hand its gradients to a host communicator "
          "(no pull_gradients/push_gradients): use a device communicator such as dist::Nccl");
    } else {
      return g;
    }
  }
};

}  // namespace ctnn::dist
