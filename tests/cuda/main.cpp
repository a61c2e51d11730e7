// doctest main of the CUDA tests. Without a usable CUDA device every test would fail for a reason
// that is not a bug, so the program checks first and exits 77, which CTest reports as "Skipped"
// (SKIP_RETURN_CODE in CMakeLists.txt) — not as passed. It still checks, on such a machine, that
// the backend says so with a ctnn::Error instead of crashing.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

#include "backends/cuda/context.hpp"

int main(int argc, char** argv) {
  if (!ctnn::gpu::device_available()) {
    try {
      ctnn::Context<ctnn::cuda> ctx;
      std::fprintf(stderr, "test_cuda: no CUDA device was found, yet Context<cuda> could be created\n");
      return 1;
    } catch (const ctnn::Error& e) {
      std::printf("test_cuda: SKIPPED: every test case needs a CUDA device (%s)\n", e.what());
      return 77;
    }
  }
  doctest::Context context(argc, argv);
  return context.run();
}
