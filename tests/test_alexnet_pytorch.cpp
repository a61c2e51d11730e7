// The whole seed AlexNet against PyTorch (tests/reference/alexnet.safetensors): parameters from
// the reference formula, train mode with dropout disabled, batch 8 of 3×32×32.
//
// CONDITIONING — read before changing tolerances. In the formula state this net is numerically
// chaotic: the conv outputs have tiny per-channel variances (down to ~1e-3), so each train-mode
// BatchNorm amplifies rounding noise, and the gradients explode towards the input (‖∇features.4.weight‖
// ≈ 5e3 for ‖weight‖ ≈ 8). Measured with torch 1.13 (tests/reference/make_reference.py's model):
//   * PyTorch float32 vs PyTorch float64: logits differ by up to 5e-4; the gradients of
//     classifier.4 and every layer before it differ by 24–107 % (‖Δ‖/‖g‖), features.0.weight by
//     81 %, while classifier.8's differ by 0.2 % (weight) and 4e-5 (bias);
//   * even in float64, a 1e-7 relative perturbation of x changes ∇features.0.weight by 2 %;
//   * so after one optimizer step (lr 0.01 on those gradients) PyTorch float32 and float64 runs part:
//     SGD's loss before step 2 is 2.1892 (float32, stored) vs 2.2485 (float64).
// The stored gradients of the early layers and the stored optimizer trajectories are therefore
// float32 rounding noise of one particular implementation; no other float32 implementation can
// match them to 1e-4 (the reference backend is closer to PyTorch's float64 result than PyTorch's own
// float32 result is). The default tests compare what is well-conditioned at tight tolerances and
// what is moderately conditioned at tolerances derived from the float32-vs-float64 spread above;
// the rest is in a skip()ped test case that checks every stored tensor at 1e-4 — run it with
// `--no-skip` once the reference is regenerated in a well-conditioned state.
//
// Runtime: the reference backend needs ~5–10 s per forward+backward of this net at batch 8
// (Release), so the default tests do 5 of them: one for gradients, then steps 1 and 2 of SGD and
// Adam (their step 0 reuses the first pass's gradients, which are a pure function of the formula
// state and x). Runs on every CTNN_TEST_BACKENDS.
#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "alexnet.hpp"
#include "helpers.hpp"

using namespace ctnn;
using namespace ctnn_test;

namespace {

constexpr int kBatch = 8;
constexpr int kClasses = 10;

// Well-conditioned quantities (loss, ∇classifier.8.bias, running statistics): like the layer tests.
constexpr double kRel = 1e-4;
constexpr double kAbs = 1e-5;
// Logits and ∇classifier.8.weight: PyTorch float32 differs from float64 by up to 5e-4 (logits) and
// the reference backend from PyTorch float32 by up to 9e-4 (values up to 0.4). A wrong layer changes
// them by O(0.01–0.1) (e.g. the unbiased variance in BatchNorm1d's normalisation: ~7 %).
constexpr double kLogitsAbs = 2e-3;

template <class B>
using AlexModel = Model<AlexNetCifar, AlexNetInput, B>;

/// A model in the reference state: formula parameters, train mode, dropout off.
template <class B>
void reset(AlexModel<B>& model) {
  REQUIRE(set_formula_parameters(model) == 30);
  model.train();
  model.set_dropout(0);
}

/// forward + loss + backward; returns the loss (and the logits if asked).
template <class B>
double forward_backward(AlexModel<B>& model, const std::vector<float>& x, const std::vector<std::int32_t>& labels,
                        std::vector<float>* logits_out = nullptr) {
  const auto logits = model.forward(x, kBatch);
  if (logits_out) logits_out->assign(logits.begin(), logits.end());
  std::vector<float> dlogits(logits.size());
  const double loss = CrossEntropyLoss{}(logits, labels, kClasses, dlogits).loss;
  model.backward(dlogits);
  return loss;
}

/// The gradients and loss of the formula state (identical for every fresh model), computed once
/// per backend and shared by the optimizer runs.
template <class B>
struct Step0 {
  bool ready = false;
  double loss = 0;
  std::vector<float> grads;
  static Step0& get() {
    static Step0 s;
    return s;
  }
  void store(double l, std::span<const float> g) { ready = true, loss = l, grads.assign(g.begin(), g.end()); }
};

/// 3 steps of `opt` from a fresh formula model, the same x and labels each step. Returns the loss
/// before each step; the model holds the parameters after the third.
template <class B, class Opt>
std::vector<float> run_optimizer(AlexModel<B>& model, Opt& opt, const io::SafetensorsFile& ref) {
  const auto x = get(ref, "x");
  const auto labels = get_labels(ref, "labels");
  reset(model);
  auto& s0 = Step0<B>::get();
  std::vector<float> losses;
  for (int step = 0; step < 3; ++step) {
    if (step == 0 && s0.ready) {
      losses.push_back(float(s0.loss));
      std::copy(s0.grads.begin(), s0.grads.end(), model.gradients().begin());
    } else {
      const double loss = forward_backward(model, x, labels);
      if (step == 0) s0.store(loss, model.gradients());
      losses.push_back(float(loss));
    }
    opt.step(model.parameters(), model.gradients());
  }
  return losses;
}

}  // namespace

