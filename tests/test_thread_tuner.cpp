// ThreadTuner (thread_tuner.hpp) against a simulated 2-core machine whose speeds are the ones
// measured with benchmarks/threads_busy_core.sh (benchmarks/README.md, "threads"): train step at
// batch 128, images/s with both cores free 1 thread 140 / 2 threads 266, with one core held by
// another process 137 / 98. The tuner must end on the faster count in each phase and spend few
// steps probing the slower one.
#include <doctest/doctest.h>

#include "ctnn/thread_tuner.hpp"

namespace {

struct Machine {
  bool busy = false;
  double seconds(int threads, int batch) const {
    const double ips = busy ? (threads == 1 ? 137 : 98) : (threads == 1 ? 140 : 266);
    return batch / ips;
  }
};

/// Runs `steps` steps; returns how many of them ran with `count` threads.
int run(ctnn::ThreadTuner& t, const Machine& m, int steps, int batch, int count) {
  int with = 0;
  for (int i = 0; i < steps; ++i) {
    with += t.threads() == count;
    t.record(m.seconds(t.threads(), batch), batch);
  }
  return with;
}

}  // namespace

TEST_CASE("ThreadTuner: both cores free keeps 2 threads after one early probe of 1") {
  ctnn::ThreadTuner t(2);
  Machine m;
  const int one = run(t, m, 1000, 128, 1);
  CHECK(t.threads() == 2);
  CHECK(one == 4);  // the start's probe: a warm-up step and 3 timed ones, then never again
}

TEST_CASE("ThreadTuner: a core taken mid-run moves to 1 thread; freed, it moves back to 2") {
  ctnn::ThreadTuner t(2);
  Machine m;
  run(t, m, 200, 128, 2);
  REQUIRE(t.threads() == 2);
  m.busy = true;
  run(t, m, 20, 128, 2);
  CHECK(t.threads() == 1);  // noticed within a window and a probe
  const int two_while_busy = run(t, m, 2000, 128, 2);
  CHECK(t.threads() == 1);
  CHECK(two_while_busy < 0.03 * 2000);  // tries of 2 threads back off: few steps lost to them
  m.busy = false;
  run(t, m, 1700, 128, 1);  // the next try of 2 threads comes within max_probe_every steps
  CHECK(t.threads() == 2);
}

TEST_CASE("ThreadTuner: busy from the first step on, it still finds 1 thread") {
  ctnn::ThreadTuner t(2);
  Machine m{true};
  run(t, m, 12, 32, 1);
  CHECK(t.threads() == 1);
}

TEST_CASE("ThreadTuner: one thread at most never changes; bad reports are ignored") {
  ctnn::ThreadTuner t(1);
  Machine m{true};
  run(t, m, 300, 64, 1);
  CHECK(t.threads() == 1);
  ctnn::ThreadTuner u(2);
  for (int i = 0; i < 50; ++i) CHECK_FALSE(u.record(0.0, 128).has_value());
  CHECK_FALSE(u.record(1.0, 0).has_value());
  CHECK(u.threads() == 2);
}
