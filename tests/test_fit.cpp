// Tests for ctnn/train/fit.hpp without any CIFAR-10 type (no data/cifar10 header is included):
// a 1×28×28 net learns a synthetic task from data::InMemory batches through train::fit; the
// callbacks see their hooks in order; Checkpoint + CsvLog resume a generic run exactly.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "backends/reference/all.hpp"
#include "ctnn/data/in_memory.hpp"
#include "ctnn/layers.hpp"
#include "ctnn/loss.hpp"
#include "ctnn/model.hpp"
#include "ctnn/optim/sgd.hpp"
#include "ctnn/train/callbacks.hpp"
#include "ctnn/train/checkpoint.hpp"
#include "ctnn/train/evaluate.hpp"
#include "ctnn/train/fit.hpp"
#if CTNN_WITH_ONEDNN
#include "backends/onednn/all.hpp"
#elif CTNN_WITH_EIGEN
#include "backends/eigen/all.hpp"
#endif
#include "error_of.hpp"

namespace fs = std::filesystem;
using namespace ctnn;

namespace {

using Backend = ctnn::cpu;  // this build's CPU backend: oneDNN, else Eigen, else reference

using In = Shape<1, 28, 28>;
using Net = Sequential<Conv2d<1, 8, 3, 1, 1>, ReLU, MaxPool2d<2, 2>, Flatten, Linear<8 * 14 * 14, 10>>;
using Loader = data::InMemory<In>;

// n images of noise (N(0, 0.8)); one quadrant, the label (0: top left, 1: top right, 2: bottom
// left, 3: bottom right), is brighter by 0.2 on average (0.1 to 0.3), so single pixels say
// little and the net has to pool over a quadrant.
Loader quadrants(std::size_t n, std::uint64_t seed, bool shuffle) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> noise(0.f, 0.8f);
  std::uniform_real_distribution<float> lift(0.1f, 0.3f);
  std::vector<float> images(n * In::size);
  std::vector<std::int32_t> labels(n);
  for (std::size_t i = 0; i < n; ++i) {
    const int q = int(rng() % 4);
    labels[i] = q;
    const float up = lift(rng);
    for (int y = 0; y < 28; ++y)
      for (int x = 0; x < 28; ++x)
        images[i * In::size + std::size_t(y) * 28 + x] = noise(rng) + ((y >= 14) * 2 + (x >= 14) == q ? up : 0.f);
  }
  return Loader(std::move(images), std::move(labels), shuffle, seed);
}

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& tag) {
    path = fs::temp_directory_path() / ("ctnn_fit_" + tag + "_" + std::to_string(std::random_device{}()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// Records which hooks ran, in order, and what the state held then.
struct Recorder {
  std::vector<std::string> events;
  std::vector<double> epoch_losses;
  long batches = 0;
  template <class S>
  void on_resume(S&) {
    events.push_back("resume");
  }
  template <class S>
  void on_fit_begin(S&) {
    events.push_back("fit_begin");
  }
  template <class S>
  void on_epoch_begin(S& s) {
    events.push_back("epoch_begin " + std::to_string(s.epoch));
  }
  template <class S>
  void on_batch_end(S& s) {
    ++batches;
    CHECK(s.data != nullptr);
    CHECK(std::isfinite(s.batch_loss.loss));
  }
  template <class S>
  void on_epoch_end(S& s) {
    events.push_back("epoch_end " + std::to_string(s.epoch));
    epoch_losses.push_back(s.row.train_loss);
  }
  template <class S>
  void on_fit_end(S&) {
    events.push_back("fit_end");
  }
};

// Counts the exceptions it is shown that came from the loss.
struct SeesError {
  int calls = 0;
  template <class S>
  void on_exception(S& s, std::exception_ptr) {
    calls += s.phase == train::Phase::loss;
  }
};

std::vector<std::string> lines_of(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

}  // namespace

TEST_CASE("fit trains a 1x28x28 net on in-memory synthetic data: loss falls, held-out accuracy far above chance") {
  Loader train_set = quadrants(768, 1, true), test_set = quadrants(256, 2, false);
  Model<Net, In, Backend> model(7);
  const auto before = train::evaluate(model, test_set, 64);
  CAPTURE(before.accuracy);
  CHECK(before.accuracy < 45.0);  // an untrained net is near chance (25 %): the task is not given away

  Recorder rec;
  train::Evaluate eval(test_set, 64);
  const auto last =
      train::fit(model, train_set, CrossEntropyLoss{}, SGD(0.02f, 0.9f), {.epochs = 4, .batch_size = 32}, eval, rec);
  CAPTURE(rec.epoch_losses);
  CAPTURE(last.test_acc);
  CHECK(rec.events == std::vector<std::string>{"resume", "fit_begin", "epoch_begin 0", "epoch_end 0", "epoch_begin 1",
                                               "epoch_end 1", "epoch_begin 2", "epoch_end 2", "epoch_begin 3",
                                               "epoch_end 3", "fit_end"});
  CHECK(rec.batches == 4 * 24);
  REQUIRE(rec.epoch_losses.size() == 4);
  CHECK(rec.epoch_losses.back() < 0.5 * rec.epoch_losses.front());
  CHECK(last.epoch == 4);
  CHECK(last.batch_size == 32);
  CHECK(last.lr == doctest::Approx(0.02));
  CHECK(last.train_acc > 80.0);
  // Held out: images the net never trained on.
  CHECK(last.test_acc == doctest::Approx(eval.last.accuracy));
  CHECK(last.test_acc > 80.0);  // measured 94 % (oneDNN, 1 or 2 threads), 91 % (reference); chance is 25 %
  CHECK(last.test_loss < 0.5 * before.loss);
  const auto after = train::evaluate(model, test_set, 100);  // another batch size, same figures
  CHECK(after.accuracy == doctest::Approx(last.test_acc));
  long total = 0;
  for (const auto& row : after.confusion)
    for (long v : row) total += v;
  CHECK(total == 256);
}

TEST_CASE("fit with Checkpoint and CsvLog: 1 epoch + resume + 1 epoch equals 2 epochs straight") {
  TempDir straight("straight"), resumed("resumed");
  Loader train_set = quadrants(200, 3, true), test_set = quadrants(64, 4, false);
  auto run = [&](const fs::path& dir, int epochs, bool resume) {
    Model<Net, In, Backend> model(11);
    train::Evaluate eval(test_set, 64);
    train::Checkpoint ckpt{dir / "checkpoint.safetensors", resume, {{"task", "quadrants"}}, {}, 5, true};
    return train::fit(model, train_set, CrossEntropyLoss{}, SGD(0.02f, 0.9f, 0.f, 5e-4f),
                      {.epochs = epochs, .batch_size = 50}, eval, train::CsvLog{dir / "metrics.csv"}, ckpt,
                      train::Progress{true}, train::NanGuard{ckpt.path});
  };
  CHECK(run(straight.path, 2, false).epoch == 2);
  CHECK(run(resumed.path, 1, false).epoch == 1);
  CHECK(run(resumed.path, 2, true).epoch == 2);
  const auto a = io::load_safetensors(straight.path / "checkpoint.safetensors");
  const auto b = io::load_safetensors(resumed.path / "checkpoint.safetensors");
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (const auto& t : a.tensors) {
    CAPTURE(t.name);
    const auto x = t.to_floats(), y = b.at(t.name).to_floats();
    REQUIRE(x.size() == y.size());
    double worst = 0;
    for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, double(std::fabs(x[i] - y[i])));
    CHECK(worst <= 1e-6);
  }
  // No buffers in this net, so no num_batches_tracked; the metadata went in.
  for (const auto& t : a.tensors) CHECK(!t.name.ends_with("num_batches_tracked"));
  CHECK(a.metadata.at("task") == "quadrants");
  CHECK(a.metadata.at("seed") == "5");
  CHECK(a.metadata.at("ctnn.epochs_done") == "2");
  const auto rows = lines_of(resumed.path / "metrics.csv");
  REQUIRE(rows.size() == 3);
  CHECK(rows[0] == train::CsvLog::header);
  CHECK(rows[1].starts_with("1,1,50,"));
  CHECK(rows[2].starts_with("2,1,50,"));
  // Resuming with other metadata is refused.
  Model<Net, In, Backend> model(11);
  train::Checkpoint other{resumed.path / "checkpoint.safetensors", true, {{"task", "stripes"}}, {}, 5, true};
  const auto msg = ctnn_test::error_of(
      [&] { train::fit(model, train_set, CrossEntropyLoss{}, SGD(0.02f), {.epochs = 3, .batch_size = 50}, other); });
  CHECK(msg.find("task=quadrants, this run has task=stripes") != std::string::npos);
}

TEST_CASE("fit: the NaN guard names epoch, batch and lr; on_exception hooks all run") {
  Loader train_set = quadrants(64, 5, true);
  Model<Net, In, Backend> model(11);
  SeesError sees;
  const auto msg = ctnn_test::error_of([&] {
    train::fit(model, train_set, CrossEntropyLoss{}, SGD(1e30f), {.epochs = 3, .batch_size = 16},
               train::NanGuard{"", "try a smaller lr"}, sees);
  });
  CAPTURE(msg);
  CHECK(msg.starts_with("training diverged at epoch "));
  CHECK(msg.find("(lr 1e+30): CrossEntropyLoss: loss is") != std::string::npos);
  CHECK(msg.ends_with("; try a smaller lr."));
  CHECK(sees.calls == 1);
}

TEST_CASE("data::InMemory: sizes checked, batches cover the set once, shuffle is a function of (seed, epoch)") {
  CHECK(ctnn_test::error_of([] {
          Loader(std::vector<float>(100), {0, 1});
        }).find("expected 1568") != std::string::npos);
  Loader a = quadrants(70, 9, true), b = quadrants(70, 9, true);
  auto order = [](Loader& l, int epoch) {
    std::vector<float> firsts;
    l.start_epoch(epoch, 32);
    CHECK(l.batches_per_epoch() == 3);
    const data::Batch* batch = nullptr;
    int n = 0;
    while (l.next(batch)) {
      n += batch->size;
      for (int i = 0; i < batch->size; ++i) firsts.push_back(batch->images[std::size_t(i) * In::size]);
    }
    CHECK(n == 70);
    CHECK(batch == nullptr);
    return firsts;
  };
  CHECK(order(a, 0) == order(b, 0));
  CHECK(order(a, 1) == order(b, 1));
  CHECK(order(a, 0) != order(a, 1));
}