TEST_CASE("AlexNetCifar: parameter count, shapes, names and summary") {
  static_assert(parameter_count<AlexNetCifar, AlexNetInput>() == 2091274);
  CHECK(parameter_count<AlexNetCifar, AlexNetInput>() == 2091274);
  static_assert(std::is_same_v<output_shape_t<AlexNetCifar, AlexNetInput>, Shape<10>>);
  static_assert(std::is_same_v<std::tuple_element_t<18, nodes_t<AlexNetCifar, AlexNetInput>>::out, Shape<4608>>);
  const std::string s = summary<AlexNetCifar, AlexNetInput>();
  CHECK_MESSAGE(s.find("Total params: 2,091,274") != std::string::npos, s);
  CHECK(module_path<AlexNetCifar, AlexNetInput>(0) == "features.0");
  CHECK(module_path<AlexNetCifar, AlexNetInput>(17) == "features.17");
  CHECK(module_path<AlexNetCifar, AlexNetInput>(19) == "classifier.0");
  CHECK(module_path<AlexNetCifar, AlexNetInput>(27) == "classifier.8");
}

TEST_CASE_TEMPLATE("AlexNetCifar matches PyTorch: logits, loss, gradients, running statistics", B,
                   CTNN_TEST_BACKENDS) {
  const auto ref = load_reference("alexnet.safetensors");
  REQUIRE(ref.metadata.at("num_params") == "2091274");
  AlexModel<B> model;
  reset(model);
  // Spot checks of the formula (double-precision sin, rounded to float: bit-exact or 1 ulp).
  check_close(tensor(model, "features.0.weight"), get(ref, "param.features.0.weight"), 2e-7, 0,
              "formula: features.0.weight");
  check_close(tensor(model, "classifier.8.bias"), get(ref, "param.classifier.8.bias"), 2e-7, 0,
              "formula: classifier.8.bias");
  std::size_t trainable = 0;
  for (const auto& t : model.named_tensors()) trainable += t.trainable ? t.data.size() : 0;
  CHECK(trainable == 2091274);

  const auto x = get(ref, "x");
  const auto labels = get_labels(ref, "labels");
  REQUIRE(x.size() == kBatch * AlexNetInput::size);
  std::vector<float> logits;
  const float loss = float(forward_backward(model, x, labels, &logits));
  Step0<B>::get().store(loss, model.gradients());

  check_close(logits, get(ref, "logits"), kRel, kLogitsAbs, "logits");
  check_close(std::span(&loss, 1), get(ref, "loss"), kRel, kAbs, "loss");
  check_close(grad(model, "classifier.8.bias"), get(ref, "grad.classifier.8.bias"), kRel, kAbs,
              "grad classifier.8.bias");
  check_close(grad(model, "classifier.8.weight"), get(ref, "grad.classifier.8.weight"), kRel, kLogitsAbs,
              "grad classifier.8.weight");
  // Biases directly followed by a train-mode BatchNorm: mathematically zero gradient; PyTorch's
  // values are rounding noise (|g| < 1e-5), so only an absolute tolerance makes sense.
  for (const char* n : {"features.0.bias", "features.14.bias", "classifier.0.bias"}) {
    check_close(grad(model, n), get(ref, std::string("grad.") + n), 0, 2e-5, std::string("grad (zero) ") + n);
    check_close(grad(model, n), std::vector<float>(tensor(model, n).size(), 0.f), 0, 2e-5,
                std::string("grad (zero) ") + n + " vs 0");
  }
  // features.0.weight and features.1.weight: see CONDITIONING at the top; only sanity here
  // (finite, not all zero). The layer tests and test_finite_differences check these gradients.
  for (const char* n : {"features.0.weight", "features.1.weight"}) {
    const auto g = grad(model, n);
    CHECK_MESSAGE(std::all_of(g.begin(), g.end(), [](float v) { return std::isfinite(v); }), n);
    CHECK_MESSAGE(std::any_of(g.begin(), g.end(), [](float v) { return v != 0; }), n);
  }
  for (const char* m : {"features.1", "classifier.5"}) {
    check_close(tensor(model, std::string(m) + ".running_mean"), get(ref, std::string("running_mean.") + m), kRel,
                kAbs, std::string(m) + ".running_mean");
    check_close(tensor(model, std::string(m) + ".running_var"), get(ref, std::string("running_var.") + m), kRel,
                kAbs, std::string(m) + ".running_var");
  }
}

