// The training features of the better presets, each against PyTorch's definition
// (tests/reference/training.safetensors, written by tests/reference/make_training_reference.py):
// SGD Nesterov and Adam with weight decay on Conv2d/Linear weights only (two param groups),
// OneCycleLR, label smoothing, zero and reflect padded crops, flip TTA, the EMA of the weights.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/data/in_memory.hpp"
#include "ctnn/optim/param_groups.hpp"
#include "ctnn/train/trainer.hpp"
#include "helpers.hpp"

using namespace ctnn;

namespace {

const io::SafetensorsFile& ref() {
  static const io::SafetensorsFile f = ctnn_test::load_reference("training.safetensors");
  return f;
}
template <class T>
std::vector<T> raw(const char* dtype, const std::string& name) {
  const auto& r = ref().at(name);
  REQUIRE_MESSAGE(r.dtype == dtype, name << " is " << r.dtype << ", expected " << dtype);
  std::vector<T> v(r.data.size() / sizeof(T));
  std::memcpy(v.data(), r.data.data(), v.size() * sizeof(T));
  return v;
}
std::vector<float> f32(const std::string& name) { return ctnn_test::get(ref(), name); }
std::vector<double> f64(const std::string& name) { return raw<double>("F64", name); }
std::vector<std::int32_t> i32(const std::string& name) { return raw<std::int32_t>("I32", name); }
std::vector<std::uint8_t> u8(const std::string& name) { return raw<std::uint8_t>("U8", name); }
std::string meta(const std::string& key) { return ref().metadata.at(key); }
template <class A, class B>
double max_abs_diff(const A& a, const B& b) {
  double d = 0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) d = std::max(d, std::abs(double(a[i]) - double(b[i])));
  return d;
}

// Conv2d(3,4,3) - BatchNorm2d(4) - ReLU - Flatten - Linear(64,10): the param groups' test net.
using GroupNet = Sequential<Conv2d<3, 4, 3>, BatchNorm2d, ReLU, Flatten, Linear<64, 10>>;
using GroupIn = Shape<3, 6, 6>;

}  // namespace

// ---------------------------------------------------------------------------------------------
// 1. Weight decay on weights only, SGD Nesterov, Adam
// ---------------------------------------------------------------------------------------------

TEST_CASE("no_decay_ranges: biases and BatchNorm's weight and bias, from the layers' descriptions") {
  Model<GroupNet, GroupIn, reference> model(1);
  // Arena: 0.weight [0,108) 0.bias [108,112) 1.weight [112,116) 1.bias [116,120) 4.weight [120,760) 4.bias [760,770)
  const auto r = no_decay_ranges(model);
  REQUIRE(r.size() == 2);
  CHECK(r[0] == ParamRange{108, 120});
  CHECK(r[1] == ParamRange{760, 770});
  for (const auto& t : model.named_tensors()) CHECK_MESSAGE(t.decay == (t.shape.size() >= 2), t.name);
  std::vector<std::pair<std::size_t, std::size_t>> runs;
  std::vector<bool> decays;
  for_each_decay_run(770, r, [&](std::size_t b, std::size_t e, bool d) {
    runs.push_back({b, e}), decays.push_back(d);
  });
  CHECK(runs == std::vector<std::pair<std::size_t, std::size_t>>{{0, 108}, {108, 120}, {120, 760}, {760, 770}});
  CHECK(decays == std::vector<bool>{true, false, true, false});
}

template <class O>
void check_optimizer(O opt, const std::string& kind, bool grouped) {
  Model<GroupNet, GroupIn, reference> model(1);
  if (grouped) opt.no_decay = no_decay_ranges(model);
  auto p = f32(kind + ".p0");
  REQUIRE(p.size() == model.parameters().size());
  for (int k = 0; k < 3; ++k) {
    const auto g = f32(kind + ".grad" + std::to_string(k));
    opt.step(p, g);
    const std::string what = kind + (grouped ? ".grouped" : ".all") + ".step" + std::to_string(k);
    const auto want = f32(what);
    ctnn_test::check_close(p, want, 2e-6, 2e-7, what);
    if (k == 2) MESSAGE(what << ": max |ctnn - torch| = " << max_abs_diff(p, want));
  }
}

