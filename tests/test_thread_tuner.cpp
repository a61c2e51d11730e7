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

TEST_CASE("ThreadTuner: after a long busy phase, 2 threads come back within max_probe_seconds") {
  // The multibatch run of session 8: 30 epochs beside another program pushed the interval between
  // tries to max_probe_every (1600 steps, 25 min at batch 256 on one thread); the seconds cap
  // bounds the wait once the core is free, and tries while busy stay rare.
  ctnn::ThreadTuner t(2);
  Machine m{true};
  const int two_while_busy = run(t, m, 6000, 256, 2);  // ≈ 3 h at 137 img/s
  CHECK(t.threads() == 1);
  CHECK(two_while_busy < 0.03 * 6000);  // 4 steps a try: ~1 % of the time at 98 instead of 137 img/s
  m.busy = false;
  double waited = 0;
  for (int i = 0; i < 2000 && t.threads() == 1; ++i) {
    waited += m.seconds(1, 256);
    t.record(m.seconds(1, 256), 256);
  }
  CHECK(t.threads() == 2);
  CHECK(waited <= ctnn::ThreadTunerOptions{}.max_probe_seconds + 10 * m.seconds(1, 256));
  run(t, m, 300, 256, 1);
  CHECK(t.threads() == 2);  // the probe won: it stays
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

// Model::reset_workspaces (what AdaptiveThreads calls when the count changes) must not change
// training: the weights, optimizer state, BatchNorm statistics and dropout stream live outside
// the workspaces. Steps with a reset before each one give exactly the weights of steps without.
#include <vector>

#include "helpers.hpp"

TEST_CASE_TEMPLATE("Model::reset_workspaces between steps leaves training unchanged", B, CTNN_TEST_BACKENDS) {
  using Net = ctnn::Sequential<ctnn::Conv2d<3, 8, 3, 1, 1>, ctnn::BatchNorm2d, ctnn::ReLU, ctnn::MaxPool2d<2, 2>,
                               ctnn::Flatten, ctnn::Dropout, ctnn::Linear<8 * 4 * 4, 5>>;
  using In = ctnn::Shape<3, 8, 8>;
  auto train = [](bool reset) {
    ctnn::Model<Net, In, B> m(3);
    ctnn::SGD sgd(0.05f, 0.9f);
    ctnn::CrossEntropyLoss loss;
    std::vector<float> dy(6 * 5);
    for (int step = 0; step < 4; ++step) {
      if (reset) m.reset_workspaces();
      const auto x = ctnn_test::uniform(6 * In::size, 100 + step);
      const std::vector<std::int32_t> t = {0, 1, 2, 3, 4, step % 5};
      loss(m.forward(x, 6), t, 5, dy);
      m.backward(dy);
      sgd.step(m.parameters(), m.gradients());
    }
    std::vector<float> out(m.parameters().begin(), m.parameters().end());
    out.insert(out.end(), m.buffers().begin(), m.buffers().end());
    return out;
  };
  const auto plain = train(false), with_resets = train(true);
  REQUIRE(plain.size() == with_resets.size());
  CHECK(plain == with_resets);
}