// After 3 steps only classifier.8.bias is well-conditioned: its gradient is mean(softmax) − mean(onehot)
// and the softmax stays near-uniform (loss ≈ ln 10), so it tests the update rules end to end.
// (PyTorch float32 vs float64 differ by 2.3e-5 after SGD, 9.1e-5 after Adam, whose updates
// ≈ lr·sign(g) magnify small gradients.) A wrong rule moves it by ~1e-3: SGD without momentum by
// 0.01·2.6·|g| ≈ 2.6e-3, Adam without bias correction by ~2e-3 in the first step.
TEST_CASE_TEMPLATE("AlexNetCifar: 3 steps of SGD (momentum 0.9, weight decay 5e-4) match PyTorch", B,
                   CTNN_TEST_BACKENDS) {
  const auto ref = load_reference("alexnet.safetensors");
  AlexModel<B> model;
  SGD opt(0.01f, 0.9f, 0.f, 5e-4f, false);
  const auto losses = run_optimizer(model, opt, ref);
  const auto expected = get(ref, "sgd.loss");
  check_close(std::span(losses).first(1), std::span(expected).first(1), kRel, kAbs, "sgd: loss before step 1");
  CHECK_MESSAGE(losses[2] < losses[0], "sgd: the loss should fall over 3 steps");
  check_close(tensor(model, "classifier.8.bias"), get(ref, "sgd.classifier.8.bias"), 0, 1e-4,
              "sgd: classifier.8.bias after 3 steps");
}

TEST_CASE_TEMPLATE("AlexNetCifar: 3 steps of Adam match PyTorch", B, CTNN_TEST_BACKENDS) {
  const auto ref = load_reference("alexnet.safetensors");
  AlexModel<B> model;
  Adam opt(1e-3f);
  const auto losses = run_optimizer(model, opt, ref);
  const auto expected = get(ref, "adam.loss");
  check_close(std::span(losses).first(1), std::span(expected).first(1), kRel, kAbs, "adam: loss before step 1");
  CHECK_MESSAGE(losses[2] < losses[0], "adam: the loss should fall over 3 steps");
  check_close(tensor(model, "classifier.8.bias"), get(ref, "adam.classifier.8.bias"), 0, 5e-4,
              "adam: classifier.8.bias after 3 steps");
}