TEST_CASE("SGD Nesterov with weight decay on weights only equals torch.optim.SGD with two param groups") {
  check_optimizer(SGD(0.1f, 0.9f, 0.f, 0.05f, true), "sgd", true);
  check_optimizer(SGD(0.1f, 0.9f, 0.f, 0.05f, true), "sgd", false);
}

TEST_CASE("Adam with weight decay on weights only equals torch.optim.Adam with two param groups") {
  check_optimizer(Adam(0.01f, 0.9f, 0.999f, 1e-8f, 0.05f), "adam", true);
  check_optimizer(Adam(0.01f, 0.9f, 0.999f, 1e-8f, 0.05f), "adam", false);
}

TEST_CASE("the grouped and the all-decay references differ where the mask matters (the test can fail)") {
  const auto a = f32("sgd.grouped.step2"), b = f32("sgd.all.step2");
  double diff = 0;
  for (std::size_t i = 108; i < 120; ++i) diff = std::max(diff, double(std::abs(a[i] - b[i])));
  CHECK(diff > 1e-3);
  for (std::size_t i = 0; i < 108; ++i) CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-6));
}

// ---------------------------------------------------------------------------------------------
// 2. OneCycleLR, per step
// ---------------------------------------------------------------------------------------------

namespace {
OneCycleLR onecycle_config(int k) {
  const std::string p = "onecycle." + std::to_string(k) + ".";
  OneCycleLR c;
  c.total_steps = std::stol(meta(p + "total_steps"));
  c.max_lr = std::stod(meta(p + "max_lr"));
  c.pct_start = std::stod(meta(p + "pct_start"));
  c.anneal = meta(p + "anneal_strategy") == "'cos'" ? OneCycleLR::Anneal::cos : OneCycleLR::Anneal::linear;
  c.div_factor = std::stod(meta(p + "div_factor"));
  c.final_div_factor = std::stod(meta(p + "final_div_factor"));
  return c;
}
}  // namespace

TEST_CASE("OneCycleLR equals torch.optim.lr_scheduler.OneCycleLR at every step ('cos' and 'linear')") {
  const int count = std::stoi(meta("onecycle.count"));
  REQUIRE(count >= 4);
  int anneals[2] = {0, 0};
  for (int k = 0; k < count; ++k) {
    const OneCycleLR c = onecycle_config(k);
    ++anneals[int(c.anneal)];
    const auto want = f64("onecycle." + std::to_string(k) + ".lr");
    REQUIRE(long(want.size()) == c.total_steps);
    double worst = 0;
    for (long i = 0; i < c.total_steps; ++i) {
      const double got = c.lr(i);
      worst = std::max(worst, std::abs(got - want[i]) / want[i]);
      CHECK_MESSAGE(got == doctest::Approx(want[i]).epsilon(1e-12), "config " << k << " step " << i);
    }
    MESSAGE("onecycle config " << k << ": max relative |ctnn - torch| = " << worst);
  }
  CHECK(anneals[0] >= 1);
  CHECK(anneals[1] >= 1);
  // Warmup starts at max_lr / div_factor and peaks at max_lr; past the end the last rate stays.
  const OneCycleLR c = onecycle_config(0);
  CHECK(c.lr(0) == doctest::Approx(c.max_lr / c.div_factor));
  CHECK(c.lr(long(c.pct_start * c.total_steps) - 1) == doctest::Approx(c.max_lr));
  CHECK(c.lr(c.total_steps + 5) == c.lr(c.total_steps - 1));
}

namespace {
using TinyIn = Shape<1, 2, 2>;
using TinyNet = Sequential<Flatten, Linear<4, 3>>;
data::InMemory<TinyIn> tiny_set(int n) {
  std::vector<float> x = ctnn_test::uniform(std::size_t(n) * 4, 5);
  std::vector<std::int32_t> y(n);
  for (int i = 0; i < n; ++i) y[i] = i % 3;
  return data::InMemory<TinyIn>(std::move(x), std::move(y), true, 1);
}
/// Records the optimizer's learning rate at every step (the rate the step used).
struct LrLog {
  std::vector<double> lrs;
  template <class S>
  void on_batch_end(S& s) {
    lrs.push_back(train::learning_rate(s.optimizer));
  }
};
}  // namespace

