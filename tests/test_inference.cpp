// Tests for the inference API: ctnn/infer/weights.hpp (load_weights without an optimizer, and the
// report of every tensor that does not match) and ctnn/infer/predict.hpp (one image, eval mode,
// float CHW or uint8 HWC input). The expected messages are written out by hand; the prediction
// is checked against a batched evaluation forward and the training-time renderer (other code
// paths). PyTorch parity of a whole prediction is tests/deploy/classify_check.sh's job.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/infer.hpp"
#include "ctnn/io/safetensors.hpp"
#include "ctnn/train/checkpoint.hpp"
#include "error_of.hpp"

namespace fs = std::filesystem;
using namespace ctnn;
using ctnn_test::error_of;

namespace {

using Backend = ctnn::cpu;  // this build's CPU backend: oneDNN, else Eigen, else reference

using In = Shape<3, 16, 16>;
using SmallNet = Sequential<Conv2d<3, 8, 3, 1, 1>, BatchNorm2d, ReLU, MaxPool2d<4, 4>, Flatten, Linear<128, 10>>;
// The same tensors behind another architecture string (a Dropout more, BatchNorm momentum 0.9).
using SameTensors =
    Sequential<Conv2d<3, 8, 3, 1, 1>, BatchNorm<2, 0.9_r>, ReLU, MaxPool2d<4, 4>, Flatten, Linear<128, 10>, Dropout>;
// Linear with 20 outputs: both of its tensors change shape.
using WiderHead = Sequential<Conv2d<3, 8, 3, 1, 1>, BatchNorm2d, ReLU, MaxPool2d<4, 4>, Flatten, Linear<128, 20>>;
// Without the BatchNorm: the Linear moves from index 5 to 4.
using NoBatchNorm = Sequential<Conv2d<3, 8, 3, 1, 1>, ReLU, MaxPool2d<4, 4>, Flatten, Linear<128, 10>>;

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("ctnn_inference_" + std::to_string(std::random_device{}()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

/// A checkpoint as training writes it (SGD momentum state, num_batches_tracked, normalisation),
/// of a SmallNet with seed 5 whose BatchNorm buffers are not the initial 0/1.
fs::path write_checkpoint(const fs::path& dir, Model<SmallNet, In, Backend>& model) {
  auto bufs = model.buffers();
  for (std::size_t i = 0; i < bufs.size(); ++i) bufs[i] = 0.5f + 0.01f * float(i);  // var > 0 too
  SGD sgd(0.1f, 0.9f);
  sgd.momentum_buffer.assign(model.parameters().size(), 0.25f);
  train::TrainState st;
  st.epochs_done = 3;
  st.step = 42;
  st.extra = data::normalize_metadata(data::Normalize{{0.5f, 0.25f, 0.125f}, {0.2f, 0.3f, 0.4f}});
  const fs::path p = dir / "ckpt.safetensors";
  train::save_checkpoint(p, model, train::Optimizer(sgd), st);
  return p;
}

std::vector<float> copy_of(std::span<const float> s) { return {s.begin(), s.end()}; }

}  // namespace

TEST_CASE("load_weights: a training checkpoint loads without an optimizer, metadata and normalisation returned") {
  TempDir tmp;
  Model<SmallNet, In, Backend> src(5);
  const fs::path p = write_checkpoint(tmp.path, src);
  Model<SmallNet, In, Backend> dst(6);  // other seed: other weights
  REQUIRE(copy_of(dst.parameters()) != copy_of(src.parameters()));
  const WeightsInfo info = load_weights(dst, p);
  CHECK(copy_of(dst.parameters()) == copy_of(src.parameters()));
  CHECK(copy_of(dst.buffers()) == copy_of(src.buffers()));
  CHECK(info.metadata.at("ctnn.epochs_done") == "3");
  REQUIRE(info.normalize.has_value());
  CHECK(info.normalize->mean == std::array<float, 3>{0.5f, 0.25f, 0.125f});
  CHECK(info.normalize->std == std::array<float, 3>{0.2f, 0.3f, 0.4f});

  // Another architecture string with the same tensors loads as well (train::load_checkpoint refuses it).
  Model<SameTensors, In, Backend> same(7);
  load_weights(same, p);
  CHECK(copy_of(same.parameters()) == copy_of(src.parameters()));
}

TEST_CASE("load_weights: mis-shaped tensors are named with both shapes; the model is left as it was") {
  TempDir tmp;
  Model<SmallNet, In, Backend> src(5);
  const fs::path p = write_checkpoint(tmp.path, src);
  Model<WiderHead, In, Backend> wide(6);
  const auto before = copy_of(wide.parameters());
  const std::string e = error_of([&] { load_weights(wide, p); });
  CHECK(has(e, p.string() + ": weights do not match the network (2 problems: 2 mis-shaped):"));
  CHECK(has(e, "\n  mis-shaped: '5.weight': file [10, 128], net [20, 128]"));
  CHECK(has(e, "\n  mis-shaped: '5.bias': file [10], net [20]"));
  CHECK(has(e, "the file was written for\n  Conv2d[8,16,16]|"));  // the file's architecture, then the net's
  CHECK(has(e,
            "this network is\n  Conv2d[8,16,16]|BatchNorm2d[8,16,16]|ReLU[8,16,16]|MaxPool2d[8,4,4]|"
            "Flatten[128,1,1]|Linear[20,1,1]"));
  CHECK(copy_of(wide.parameters()) == before);
}

TEST_CASE("load_weights: missing and unexpected tensors are listed; strict=false tolerates only the extra ones") {
  TempDir tmp;
  Model<SmallNet, In, Backend> src(5);
  const fs::path p = write_checkpoint(tmp.path, src);
  Model<NoBatchNorm, In, Backend> net(6);
  const std::string e = error_of([&] { load_weights(net, p); });
  CHECK(has(e, "(8 problems: 2 missing, 6 unexpected):"));
  CHECK(has(e, "\n  missing:    '4.weight' (net: [10, 128]) is not in the file"));
  CHECK(has(e, "\n  missing:    '4.bias' (net: [10]) is not in the file"));
  for (const char* extra : {"'1.weight' [8]", "'1.bias' [8]", "'1.running_mean' [8]", "'1.running_var' [8]",
                            "'5.weight' [10, 128]", "'5.bias' [10]"})
    CHECK_MESSAGE(has(e, std::string("\n  unexpected: ") + extra + " is in the file but not in the net"), extra);
  // Not weights: the optimizer's state and BatchNorm's step counter are never reported.
  CHECK(!has(e, "optimizer"));
  CHECK(!has(e, "num_batches_tracked"));

  const std::string lax = error_of([&] { load_weights(net, p, {.strict = false}); });
  CHECK(has(lax, "(2 problems: 2 missing):"));
  CHECK(!has(lax, "unexpected"));

  // A file with exactly the net's tensors plus one extra loads when not strict.
  io::SafetensorsFile f = io::load_safetensors(p);
  Model<SmallNet, In, Backend> dst(9);
  f.tensors.push_back(io::TensorRecord::from_floats("head.extra", {2}, std::vector<float>{1, 2}));
  io::save_safetensors_atomic(tmp.path / "extra.safetensors", f);
  CHECK(has(error_of([&] { load_weights(dst, tmp.path / "extra.safetensors"); }),
            "\n  unexpected: 'head.extra' [2] is in the file but not in the net"));
  load_weights(dst, tmp.path / "extra.safetensors", {.strict = false});
  CHECK(copy_of(dst.parameters()) == copy_of(src.parameters()));
}

TEST_CASE("load_weights: wrong dtype, unreadable files and bad normalisation metadata") {
  TempDir tmp;
  Model<SmallNet, In, Backend> src(5);
  const fs::path p = write_checkpoint(tmp.path, src);
  Model<SmallNet, In, Backend> dst(6);

  io::SafetensorsFile f = io::load_safetensors(p);
  for (auto& t : f.tensors)
    if (t.name == "0.bias") {  // 8 floats -> 8 bf16 (the upper halves)
      std::vector<std::byte> half;
      for (std::size_t i = 0; i < t.data.size(); i += 4) half.insert(half.end(), {t.data[i + 2], t.data[i + 3]});
      t.dtype = "BF16";
      t.data = half;
    }
  io::save_safetensors_atomic(tmp.path / "bf16.safetensors", f);
  CHECK(has(error_of([&] { load_weights(dst, tmp.path / "bf16.safetensors"); }),
            "(1 problem: 1 wrong type):\n  wrong type: '0.bias' is BF16, expected F32"));

  CHECK(has(error_of([&] { load_weights(dst, tmp.path / "absent.safetensors"); }), "absent.safetensors"));

  f = io::load_safetensors(p);
  f.metadata["normalize.std"] = "0.2,0.3";
  io::save_safetensors_atomic(tmp.path / "norm.safetensors", f);
  const auto before = copy_of(dst.parameters());
  CHECK(has(error_of([&] { load_weights(dst, tmp.path / "norm.safetensors"); }),
            "malformed normalisation metadata: normalize.mean='0.5,0.25,0.125', normalize.std='0.2,0.3'"));
  CHECK(copy_of(dst.parameters()) == before);

  f.metadata.erase("normalize.std");  // no normalisation recorded: nullopt, not an error
  io::save_safetensors_atomic(tmp.path / "nonorm.safetensors", f);
  CHECK(!load_weights(dst, tmp.path / "nonorm.safetensors").normalize.has_value());
}

TEST_CASE("predict: one image in eval mode equals that image's row of a batched evaluation; mode restored") {
  using Net = Sequential<Conv2d<3, 8, 3, 1, 1>, BatchNorm2d, ReLU, MaxPool2d<4, 4>, Flatten, Linear<128, 32>,
                         BatchNorm1d, ReLU, Dropout, Linear<32, 10>>;
  Model<Net, In, Backend> model(3);
  auto bufs = model.buffers();
  for (std::size_t i = 0; i < bufs.size(); ++i) bufs[i] = 0.3f + 0.02f * float(i % 17);
  std::mt19937 rng(1);
  std::normal_distribution<float> g;
  std::vector<float> batch(4 * In::size);
  for (auto& v : batch) v = g(rng);

  model.eval();
  const auto rows = copy_of(model.forward(batch, 4));
  model.train();  // predict must not use batch statistics or dropout
  for (int k = 0; k < 4; ++k) {
    const Prediction p = predict(model, std::span<const float>(batch).subspan(k * In::size, In::size));
    REQUIRE(p.logits.size() == 10);
    for (int j = 0; j < 10; ++j) CHECK(p.logits[j] == doctest::Approx(rows[k * 10 + j]).epsilon(1e-5));
    // softmax: sums to 1, log-ratios are the logit differences
    double sum = 0;
    for (float q : p.probabilities) sum += q;
    CHECK(sum == doctest::Approx(1.0).epsilon(1e-6));
    for (int j = 1; j < 10; ++j)
      CHECK(std::log(double(p.probabilities[j]) / p.probabilities[0]) ==
            doctest::Approx(double(p.logits[j]) - p.logits[0]).epsilon(1e-4));
  }
  CHECK(model.training());
  CHECK(has(error_of([&] { predict(model, std::span<const float>(batch).first(10)); }),
            "predict: the image holds 10 values, the net takes 3 x 16 x 16 = 768"));
}

TEST_CASE("predict: an HWC uint8 image is normalised exactly as the training renderer does it") {
  using Net32 = Sequential<Conv2d<3, 4, 3, 1, 1>, ReLU, MaxPool2d<8, 8>, Flatten, Linear<64, 10>>;
  Model<Net32, Shape<3, 32, 32>, Backend> model(4);
  const data::Normalize norm{{0.49f, 0.48f, 0.45f}, {0.25f, 0.24f, 0.26f}};
  std::mt19937 rng(2);
  std::vector<std::uint8_t> chw(3 * 32 * 32), hwc(chw.size());
  for (auto& v : chw) v = std::uint8_t(rng() & 0xff);
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 1024; ++i) hwc[i * 3 + c] = chw[c * 1024 + i];
  std::vector<float> rendered(chw.size());
  data::render_image(chw.data(), norm, false, 0, 0, 0, rendered.data());  // the CHW path training uses
  const Prediction a = predict(model, HwcImage{hwc, 32, 32, 3}, norm);
  const Prediction b = predict(model, std::span<const float>(rendered));
  CHECK(a.logits == b.logits);
  CHECK(has(error_of([&] {
              predict(model, HwcImage{hwc, 16, 64, 3}, norm);
            }),
            "predict: image is 64x16 with 3 channels, the net takes 32x32 with 3 (resize it first)"));
}

TEST_CASE("Prediction::top: most probable first, ties by index, k clamped") {
  Prediction p;
  p.probabilities = {0.1f, 0.3f, 0.05f, 0.3f, 0.25f};
  const auto t = p.top(3);
  REQUIRE(t.size() == 3);
  CHECK(t[0] == std::pair{1, 0.3f});
  CHECK(t[1] == std::pair{3, 0.3f});
  CHECK(t[2] == std::pair{4, 0.25f});
  CHECK(p.top(10).size() == 5);
  CHECK(p.label() == 1);
}