// Every stored tensor at the layer tests' tolerance. FAILS with the current reference data (see
// CONDITIONING at the top): kept, skipped by default, for a regenerated, well-conditioned reference.
TEST_CASE_TEMPLATE("AlexNetCifar: every stored tensor at 1e-4 (needs a well-conditioned reference)" * doctest::skip(),
                   B, CTNN_TEST_BACKENDS) {
  const auto ref = load_reference("alexnet.safetensors");
  const auto x = get(ref, "x");
  const auto labels = get_labels(ref, "labels");
  {
    AlexModel<B> model;
    reset(model);
    std::vector<float> logits;
    forward_backward(model, x, labels, &logits);
    check_close(logits, get(ref, "logits"), kRel, kAbs, "logits");
    for (const char* n : {"features.0.weight", "features.0.bias", "features.1.weight", "features.14.bias",
                          "classifier.0.bias", "classifier.8.weight", "classifier.8.bias"})
      check_close(grad(model, n), get(ref, std::string("grad.") + n), kRel, kAbs, std::string("grad ") + n);
  }
  auto run = [&](auto opt, const std::string& prefix, std::initializer_list<const char*> names) {
    AlexModel<B> model;
    const auto losses = run_optimizer(model, opt, ref);
    check_close(losses, get(ref, prefix + ".loss"), kRel, kAbs, prefix + ": losses");
    for (const char* n : names)
      check_close(tensor(model, n), get(ref, prefix + "." + n), kRel, kAbs, prefix + ": " + n + " after 3 steps");
  };
  run(SGD(0.01f, 0.9f, 0.f, 5e-4f, false), "sgd",
      {"features.0.weight", "classifier.8.weight", "classifier.8.bias", "features.1.weight"});
  run(SGD(0.01f, 0.9f, 0.f, 0.f, true), "sgdn", {"classifier.8.weight"});
  run(Adam(1e-3f), "adam", {"features.0.weight", "classifier.8.weight", "classifier.8.bias"});
}

