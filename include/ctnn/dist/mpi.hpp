#pragma once
// dist::Mpi: a Communicator on Open MPI (or any MPI-3 library) over MPI_COMM_WORLD, for data in
// CPU memory. Link ctnn::mpi (CMake: find_package(MPI COMPONENTS CXX), only when found).
// Launch with `mpirun -np N prog` (one host) or `mpirun --host a:1,b:1 prog` (several); run
// alone it is a group of one.
//
// The first Mpi constructed initialises MPI (MPI_THREAD_FUNNELED: only the thread that made it
// calls MPI; oneDNN's OpenMP threads never do) and the last one destroyed finalises it, unless
// the program had initialised MPI itself. Each Mpi duplicates MPI_COMM_WORLD, so its collectives
// never match another library's messages. Errors end the program (MPI_ERRORS_ARE_FATAL, MPI's
// default): a collective that fails has no safe way back with ranks out of step.
#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <limits>
#include <span>
#include <string>
#include <type_traits>

#include "ctnn/dist/communicator.hpp"
#include "ctnn/error.hpp"

namespace ctnn::dist {

namespace detail {
template <class T>
MPI_Datatype mpi_type() {
  if constexpr (std::is_same_v<T, float>)
    return MPI_FLOAT;
  else if constexpr (std::is_same_v<T, double>)
    return MPI_DOUBLE;
  else if constexpr (std::is_same_v<T, std::int64_t> || std::is_same_v<T, long long> ||
                     (std::is_same_v<T, long> && sizeof(long) == 8))
    return MPI_INT64_T;
  else if constexpr (std::is_same_v<T, std::uint64_t> || std::is_same_v<T, unsigned long long> ||
                     (std::is_same_v<T, unsigned long> && sizeof(unsigned long) == 8))
    return MPI_UINT64_T;
  else if constexpr (std::is_same_v<T, int>)
    return MPI_INT;
  else
    return MPI_BYTE;  // trivially copyable data, broadcast only
}
}  // namespace detail

class Mpi {
 public:
  static constexpr bool device_memory = false;

  /// Initialises MPI if nobody has (argc/argv may be null), and duplicates MPI_COMM_WORLD.
  Mpi(int* argc = nullptr, char*** argv = nullptr) {
    int ready = 0;
    MPI_Initialized(&ready);
    if (!ready) {
      int provided = 0;
      MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
      owns_init() = true;
    }
    ++instances();
    MPI_Comm_dup(MPI_COMM_WORLD, &comm_);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }
  Mpi(const Mpi&) = delete;
  Mpi& operator=(const Mpi&) = delete;
  /// Frees the communicator; the last Mpi finalises MPI if it initialised it. Destroyed while an
  /// exception unwinds, it aborts every rank instead: the others may wait in a collective.
  ~Mpi() {
    if (std::uncaught_exceptions() > 0 && size_ > 1) abort("exception on this rank while training (see above)");
    MPI_Comm_free(&comm_);
    if (--instances() == 0 && owns_init()) {
      int done = 0;
      MPI_Finalized(&done);
      if (!done) MPI_Finalize();
    }
  }

  int rank() const { return rank_; }
  int size() const { return size_; }
  MPI_Comm comm() const { return comm_; }

  template <class T>
  void allreduce_sum(std::span<T> x) {
    static_assert(!std::is_same_v<decltype(detail::mpi_type<T>()), void>);
    for (std::size_t off = 0; off < x.size(); off += kChunk) {  // counts are int
      const int n = int(std::min<std::size_t>(kChunk, x.size() - off));
      MPI_Allreduce(MPI_IN_PLACE, x.data() + off, n, detail::mpi_type<T>(), MPI_SUM, comm_);
    }
  }
  template <class T>
  void broadcast(std::span<T> x, int root) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (detail::mpi_type<T>() == MPI_BYTE) {
      auto* p = reinterpret_cast<unsigned char*>(x.data());
      const std::size_t bytes = x.size_bytes();
      for (std::size_t off = 0; off < bytes; off += kChunk)
        MPI_Bcast(p + off, int(std::min<std::size_t>(kChunk, bytes - off)), MPI_BYTE, root, comm_);
      return;
    }
    for (std::size_t off = 0; off < x.size(); off += kChunk)
      MPI_Bcast(x.data() + off, int(std::min<std::size_t>(kChunk, x.size() - off)), detail::mpi_type<T>(), root, comm_);
  }
  void barrier() { MPI_Barrier(comm_); }

  /// Prints "error (rank r of n): why" on stderr and ends every rank of the job (MPI_Abort).
  [[noreturn]] void abort(const std::string& why) {
    std::fprintf(stderr, "error (rank %d of %d): %s\n", rank_, size_, why.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 2);
    std::abort();  // not reached
  }

 private:
  static constexpr std::size_t kChunk = std::size_t(1) << 30;  // elements per call: below INT_MAX
  static bool& owns_init() {
    static bool v = false;
    return v;
  }
  static int& instances() {
    static int v = 0;
    return v;
  }
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
};

static_assert(Communicator<Mpi>);

}  // namespace ctnn::dist
