// The training features of the better presets, each against PyTorch's definition
// (tests/reference/training.safetensors, written by tests/reference/make_training_reference.py):
// SGD Nesterov and Adam with weight decay on Conv2d/Linear weights only (two param groups),
// OneCycleLR, label smoothing, zero and reflect padded crops, flip TTA, the EMA of the weights.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/optim/param_groups.hpp"
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