// The update rules on a small, well-conditioned problem: 6 parameters, 3 steps with given
// gradients, against torch.optim (torch 1.13, float32; values printed with 9 significant digits).
TEST_CASE("SGD and Adam update rules match torch.optim step by step") {
  const std::vector<float> p0 = {0.5f, -1.f, 2.f, 0.f, 0.00100000005f, -0.25f};
  const std::vector<std::vector<float>> g = {
      {0.100000001f, -0.200000003f, 0.300000012f, 0.f, 9.99999975e-05f, -5.f},
      {0.0500000007f, 0.100000001f, -0.400000006f, 0.00100000005f, -0.000199999995f, 4.f},
      {-0.300000012f, 0.200000003f, 0.100000001f, -0.00100000005f, 0.000300000014f, -3.f}};
  struct Case {
    const char* name;
    std::function<void(std::span<float>, std::span<const float>)> step;
    std::vector<std::vector<float>> expected;  // parameters after each step
  };
  auto sgd = [](SGD o) { return [o](std::span<float> p, std::span<const float> g) mutable { o.step(p, g); }; };
  auto adam = [](Adam o) { return [o](std::span<float> p, std::span<const float> g) mutable { o.step(p, g); }; };
  const std::vector<Case> cases = {
      {"SGD(lr 0.01, momentum 0.9, weight_decay 5e-4)", sgd(SGD(0.01f, 0.9f, 0.f, 5e-4f, false)),
       {{0.498997509f, -0.997995019f, 1.99698997f, 0.f, 0.000998995034f, -0.199998751f},
        {0.497592777f, -0.997185528f, 1.99827099f, -1.00000007e-05f, 0.0010000855f, -0.194996625f},
        {0.49932602f, -0.998452008f, 1.99841392f, -8.9999503e-06f, 0.000998061965f, -0.160493731f}}},
      {"SGD(lr 0.01, momentum 0.9, nesterov)", sgd(SGD(0.01f, 0.9f, 0.f, 0.f, true)),
       {{0.498100013f, -0.996200025f, 1.99430001f, 0.f, 0.000998100033f, -0.155000001f},
        {0.496340007f, -0.996480048f, 1.99947f, -1.89999992e-05f, 0.00100109004f, -0.190500006f},
        {0.500905991f, -0.999632061f, 1.99862301f, -8.09999892e-06f, 0.000996281044f, -0.129450008f}}},
      {"SGD(lr 0.1, momentum 0.9, nesterov, weight_decay 1e-2)", sgd(SGD(0.1f, 0.9f, 0.f, 1e-2f, true)),
       {{0.480049998f, -0.960099995f, 1.93920004f, 0.f, 0.000979100005f, 0.700475037f},
        {0.461132914f, -0.960265815f, 1.98559558f, -0.000190000006f, 0.00100632966f, 0.344346613f},
        {0.505163431f, -0.98845464f, 1.97032416f, -8.06389944e-05f, 0.000954805582f, 0.953807235f}}},
      {"SGD(lr 0.1, momentum 0.9, dampening 0.5)", sgd(SGD(0.1f, 0.9f, 0.5f, 0.f, false)),
       {{0.49000001f, -0.980000019f, 1.97000003f, 0.f, 0.000990000088f, 0.25f},
        {0.478500009f, -0.967000008f, 1.96300006f, -5.00000024e-05f, 0.000991000095f, 0.5f},
        {0.483150005f, -0.965300024f, 1.95170009f, -4.50000007e-05f, 0.000976900104f, 0.875f}}},
      {"SGD(lr 0.1)", sgd(SGD(0.1f)),
       {{0.49000001f, -0.980000019f, 1.97000003f, 0.f, 0.000990000088f, 0.25f},
        {0.485000014f, -0.99000001f, 2.00999999f, -0.000100000005f, 0.00101000012f, -0.150000006f},
        {0.515000045f, -1.00999999f, 2.f, 1.49011619e-12f, 0.000980000128f, 0.150000006f}}},
      {"Adam(lr 1e-3)", adam(Adam(1e-3f)),
       {{0.499000013f, -0.999000013f, 1.99899995f, 0.f, 1.00117177e-07f, -0.248999998f},
        {0.498067826f, -0.998733699f, 1.99919343f, -0.000744126271f, 0.000366180553f, -0.248941869f},
        {0.498415053f, -0.999006391f, 1.99921477f, -0.000698944554f, 2.29553261e-05f, -0.248629987f}}},
      {"Adam(lr 1e-2, betas (0.8, 0.99), eps 1e-6, weight_decay 1e-2)", adam(Adam(1e-2f, 0.8f, 0.99f, 1e-6f, 1e-2f)),
       {{0.490000099f, -0.990000069f, 1.99000001f, 0.f, -0.00890990999f, -0.239999995f},
        {0.480776608f, -0.987317085f, 1.99196148f, -0.00782603584f, -0.00383469043f, -0.239994586f},
        {0.484868973f, -0.990370393f, 1.9916743f, -0.00648805173f, -0.0055898428f, -0.236972719f}}},
  };
  for (auto c : cases) {
    std::vector<float> p = p0;
    for (int t = 0; t < 3; ++t) {
      c.step(p, g[t]);
      // float32 on both sides; 1e-9 absolute for values that are differences of nearly equal numbers.
      check_close(p, c.expected[t], 1e-6, 1e-9, std::string(c.name) + ": after step " + std::to_string(t + 1));
    }
  }
}