TEST_CASE("train::PerStepLR sets the optimizer's rate before every step: torch's OneCycleLR sequence in fit") {
  const OneCycleLR c = onecycle_config(0);  // 100 steps: 10 epochs of 10 batches
  Model<TinyNet, TinyIn, reference> model(3);
  auto set = tiny_set(20);
  LrLog log;
  train::fit(model, set, CrossEntropyLoss{}, SGD(float(c.max_lr), 0.9f, 0.f, 0.f, true),
             {.epochs = 10, .batch_size = 2}, train::PerStepLR{c}, log);
  const auto want = f64("onecycle.0.lr");
  REQUIRE(log.lrs.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i)
    CHECK_MESSAGE(log.lrs[i] == doctest::Approx(want[i]).epsilon(1e-6), "step " << i);  // float lr
}

TEST_CASE("train::PerStepLR composes with stages: each stage's lr is the peak it scales") {
  OneCycleLR c{.total_steps = 20, .pct_start = 0.25};
  Model<TinyNet, TinyIn, reference> model(3);
  auto set = tiny_set(20);
  LrLog log;
  train::fit(model, set, CrossEntropyLoss{}, SGD(0.1f), {.epochs = 2, .batch_size = 2},
             train::Stages{{{1, 2, 0.1f}, {1, 2, 0.05f}}}, train::PerStepLR{c}, log);
  REQUIRE(log.lrs.size() == 20);
  for (long i = 0; i < 20; ++i) {
    c.max_lr = i < 10 ? 0.1 : 0.05;
    CHECK_MESSAGE(log.lrs[i] == doctest::Approx(c.lr(i)).epsilon(1e-6), "step " << i);
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Label smoothing
// ---------------------------------------------------------------------------------------------

TEST_CASE("CrossEntropyLoss(label_smoothing) equals F.cross_entropy(label_smoothing=eps): loss and gradient") {
  const int count = std::stoi(meta("ce.count"));
  REQUIRE(count == 3);
  for (int k = 0; k < count; ++k) {
    const std::string p = "ce." + std::to_string(k) + ".";
    const double eps = std::stod(meta(p + "label_smoothing"));
    const auto z = f32(p + "logits");
    const auto t = i32(p + "target");
    std::vector<float> dz(z.size());
    const auto r = CrossEntropyLoss{eps}(z, t, 10, dz);
    const double want = f64(p + "loss")[0];
    MESSAGE("label_smoothing " << eps << ": loss |ctnn - torch| = " << std::abs(r.loss - want)
                               << ", gradient max |ctnn - torch| = " << max_abs_diff(dz, f32(p + "dlogits")));
    CHECK(r.loss == doctest::Approx(want).epsilon(1e-12));
    ctnn_test::check_close(dz, f32(p + "dlogits"), 1e-6, 1e-8, p + "dlogits");
    if (eps > 0) {  // smoothing changes the loss (the test can fail)
      const auto plain = CrossEntropyLoss{}(z, t, 10);
      CHECK(std::abs(plain.loss - r.loss) > 1e-3);
    }
  }
}

TEST_CASE("CrossEntropyLoss: label_smoothing 0 is the plain formula bit for bit; out of [0, 1] throws") {
  const auto z = f32("ce.1.logits");
  const auto t = i32("ce.1.target");
  std::vector<float> a(z.size()), b(z.size());
  const auto ra = CrossEntropyLoss{}(z, t, 10, a);
  double plain = 0;
  for (std::size_t n = 0; n < t.size(); ++n) {
    const auto row = core::cross_entropy_row(&z[n * 10], 10, t[n], &b[n * 10], double(t.size()));
    plain += row.loss;
  }
  CHECK(ra.loss == plain / double(t.size()));
  CHECK(a == b);
  CHECK_THROWS_AS(CrossEntropyLoss{1.5}(z, t, 10), Error);
  CHECK_THROWS_AS(CrossEntropyLoss{-0.1}(z, t, 10), Error);
}

// ---------------------------------------------------------------------------------------------
// 4. Padded crops: zeros (the existing one) and reflect
// ---------------------------------------------------------------------------------------------

TEST_CASE("render_image: padded crops equal F.pad (constant 0 / reflect) + slice + flip, pixel for pixel") {
  const auto img = u8("crop.image");
  const auto offsets = i32("crop.offsets");
  const int pad = std::stoi(meta("crop.padding"));
  REQUIRE(img.size() == 3072);
  // Identity-like normalisation: mean 0, std 1, so out = pixel · (1/255) exactly as render_image scales it.
  const data::Normalize norm{};
  const float scale = 1.f / (255.f * 1.f);
  for (const bool reflect : {false, true}) {
    const auto want = u8(reflect ? "crop.reflect" : "crop.constant");
    REQUIRE(want.size() == offsets.size() / 3 * 3072);
    std::size_t bad = 0, border = 0;
    for (std::size_t c = 0; c < offsets.size() / 3; ++c) {
      const int dy = offsets[3 * c], dx = offsets[3 * c + 1];
      const bool flip = offsets[3 * c + 2] != 0;
      std::vector<float> out(3072);
      data::render_image(img.data(), norm, flip, pad, dy, dx, out.data(), reflect);
      for (std::size_t i = 0; i < 3072; ++i) {
        const float e = float(want[c * 3072 + i]) * scale + 0.f;
        bad += out[i] != e;
      }
      // The offsets reach the padding (so zero and reflect crops differ there).
      if (dy != pad || dx != pad) ++border;
    }
    CHECK_MESSAGE(bad == 0, std::string(reflect ? "reflect" : "zero") << " padding: " << bad << " pixels differ");
    MESSAGE(std::string(reflect ? "reflect" : "zero")
            << " padded crops: " << bad << " of " << offsets.size() / 3 * 3072 << " pixels differ from torch");
    CHECK(border > 0);
  }
  CHECK(u8("crop.reflect") != u8("crop.constant"));
}

TEST_CASE("BatchLoader: reflect crops need padding <= 31") {
  data::Cifar10Split split;
  split.images.assign(3072, 7);
  split.labels.assign(1, 0);
  CHECK_THROWS_AS(data::BatchLoader(split, {}, {.crop_padding = 32, .crop_reflect = true}, false, 0), Error);
  CHECK_NOTHROW(data::BatchLoader(split, {}, {.crop_padding = 4, .crop_reflect = true}, false, 0));
}

// ---------------------------------------------------------------------------------------------
// 5. Flip TTA at evaluation
// ---------------------------------------------------------------------------------------------

TEST_CASE("evaluate with tta_flip: accuracy of the mean logits of each image and its mirror, beside the plain one") {
  Model<TinyNet, TinyIn, reference> model(7);
  auto set = tiny_set(30);
  const auto r = train::evaluate(model, set, 8, true);
  // By hand: the mirror of a 1×2×2 image swaps its two columns.
  set.start_epoch(0, 30);
  const data::Batch* b = nullptr;
  REQUIRE(set.next(b));
  std::vector<float> x(b->images.begin(), b->images.end()), m(x.size());
  for (int i = 0; i < b->size; ++i)
    for (int row = 0; row < 2; ++row)
      m[i * 4 + row * 2] = x[i * 4 + row * 2 + 1], m[i * 4 + row * 2 + 1] = x[i * 4 + row * 2];
  auto run = [&](const std::vector<float>& in) {
    const auto y = model.forward(in, b->size);
    return std::vector<float>(y.begin(), y.end());
  };
  const auto a = run(x), f = run(m);
  int plain = 0, tta = 0;
  for (int i = 0; i < b->size; ++i) {
    int ap = 0, at = 0;
    for (int k = 1; k < 3; ++k) {
      if (a[i * 3 + k] > a[i * 3 + ap]) ap = k;
      if ((a[i * 3 + k] + f[i * 3 + k]) * 0.5f > (a[i * 3 + at] + f[i * 3 + at]) * 0.5f) at = k;
    }
    plain += ap == b->labels[i], tta += at == b->labels[i];
  }
  MESSAGE("plain " << r.accuracy << " %, flip TTA " << r.tta_accuracy << " % (by hand " << 100.0 * plain / 30 << ", "
                   << 100.0 * tta / 30 << ")");
  CHECK(r.accuracy == doctest::Approx(100.0 * plain / 30));
  CHECK(r.tta_accuracy == doctest::Approx(100.0 * tta / 30));
  CHECK(plain != tta);  // this net and data: the mirror changes predictions (the test can fail)
  CHECK(std::isnan(train::evaluate(model, set, 8).tta_accuracy));
}

TEST_CASE("metrics.csv with TTA: the ten columns unchanged, test_acc_tta after them") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "ctnn_test_tta_csv";
  fs::remove_all(dir);
  fs::create_directories(dir);
  Model<TinyNet, TinyIn, reference> model(7);
  auto set = tiny_set(30), test = tiny_set(30);
  train::Evaluate eval(test, 10, true);
  train::fit(model, set, CrossEntropyLoss{}, SGD(0.1f), {.epochs = 2, .batch_size = 10}, eval,
             train::CsvLog{dir / "metrics.csv", true});
  std::ifstream in(dir / "metrics.csv");
  std::string header, row;
  std::getline(in, header);
  CHECK(header == std::string(train::CsvLog::header) + ",test_acc_tta");
  int rows = 0;
  while (std::getline(in, row)) {
    ++rows;
    CHECK(std::count(row.begin(), row.end(), ',') == 10);
    if (rows == 2) CHECK(std::stod(row.substr(row.rfind(',') + 1)) == doctest::Approx(eval.last.tta_accuracy));
  }
  CHECK(rows == 2);
  fs::remove_all(dir);
}

// ---------------------------------------------------------------------------------------------
// 6. EMA of the weights (and BN buffers) for evaluation
// ---------------------------------------------------------------------------------------------

TEST_CASE("train::Ema: ema = decay*ema + (1-decay)*w from a copy of w0, as timm's ModelEmaV2 in float32") {
  const auto w = f32("ema.w"), want = f32("ema.expected");
  const std::size_t n = 7;
  train::Ema ema{float(std::stod(meta("ema.decay")))};
  ema.reset(std::span(w).subspan(0, n), std::span(w).subspan(0, 2));  // two "buffers": averaged the same way
  std::vector<float> got, got_buffers;
  for (std::size_t k = 1; k < 5; ++k) {
    ema.update(std::span(w).subspan(k * n, n), std::span(w).subspan(k * n, 2));
    got.insert(got.end(), ema.params.begin(), ema.params.end());
    got_buffers.push_back(ema.buffers[0]), got_buffers.push_back(ema.buffers[1]);
  }
  MESSAGE("EMA: max |ctnn - torch| = " << max_abs_diff(got, want));
  ctnn_test::check_close(got, want, 1e-6, 1e-7, "ema");
  for (std::size_t k = 0; k < 4; ++k) {
    CHECK(got_buffers[2 * k] == got[k * n]);
    CHECK(got_buffers[2 * k + 1] == got[k * n + 1]);
  }
}

namespace {
struct EmaUpdate {
  train::Ema& e;
  template <class S>
  void on_batch_end(S& s) {
    e.update(s.model.parameters(), s.model.buffers());
  }
};
}  // namespace

TEST_CASE(
    "train::Ema in fit: evaluation sees the averages (params and BN buffers), training and checkpoints the weights") {
  using In = Shape<1, 2, 2>;
  using Net = Sequential<Conv2d<1, 2, 1>, BatchNorm2d, Flatten, Linear<8, 3>>;
  Model<Net, In, reference> model(5), shadow(5);
  auto set = tiny_set(30), test = tiny_set(30);
  // The same run without EMA gives the weights the EMA run trains (EMA does not change training).
  train::fit(shadow, set, CrossEntropyLoss{}, SGD(0.1f, 0.9f), {.epochs = 2, .batch_size = 10});
  // By hand: the average over the run's 6 steps, from the initial weights.
  Model<Net, In, reference> by_hand(5);
  train::Ema manual{0.5f};
  manual.reset(by_hand.parameters(), by_hand.buffers());
  train::fit(by_hand, set, CrossEntropyLoss{}, SGD(0.1f, 0.9f), {.epochs = 2, .batch_size = 10}, EmaUpdate{manual});

  train::Ema ema{0.5f};
  train::Evaluate eval(test, 10);
  train::fit(model, set, CrossEntropyLoss{}, SGD(0.1f, 0.9f), {.epochs = 2, .batch_size = 10}, ema, eval,
             train::EmaRestore{ema});
  CHECK_FALSE(ema.swapped);
  const auto p = model.parameters(), q = shadow.parameters();
  CHECK(std::equal(p.begin(), p.end(), q.begin(), q.end()));  // the model holds the trained weights
  CHECK(ema.params == manual.params);
  CHECK(ema.buffers == manual.buffers);
  CHECK(max_abs_diff(ema.buffers, std::vector<float>(model.buffers().begin(), model.buffers().end())) > 1e-4);
  // The evaluation was of the averages.
  std::copy(ema.params.begin(), ema.params.end(), by_hand.parameters().begin());
  std::copy(ema.buffers.begin(), ema.buffers.end(), by_hand.buffers().begin());
  const auto r = train::evaluate(by_hand, test, 10);
  CHECK(eval.last.loss == r.loss);
  CHECK(eval.last.loss != train::evaluate(model, test, 10).loss);
}

// ---------------------------------------------------------------------------------------------
// All of them in the Trainer: a run stopped after epoch 1 and resumed equals the straight run
// ---------------------------------------------------------------------------------------------

namespace {
data::Cifar10Split random_split(std::size_t n, std::uint64_t seed) {
  data::Cifar10Split s;
  s.images.resize(n * data::kCifarPixels);
  for (std::size_t i = 0; i < s.images.size(); ++i) s.images[i] = std::uint8_t(mix64(seed * 1000003 + i) & 0xff);
  for (std::size_t i = 0; i < n; ++i) {
    long sum = 0;
    for (int k = 0; k < 512; ++k) sum += s.images[i * data::kCifarPixels + k];  // left-right asymmetric
    s.labels.push_back(std::uint8_t((sum / 5) % 10));
  }
  return s;
}
using SmallNet = Sequential<Conv2d<3, 4, 3, 1, 1>, BatchNorm2d, ReLU, MaxPool2d<4, 4>, Flatten, Linear<256, 10>>;
struct Stop {};
train::TrainerOptions all_features(const std::filesystem::path& out) {
  train::TrainerOptions o;
  o.stages = {{2, 20, 0.05f}, {1, 40, 0.02f}};
  o.nesterov = true;
  o.weight_decay = 5e-4f;
  o.decay_weights_only = true;
  o.one_cycle = OneCycleLR{.pct_start = 0.3};
  o.label_smoothing = 0.1f;
  o.augment = {.hflip = true, .crop_padding = 4, .crop_reflect = true};
  o.tta_flip = true;
  o.ema_decay = 0.9f;
  o.out = out;
  o.quiet = true;
  o.seed = 3;
  return o;
}
std::vector<std::string> lines_of(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::vector<std::string> v;
  for (std::string l; std::getline(in, l);) v.push_back(l);
  return v;
}
/// The row without the timing columns (seconds, images_per_s).
std::string without_timing(const std::string& row) {
  std::vector<std::string> f;
  std::size_t at = 0;
  for (std::size_t c; (c = row.find(',', at)) != std::string::npos; at = c + 1) f.push_back(row.substr(at, c - at));
  f.push_back(row.substr(at));
  std::string out;
  for (std::size_t i = 0; i < f.size(); ++i)
    if (i != 8 && i != 9) out += f[i] + ",";
  return out;
}
}  // namespace

TEST_CASE("Trainer with every feature on: resume after epoch 1 gives the straight run's metrics and weights") {
  namespace fs = std::filesystem;
  static const data::Cifar10 d{random_split(100, 1), random_split(40, 2)};
  const fs::path root = fs::temp_directory_path() / "ctnn_test_training_features_resume";
  fs::remove_all(root);
  std::vector<float> straight_params;
  {
    Model<SmallNet, Shape<3, 32, 32>, reference> model(4);
    train::Trainer t(model, d, all_features(root / "straight"));
    CHECK(t.total_steps() == 2 * 5 + 3);
    t.run();
    straight_params.assign(model.parameters().begin(), model.parameters().end());
  }
  {
    Model<SmallNet, Shape<3, 32, 32>, reference> model(4);
    train::Trainer t(model, d, all_features(root / "resumed"));
    t.on_epoch = [](const train::EpochResult& r) {
      if (r.epoch == 1) throw Stop{};
    };
    CHECK_THROWS_AS(t.run(), Stop);
  }
  {
    Model<SmallNet, Shape<3, 32, 32>, reference> model(4);
    auto o = all_features(root / "resumed");
    o.resume = true;
    train::Trainer t(model, d, o);
    CHECK(t.run().epoch == 3);
    const auto p = model.parameters();
    CHECK(std::equal(p.begin(), p.end(), straight_params.begin(), straight_params.end()));
  }
  const auto a = lines_of(root / "straight" / "metrics.csv"), b = lines_of(root / "resumed" / "metrics.csv");
  REQUIRE(a.size() == 4);
  REQUIRE(b.size() == 4);
  CHECK(a[0] == std::string(train::CsvLog::header) + ",test_acc_tta");
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(without_timing(a[i]) == without_timing(b[i]));
  MESSAGE("all features, last row: " << a.back());
  fs::remove_all(root);
}
