#pragma once
// dist::Communicator: what data-parallel training needs from a process group, whichever engine
// carries it (Open MPI across processes and hosts, NCCL across GPUs). Every member is a
// collective: all ranks call it, in the same order, with spans of the same size.
//
//   rank(), size()                   this process's index in [0, size) and the group's size
//   allreduce_sum(span<float>)       in place: every rank ends with the element-wise sum
//   broadcast(span<float>, root)     in place: every rank ends with root's values
//   barrier()                        returns when every rank has called it
//
// Local is the group of one (the default: no dependency, every call a no-op). Mpi
// (<ctnn/dist/mpi.hpp>) works on CPU memory; Nccl (<ctnn/dist/nccl.hpp>) on device memory, on the
// backend's stream. Communicators that work on host memory also take double, integer and byte
// spans (metrics, counters, optimizer step counts); a device communicator hands those to its
// host() communicator (dist::host_of below).
#include <concepts>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <span>
#include <string>

namespace ctnn::dist {

template <class C>
concept Communicator = requires(C& c, const C& cc, std::span<float> f, int root) {
  { cc.rank() } -> std::convertible_to<int>;
  { cc.size() } -> std::convertible_to<int>;
  c.allreduce_sum(f);
  c.broadcast(f, root);
  c.barrier();
};

/// The group of one process: rank 0 of 1. Collectives leave the data as it is.
struct Local {
  static constexpr bool device_memory = false;
  constexpr int rank() const { return 0; }
  constexpr int size() const { return 1; }
  template <class T>
  void allreduce_sum(std::span<T>) {}
  template <class T>
  void broadcast(std::span<T>, int) {}
  void barrier() {}
  /// Ends this process, the whole group (message on stderr).
  [[noreturn]] void abort(const std::string& why) {
    std::fprintf(stderr, "error: %s\n", why.c_str());
    std::exit(2);
  }
};

/// The communicator for host memory: c itself, or c.host() for a device communicator (Nccl).
template <class C>
auto& host_of(C& c) {
  if constexpr (requires { c.host(); })
    return c.host();
  else
    return c;
}

/// Runs f(); when it throws on a group of more than one rank, prints the message and ends every
/// rank (MPI_Abort) instead of leaving the others waiting in a collective. On one rank the
/// exception propagates as usual.
template <class C, class F>
decltype(auto) abort_on_exception(C& comm, F&& f) {
  if (comm.size() == 1) return f();
  try {
    return f();
  } catch (const std::exception& e) {
    host_of(comm).abort(e.what());
  } catch (...) {
    host_of(comm).abort("unknown exception");
  }
}

static_assert(Communicator<Local>);

}  // namespace ctnn::dist
