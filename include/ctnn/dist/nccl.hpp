#pragma once
// dist::Nccl: a Communicator on NCCL for data in GPU memory, one rank per GPU, its collectives
// enqueued on the backend's stream (Context<cuda>::stream()). Processes are launched and found by
// MPI: rank 0 creates NCCL's unique id and dist::Mpi broadcasts it (ncclCommInitRank). Host-side
// values (metrics, counters, optimizer state at the start) go through host(), the Mpi group.
// Link ctnn::nccl (CMake: NCCL found in the CUDA toolkit; include/ctnn/dist/dist.cmake).
//
//   dist::Mpi mpi(&argc, &argv);
//   cudaSetDevice(mpi.rank() % gpus_per_host);
//   Model<Net, In, cuda> model(seed);
//   dist::Nccl nccl(mpi, model.context().stream());
//
// Every call returns once the work is enqueued, except barrier(), which also waits for the stream.
#include <cuda_runtime_api.h>
#include <nccl.h>

#include <span>
#include <string>
#include <type_traits>

#include "ctnn/dist/communicator.hpp"
#include "ctnn/dist/mpi.hpp"
#include "ctnn/error.hpp"

namespace ctnn::dist {

namespace detail {
inline void nccl_check(ncclResult_t r, const char* what) {
  if (r != ncclSuccess) throw Error(std::string("dist::Nccl: ") + what + ": " + ncclGetErrorString(r));
}
template <class T>
ncclDataType_t nccl_type() {
  if constexpr (std::is_same_v<T, float>)
    return ncclFloat32;
  else if constexpr (std::is_same_v<T, double>)
    return ncclFloat64;
  else if constexpr (std::is_same_v<T, std::int64_t>)
    return ncclInt64;
  else if constexpr (std::is_same_v<T, std::uint64_t>)
    return ncclUint64;
  else if constexpr (std::is_same_v<T, int>)
    return ncclInt32;
  else
    static_assert(always_false_v<T>, "dist::Nccl: unsupported element type");
}
}  // namespace detail

class Nccl {
 public:
  static constexpr bool device_memory = true;

  /// Joins the NCCL group of `host`'s ranks on the current CUDA device (cudaSetDevice first).
  Nccl(Mpi& host, cudaStream_t stream) : host_(host), stream_(stream) {
    ncclUniqueId id{};
    if (host.rank() == 0) detail::nccl_check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    host.broadcast(std::span<ncclUniqueId>(&id, 1), 0);
    detail::nccl_check(ncclCommInitRank(&comm_, host.size(), id, host.rank()), "ncclCommInitRank");
  }
  Nccl(const Nccl&) = delete;
  Nccl& operator=(const Nccl&) = delete;
  ~Nccl() {
    if (comm_) ncclCommDestroy(comm_);
  }

  int rank() const { return host_.rank(); }
  int size() const { return host_.size(); }
  Mpi& host() { return host_; }
  cudaStream_t stream() const { return stream_; }

  /// x: device memory.
  template <class T>
  void allreduce_sum(std::span<T> x) {
    detail::nccl_check(ncclAllReduce(x.data(), x.data(), x.size(), detail::nccl_type<T>(), ncclSum, comm_, stream_),
                       "ncclAllReduce");
  }
  /// x ← Σ over ranks of (this rank's factor × x): NCCL's PreMulSum, one pass (data parallelism's
  /// n_rank / n_global weighting of the gradients).
  void allreduce_premul_sum(std::span<float> x, float factor) {
    ncclRedOp_t op;
    detail::nccl_check(ncclRedOpCreatePreMulSum(&op, &factor, ncclFloat32, ncclScalarHostImmediate, comm_),
                       "ncclRedOpCreatePreMulSum");
    detail::nccl_check(ncclAllReduce(x.data(), x.data(), x.size(), ncclFloat32, op, comm_, stream_), "ncclAllReduce");
    detail::nccl_check(ncclRedOpDestroy(op, comm_), "ncclRedOpDestroy");
  }
  /// x: device memory.
  template <class T>
  void broadcast(std::span<T> x, int root) {
    detail::nccl_check(ncclBroadcast(x.data(), x.data(), x.size(), detail::nccl_type<T>(), root, comm_, stream_),
                       "ncclBroadcast");
  }
  /// Waits for this rank's enqueued collectives, then for every rank.
  void barrier() {
    if (cudaStreamSynchronize(stream_) != cudaSuccess) throw Error("dist::Nccl: cudaStreamSynchronize failed");
    host_.barrier();
  }
  /// Ends every rank (NCCL's communicator is aborted first, so no kernel waits for a dead peer).
  [[noreturn]] void abort(const std::string& why) {
    if (comm_) ncclCommAbort(comm_), comm_ = nullptr;
    host_.abort(why);
  }

 private:
  Mpi& host_;
  cudaStream_t stream_;
  ncclComm_t comm_ = nullptr;
};

static_assert(Communicator<Nccl>);

}  // namespace ctnn::dist
