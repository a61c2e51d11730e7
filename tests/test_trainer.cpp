// Tests for ctnn/train/trainer.hpp and train/checkpoint.hpp on a tiny synthetic dataset and a
// small net: exact resume, refusal of foreign / truncated checkpoints, the NaN guard and
// metrics.csv. Runs in a few seconds; set OMP_NUM_THREADS as CTest does (2).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/data/cifar10.hpp"
#include "ctnn/io/safetensors.hpp"
#include "ctnn/train/checkpoint.hpp"
#include "ctnn/train/trainer.hpp"
#include "error_of.hpp"

namespace fs = std::filesystem;
using namespace ctnn;

namespace {

using Backend = ctnn::cpu;  // this build's CPU backend: oneDNN, else Eigen, else reference

using In = Shape<3, 32, 32>;
using SmallNet = Sequential<Conv2d<3, 8, 3, 1, 1>, BatchNorm2d, ReLU, MaxPool2d<4, 4>, Flatten, Linear<512, 10>>;
// Another network: different layers, so a different architecture string.
using OtherNet = Sequential<Conv2d<3, 4, 3, 1, 1>, ReLU, MaxPool2d<4, 4>, Flatten, Linear<256, 10>>;
// SmallNet with Dropout, to check that resuming also reproduces the dropout masks.
using DropNet = Sequential<Conv2d<3, 8, 3, 1, 1>, BatchNorm2d, ReLU, MaxPool2d<4, 4>, Flatten, Linear<512, 32>, ReLU,
                           Dropout, Linear<32, 10>>;

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& tag) {
    path = fs::temp_directory_path() / ("ctnn_trainer_" + tag + "_" + std::to_string(std::random_device{}()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// Random images; the label is a function of the mean brightness of the red plane, so there is
// something to learn (loss should fall), but nothing depends on that.
data::Cifar10Split random_split(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  data::Cifar10Split s;
  s.images.resize(n * data::kCifarPixels);
  for (auto& p : s.images) p = std::uint8_t(rng() & 0xff);
  for (std::size_t i = 0; i < n; ++i) {
    long sum = 0;
    for (int k = 0; k < 1024; ++k) sum += s.images[i * data::kCifarPixels + k];
    s.labels.push_back(std::uint8_t((sum / 7) % 10));
  }
  return s;
}

const data::Cifar10& tiny_data() {
  static const data::Cifar10 d{random_split(200, 1), random_split(100, 2)};
  return d;
}

train::TrainerOptions options(const fs::path& out, std::vector<train::Stage> stages, bool adam = false) {
  train::TrainerOptions o;
  o.stages = std::move(stages);
  o.adam = adam;
  o.weight_decay = 5e-4f;
  o.seed = 3;
  o.augment.hflip = true;
  o.augment.crop_padding = 2;
  o.eval_batch_size = 64;
  o.out = out;
  o.quiet = true;
  o.metadata = {{"preset", "test"}};
  return o;
}

std::vector<std::string> lines_of(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

using ctnn_test::error_of;

// Largest |a - b| over every tensor of two checkpoint files (they must hold the same names,
// dtypes and shapes). F32 only compared by value; other dtypes must be byte-identical.
double max_checkpoint_diff(const fs::path& a, const fs::path& b) {
  const auto fa = io::load_safetensors(a), fb = io::load_safetensors(b);
  REQUIRE(fa.tensors.size() == fb.tensors.size());
  double worst = 0;
  for (const auto& ta : fa.tensors) {
    const auto& tb = fb.at(ta.name);
    REQUIRE(ta.dtype == tb.dtype);
    REQUIRE(ta.shape == tb.shape);
    if (ta.dtype != "F32") {
      CHECK_MESSAGE(ta.data == tb.data, ta.name);
      continue;
    }
    const auto va = ta.to_floats(), vb = tb.to_floats();
    for (std::size_t i = 0; i < va.size(); ++i) {
      const double d = std::fabs(double(va[i]) - double(vb[i]));
      if (!(d <= worst)) worst = std::isnan(d) ? INFINITY : d;
    }
  }
  return worst;
}

struct Stop {};  // thrown from on_epoch to simulate an interruption right after a checkpoint

// Trains `stages` in `out`, straight; or, if stop_after > 0, stops after that epoch and
// continues with a new Model and Trainer (resume = true) to the end.
template <class Net>
void run_training(const fs::path& out, const std::vector<train::Stage>& stages, bool adam, int stop_after) {
  {
    Model<Net, In, Backend> model(11);
    train::Trainer trainer(model, tiny_data(), options(out, stages, adam));
    if (stop_after > 0)
      trainer.on_epoch = [&](const train::EpochResult& r) {
        if (r.epoch == stop_after) throw Stop{};
      };
    try {
      trainer.run();
    } catch (const Stop&) {}
  }
  if (stop_after > 0) {
    Model<Net, In, Backend> model(11);
    auto o = options(out, stages, adam);
    o.resume = true;
    train::Trainer trainer(model, tiny_data(), o);
    trainer.run();
  }
}

const std::vector<train::Stage> kTwoStages = {{1, 32, 0.05f}, {1, 64, 0.02f}};

}  // namespace

TEST_CASE("resume: 1 epoch + resume + 1 epoch equals 2 epochs straight (SGD and Adam)") {
  for (const bool adam : {false, true}) {
    CAPTURE(adam);
    TempDir straight("straight"), again("again"), resumed("resumed");
    run_training<SmallNet>(straight.path, kTwoStages, adam, 0);
    run_training<SmallNet>(again.path, kTwoStages, adam, 0);
    run_training<SmallNet>(resumed.path, kTwoStages, adam, 1);
    const auto ck = "checkpoint.safetensors";
    // Two straight runs agree (determinism at this thread count), so the resume check means something.
    CHECK(max_checkpoint_diff(straight.path / ck, again.path / ck) <= 1e-6);
    CHECK(max_checkpoint_diff(straight.path / ck, resumed.path / ck) <= 1e-6);
    // The parameters really moved from the initialisation.
    Model<SmallNet, In, Backend> init(11);
    const auto f = io::load_safetensors(straight.path / ck);
    CHECK(f.at("0.weight").to_floats() !=
          std::vector<float>(init.parameters().begin(), init.parameters().begin() + 8 * 27));
    CHECK(f.metadata.at("ctnn.epochs_done") == "2");
    CHECK(f.metadata.at("preset") == "test");
    CHECK(f.metadata.at("optimizer.kind") == (adam ? "adam" : "sgd"));
    // The one module with buffers (BatchNorm's running statistics, non-trainable in its params())
    // gets PyTorch's step counter right after them, holding the optimizer steps; no other does.
    std::vector<std::string> counters;
    for (std::size_t i = 0; i < f.tensors.size(); ++i)
      if (f.tensors[i].name.ends_with("num_batches_tracked")) {
        counters.push_back(f.tensors[i].name);
        REQUIRE(i > 0);
        CHECK(f.tensors[i - 1].name == "1.running_var");
        CHECK(f.tensors[i].dtype == "I64");
        std::int64_t steps = -1;
        REQUIRE(f.tensors[i].data.size() == 8);
        std::memcpy(&steps, f.tensors[i].data.data(), 8);
        CHECK(std::to_string(steps) == f.metadata.at("ctnn.step"));
      }
    CHECK(counters == std::vector<std::string>{"1.num_batches_tracked"});
    // metrics.csv of the resumed run continues the file: header + epochs 1 and 2, once each.
    const auto rs = lines_of(resumed.path / "metrics.csv");
    REQUIRE(rs.size() == 3);
    CHECK(rs[1].starts_with("1,1,32,"));
    CHECK(rs[2].starts_with("2,2,64,"));
  }
}

// Dropout masks are a function of (seed, Context::step, layer). The checkpoint stores the number
// of optimizer steps, so Model must count training forwards only (evaluation ones used to count
// too, and a resumed run then drew other masks).
TEST_CASE("resume with Dropout reproduces the straight run") {
  TempDir straight("drop_straight"), resumed("drop_resumed"), one("drop_one");
  {  // The cause: after one epoch (7 training batches of 32, 2 evaluation batches of 64) the
     // model's step counter is 9, the checkpoint's (restored on resume) is 7.
    Model<DropNet, In, Backend> model(11);
    train::Trainer trainer(model, tiny_data(), options(one.path, {{1, 32, 0.05f}}));
    trainer.run();
    const auto f = io::load_safetensors(one.path / "checkpoint.safetensors");
    CHECK(f.metadata.at("ctnn.step") == std::to_string(model.context().step));
  }
  run_training<DropNet>(straight.path, kTwoStages, false, 0);
  run_training<DropNet>(resumed.path, kTwoStages, false, 1);
  CHECK(max_checkpoint_diff(straight.path / "checkpoint.safetensors", resumed.path / "checkpoint.safetensors") <= 1e-6);
}

TEST_CASE("a checkpoint of another network is refused, and nothing is changed") {
  TempDir dir("other");
  {
    Model<OtherNet, In, Backend> other(5);
    train::Trainer trainer(other, tiny_data(), options(dir.path, {{1, 50, 0.01f}}));
    trainer.run();
  }
  const auto ckpt = dir.path / "checkpoint.safetensors";
  Model<SmallNet, In, Backend> model(11);
  const std::vector<float> before(model.parameters().begin(), model.parameters().end());
  train::Optimizer opt = SGD(0.01f, 0.9f);
  const auto msg = error_of([&] { train::load_checkpoint(ckpt, model, opt); });
  CHECK(has(msg, "another network"));
  CHECK(has(msg, ckpt.string()));
  CHECK(std::equal(before.begin(), before.end(), model.parameters().begin()));
  CHECK(std::get<SGD>(opt).momentum_buffer.empty());
  // The same through the Trainer (what --resume does).
  auto o = options(dir.path, {{2, 50, 0.01f}});
  o.resume = true;
  train::Trainer trainer(model, tiny_data(), o);
  CHECK(has(error_of([&] { trainer.run(); }), "another network"));
  CHECK(std::equal(before.begin(), before.end(), model.parameters().begin()));
}

TEST_CASE("a truncated checkpoint is refused with a clear message, and the model is unchanged") {
  TempDir dir("trunc");
  {
    Model<SmallNet, In, Backend> m(5);
    train::Trainer trainer(m, tiny_data(), options(dir.path, {{1, 50, 0.01f}}));
    trainer.run();
  }
  const auto ckpt = dir.path / "checkpoint.safetensors";
  const auto size = fs::file_size(ckpt);
  std::vector<char> bytes(size);
  std::ifstream(ckpt, std::ios::binary).read(bytes.data(), std::streamsize(size));
  const auto cut = dir.path / "cut.safetensors";
  // Cut inside the tensor data, inside the JSON header, inside the length field, and to nothing.
  for (const std::size_t keep :
       {std::size_t(size - 1), std::size_t(size / 2), std::size_t(100), std::size_t(4), std::size_t(0)}) {
    CAPTURE(keep);
    std::ofstream(cut, std::ios::binary | std::ios::trunc).write(bytes.data(), std::streamsize(keep));
    Model<SmallNet, In, Backend> model(11);
    const std::vector<float> p0(model.parameters().begin(), model.parameters().end());
    const std::vector<float> b0(model.buffers().begin(), model.buffers().end());
    train::Optimizer opt = SGD(0.01f, 0.9f);
    const auto msg = error_of([&] { train::load_checkpoint(cut, model, opt); });
    CAPTURE(msg);
    CHECK(has(msg, cut.string()));
    CHECK((has(msg, "truncated") || has(msg, "exceeds")));
    CHECK(std::equal(p0.begin(), p0.end(), model.parameters().begin()));
    CHECK(std::equal(b0.begin(), b0.end(), model.buffers().begin()));
    CHECK(std::get<SGD>(opt).momentum_buffer.empty());
  }
  // A data-section cut says "truncated" in so many words.
  std::ofstream(cut, std::ios::binary | std::ios::trunc).write(bytes.data(), std::streamsize(size - 1));
  Model<SmallNet, In, Backend> model(11);
  train::Optimizer opt = SGD(0.01f, 0.9f);
  CHECK(has(error_of([&] { train::load_checkpoint(cut, model, opt); }), "truncated"));
  // Through the Trainer: truncating the real checkpoint makes --resume fail, not start over.
  std::ofstream(ckpt, std::ios::binary | std::ios::trunc).write(bytes.data(), std::streamsize(size / 2));
  auto o = options(dir.path, {{2, 50, 0.01f}});
  o.resume = true;
  const std::vector<float> p0(model.parameters().begin(), model.parameters().end());
  train::Trainer trainer(model, tiny_data(), o);
  CHECK(has(error_of([&] { trainer.run(); }), "truncated"));
  CHECK(std::equal(p0.begin(), p0.end(), model.parameters().begin()));
}

TEST_CASE("NaN guard: a huge learning rate stops training with epoch, batch and lr; the last good checkpoint loads") {
  TempDir dir("nan");
  const auto ckpt = dir.path / "checkpoint.safetensors";
  std::string msg;
  {
    Model<SmallNet, In, Backend> model(11);
    train::Trainer trainer(model, tiny_data(), options(dir.path, {{1, 20, 0.01f}, {1, 20, 1e6f}}));
    msg = error_of([&] { trainer.run(); });
  }
  CAPTURE(msg);
  CHECK(has(msg, "diverged"));
  CHECK(has(msg, "epoch 2,"));
  CHECK(has(msg, "batch "));
  CHECK((has(msg, "lr 1e+06") || has(msg, "lr 1000000")));
  CHECK(has(msg, ckpt.string()));
  // The checkpoint is still epoch 1's, loads, and is finite.
  Model<SmallNet, In, Backend> model(99);
  train::Optimizer opt = SGD(0.01f, 0.9f);
  const auto st = train::load_checkpoint(ckpt, model, opt);
  CHECK(st.epochs_done == 1);
  for (float v : model.parameters()) REQUIRE(std::isfinite(v));
  for (float v : model.buffers()) REQUIRE(std::isfinite(v));
  CHECK(lines_of(dir.path / "metrics.csv").size() == 2);
  CHECK(!fs::exists(dir.path / ("checkpoint.safetensors.tmp." + std::to_string(::getpid()))));
  // As the message suggests: lower the learning rate and resume; training finishes.
  Model<SmallNet, In, Backend> again(11);
  auto o = options(dir.path, {{1, 20, 0.01f}, {1, 20, 0.001f}});
  o.resume = true;
  train::Trainer trainer(again, tiny_data(), o);
  const auto last = trainer.run();
  CHECK(last.epoch == 2);
  CHECK(std::isfinite(last.train_loss));
  CHECK(lines_of(dir.path / "metrics.csv").size() == 3);
}

// If the last batch of an epoch is the one whose step makes the parameters non-finite, the loss
// of every training batch was finite and the NaN first shows in the evaluation, which throws
// CrossEntropyLoss's "loss is -nan"; the Trainer must still name epoch and lr and hint to resume.
// (The checkpoint is still intact: evaluation comes before the save.) Here the second stage has
// one batch per epoch and an lr of FLT_MAX.
TEST_CASE("NaN guard: a divergence that first shows in the evaluation also names epoch and lr") {
  TempDir dir("nan_eval");
  std::string msg;
  {
    Model<SmallNet, In, Backend> model(11);
    train::Trainer trainer(model, tiny_data(),
                           options(dir.path, {{1, 200, 0.01f}, {1, 200, std::numeric_limits<float>::max()}}));
    msg = error_of([&] { trainer.run(); });
  }
  CAPTURE(msg);
  CHECK(has(msg, "epoch 2"));
  CHECK(has(msg, "lr "));
  Model<SmallNet, In, Backend> model(99);
  train::Optimizer opt = SGD(0.01f, 0.9f);
  CHECK(train::load_checkpoint(dir.path / "checkpoint.safetensors", model, opt).epochs_done == 1);
}

TEST_CASE("metrics.csv: exact header, one row per epoch, continued (not duplicated) after a resume") {
  TempDir dir("csv");
  const auto csv = dir.path / "metrics.csv";
  const std::string header = "epoch,stage,batch_size,lr,train_loss,train_acc,test_loss,test_acc,seconds,images_per_s";
  const std::vector<train::Stage> stages = {{2, 40, 0.02f}, {1, 100, 0.01f}};
  std::vector<train::EpochResult> seen;
  {
    Model<SmallNet, In, Backend> model(11);
    train::Trainer trainer(model, tiny_data(), options(dir.path, stages));
    trainer.on_epoch = [&](const train::EpochResult& r) {
      seen.push_back(r);
      if (r.epoch == 2) throw Stop{};
    };
    CHECK_THROWS_AS(trainer.run(), Stop);
  }
  auto rows = lines_of(csv);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0] == header);
  // A row written after the last checkpoint (a kill between the two writes) is dropped on resume.
  std::ofstream(csv, std::ios::app) << "3,2,100,0.01,9,9,9,9,9,9\n";
  {
    Model<SmallNet, In, Backend> model(11);
    auto o = options(dir.path, stages);
    o.resume = true;
    train::Trainer trainer(model, tiny_data(), o);
    trainer.on_epoch = [&](const train::EpochResult& r) { seen.push_back(r); };
    CHECK(trainer.run().epoch == 3);
  }
  rows = lines_of(csv);
  REQUIRE(rows.size() == 4);
  CHECK(rows[0] == header);
  REQUIRE(seen.size() == 3);
  for (int e = 1; e <= 3; ++e) {
    CAPTURE(rows[e]);
    std::vector<std::string> cells;
    std::stringstream ss(rows[e]);
    for (std::string c; std::getline(ss, c, ',');) cells.push_back(c);
    REQUIRE(cells.size() == 10);
    CHECK(cells[0] == std::to_string(e));
    CHECK(cells[1] == (e <= 2 ? "1" : "2"));
    CHECK(cells[2] == (e <= 2 ? "40" : "100"));
    CHECK(std::stod(cells[3]) == doctest::Approx(e <= 2 ? 0.02 : 0.01));
    CHECK(std::stod(cells[4]) == doctest::Approx(seen[e - 1].train_loss).epsilon(1e-5));
    CHECK(std::stod(cells[7]) == doctest::Approx(seen[e - 1].test_acc).epsilon(1e-3));
    for (const auto& c : cells) CHECK(std::isfinite(std::stod(c)));
  }
  // Resuming a finished run trains nothing and leaves the file as it is.
  {
    Model<SmallNet, In, Backend> model(11);
    auto o = options(dir.path, stages);
    o.resume = true;
    train::Trainer trainer(model, tiny_data(), o);
    CHECK(trainer.run().epoch == 3);
  }
  CHECK(lines_of(csv) == rows);
  // A fresh run (resume = false) in the same folder starts the file over.
  {
    Model<SmallNet, In, Backend> model(11);
    train::Trainer trainer(model, tiny_data(), options(dir.path, {{1, 100, 0.01f}}));
    trainer.run();
  }
  rows = lines_of(csv);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0] == header);
  CHECK(rows[1].starts_with("1,1,100,"));
}
