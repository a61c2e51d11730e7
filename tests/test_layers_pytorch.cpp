// Every layer against PyTorch (tests/reference/*.safetensors, see tests/reference/README.md):
// one-layer models are given the reference parameters and input; the forward output, the input
// gradient, the parameter gradients and BatchNorm's running statistics must match within 1e-4
// relative (plus a 1e-5 absolute floor for values near zero). Runs on every CTNN_TEST_BACKENDS.
#include <initializer_list>
#include <string>
#include <vector>

#include "helpers.hpp"

using namespace ctnn;
using namespace ctnn_test;

namespace {

constexpr double kRel = 1e-4;  // relative tolerance of every comparison with PyTorch
constexpr double kAbs = 1e-5;  // absolute floor: values near zero (cancellation, rounding noise)

std::string csv(std::initializer_list<int> v) {
  std::string s;
  for (int x : v) s += (s.empty() ? "" : ",") + std::to_string(x);
  return s;
}

/// A one-layer model given the reference tensors `{prefix}{p}` for each p in params (by PyTorch
/// name "0.<p>"), run forward on `{prefix}x` (batch n) and backward with `{prefix}dy`; compares
/// y, dx and `{prefix}d<p>` with the model's gradients.
template <class Layer, class In, class B>
void check_layer(const io::SafetensorsFile& ref, const std::string& prefix, int n,
                 std::initializer_list<const char*> params, const std::string& what) {
  Model<Sequential<Layer>, In, B> model;
  model.train();
  for (const char* p : params) set_tensor(model, std::string("0.") + p, get(ref, prefix + p));
  const auto x = get(ref, prefix + "x");
  REQUIRE(x.size() == std::size_t(n) * In::size);
  const auto y = model.forward(x, n);
  check_close(y, get(ref, prefix + "y"), kRel, kAbs, what + ": y");
  std::vector<float> dx(x.size(), -1.f);
  model.backward(get(ref, prefix + "dy"), dx);
  check_close(dx, get(ref, prefix + "dx"), kRel, kAbs, what + ": dx");
  for (const char* p : params)
    check_close(grad(model, std::string("0.") + p), get(ref, prefix + "d" + p), kRel, kAbs, what + ": d" + p);
}

}  // namespace

TEST_CASE_TEMPLATE("Conv2d matches PyTorch (case a: 3->4, k3, s1, p1)", B, CTNN_TEST_BACKENDS) {
  using L = Conv2d<3, 4, 3, 1, 1>;
  const auto ref = load_reference("conv2d.safetensors");
  REQUIRE(ref.metadata.at("a.config") == csv({L::in_channels, L::out_channels, L::kernel_size, L::stride, L::padding}));
  check_layer<L, Shape<3, 6, 6>, B>(ref, "a.", 2, {"weight", "bias"}, "conv2d a");
}

TEST_CASE_TEMPLATE("Conv2d matches PyTorch (case b: 4->5, k5, s2, p2)", B, CTNN_TEST_BACKENDS) {
  using L = Conv2d<4, 5, 5, 2, 2>;
  const auto ref = load_reference("conv2d.safetensors");
  REQUIRE(ref.metadata.at("b.config") == csv({L::in_channels, L::out_channels, L::kernel_size, L::stride, L::padding}));
  check_layer<L, Shape<4, 9, 9>, B>(ref, "b.", 2, {"weight", "bias"}, "conv2d b");
}

TEST_CASE_TEMPLATE("Linear matches PyTorch (12->5)", B, CTNN_TEST_BACKENDS) {
  using L = Linear<12, 5>;
  const auto ref = load_reference("linear.safetensors");
  REQUIRE(ref.metadata.at("config") == csv({L::in_features, L::out_features}));
  check_layer<L, Shape<12>, B>(ref, "", 4, {"weight", "bias"}, "linear");
}

namespace {

/// BatchNorm (layer type L on sample shape In, batch n) against a reference file: train-mode
/// forward/backward from the "before" running stats, the updated running stats, then an
/// eval-mode forward of x_eval with those stats (which eval mode must not change).
template <class L, class In, class B>
void check_batchnorm(const io::SafetensorsFile& ref, int n, const std::string& what) {
  Model<Sequential<L>, In, B> model;
  set_tensor(model, "0.running_mean", get(ref, "running_mean_before"));
  set_tensor(model, "0.running_var", get(ref, "running_var_before"));
  set_tensor(model, "0.weight", get(ref, "weight"));
  set_tensor(model, "0.bias", get(ref, "bias"));
  model.train();
  const auto x = get(ref, "x");
  REQUIRE(x.size() == std::size_t(n) * In::size);
  check_close(model.forward(x, n), get(ref, "y"), kRel, kAbs, what + " train: y");
  std::vector<float> dx(x.size(), -1.f);
  model.backward(get(ref, "dy"), dx);
  check_close(dx, get(ref, "dx"), kRel, kAbs, what + " train: dx");
  check_close(grad(model, "0.weight"), get(ref, "dweight"), kRel, kAbs, what + " train: dweight");
  check_close(grad(model, "0.bias"), get(ref, "dbias"), kRel, kAbs, what + " train: dbias");
  check_close(tensor(model, "0.running_mean"), get(ref, "running_mean_after"), kRel, kAbs, what + ": running_mean");
  check_close(tensor(model, "0.running_var"), get(ref, "running_var_after"), kRel, kAbs, what + ": running_var");

  model.eval();
  CHECK_FALSE(model.training());
  const auto mean_span = tensor(model, "0.running_mean"), var_span = tensor(model, "0.running_var");
  const std::vector<float> mean_before(mean_span.begin(), mean_span.end()),
      var_before(var_span.begin(), var_span.end());
  check_close(model.forward(get(ref, "x_eval"), n), get(ref, "y_eval"), kRel, kAbs, what + " eval: y_eval");
  // Eval mode must leave the running statistics exactly as training left them.
  check_close(tensor(model, "0.running_mean"), mean_before, 0, 0, what + " eval: running_mean kept");
  check_close(tensor(model, "0.running_var"), var_before, 0, 0, what + " eval: running_var kept");
}

}  // namespace

TEST_CASE_TEMPLATE("BatchNorm2d matches PyTorch (train, running stats, eval)", B, CTNN_TEST_BACKENDS) {
  const auto ref = load_reference("batchnorm2d.safetensors");
  REQUIRE(ref.metadata.at("momentum") == "0.1");
  check_batchnorm<BatchNorm2d, Shape<3, 5, 5>, B>(ref, 4, "batchnorm2d");
}

TEST_CASE_TEMPLATE("BatchNorm2d with momentum 0.9 matches PyTorch", B, CTNN_TEST_BACKENDS) {
  const auto ref = load_reference("batchnorm2d.safetensors");
  REQUIRE(ref.metadata.at("m09.momentum") == "0.9");
  Model<Sequential<BatchNorm<2, 0.9_r>>, Shape<3, 5, 5>, B> model;
  set_tensor(model, "0.weight", get(ref, "weight"));
  set_tensor(model, "0.bias", get(ref, "bias"));
  set_tensor(model, "0.running_mean", get(ref, "running_mean_before"));
  set_tensor(model, "0.running_var", get(ref, "running_var_before"));
  model.train();
  const auto y = model.forward(get(ref, "x"), 4);
  check_close(y, get(ref, "m09.y"), kRel, kAbs, "batchnorm2d m0.9: y");
  check_close(tensor(model, "0.running_mean"), get(ref, "m09.running_mean_after"), kRel, kAbs,
              "batchnorm2d m0.9: running_mean");
  check_close(tensor(model, "0.running_var"), get(ref, "m09.running_var_after"), kRel, kAbs,
              "batchnorm2d m0.9: running_var");
}

TEST_CASE_TEMPLATE("BatchNorm1d matches PyTorch (train, running stats, eval)", B, CTNN_TEST_BACKENDS) {
  const auto ref = load_reference("batchnorm1d.safetensors");
  check_batchnorm<BatchNorm1d, Shape<6>, B>(ref, 5, "batchnorm1d");
}

TEST_CASE_TEMPLATE("MaxPool2d matches PyTorch (a: k2 s2)", B, CTNN_TEST_BACKENDS) {
  const auto ref = load_reference("maxpool2d.safetensors");
  REQUIRE(ref.metadata.at("a.config") == "2,2");
  check_layer<MaxPool2d<2, 2>, Shape<3, 6, 6>, B>(ref, "a.", 2, {}, "maxpool2d a");
}

TEST_CASE_TEMPLATE("MaxPool2d matches PyTorch (b: k3 s2, overlapping windows)", B, CTNN_TEST_BACKENDS) {
  const auto ref = load_reference("maxpool2d.safetensors");
  REQUIRE(ref.metadata.at("b.config") == "3,2");
  check_layer<MaxPool2d<3, 2>, Shape<3, 7, 7>, B>(ref, "b.", 2, {}, "maxpool2d b");
}

TEST_CASE_TEMPLATE("MaxPool2d matches PyTorch (c: k2 s1, overlapping windows)", B, CTNN_TEST_BACKENDS) {
  const auto ref = load_reference("maxpool2d.safetensors");
  REQUIRE(ref.metadata.at("c.config") == "2,1");
  check_layer<MaxPool2d<2, 1>, Shape<2, 5, 5>, B>(ref, "c.", 1, {}, "maxpool2d c");
}

TEST_CASE_TEMPLATE("ReLU matches PyTorch", B, CTNN_TEST_BACKENDS) {
  const auto ref = load_reference("activations.safetensors");
  check_layer<ReLU, Shape<7>, B>(ref, "relu.", 3, {}, "relu");
}

TEST_CASE_TEMPLATE("Sigmoid matches PyTorch", B, CTNN_TEST_BACKENDS) {
  const auto ref = load_reference("activations.safetensors");
  check_layer<Sigmoid, Shape<7>, B>(ref, "sigmoid.", 3, {}, "sigmoid");
}

TEST_CASE("CrossEntropyLoss matches PyTorch (mean reduction, large logits)") {
  const auto ref = load_reference("cross_entropy.safetensors");
  REQUIRE(ref.metadata.at("reduction") == "mean");
  const auto logits = get(ref, "logits");
  const auto target = get_labels(ref, "target");
  const int classes = int(logits.size() / target.size());
  REQUIRE(classes == 10);
  std::vector<float> dlogits(logits.size(), -1.f);
  const LossResult r = CrossEntropyLoss{}(logits, target, classes, dlogits);
  const float loss = float(r.loss);
  check_close(std::span(&loss, 1), get(ref, "loss"), kRel, kAbs, "cross_entropy: loss");
  check_close(dlogits, get(ref, "dlogits"), kRel, kAbs, "cross_entropy: dlogits");
  int correct = 0;  // arg-max (first on ties) equal to the target
  for (std::size_t b = 0; b < target.size(); ++b) {
    int arg = 0;
    for (int k = 1; k < classes; ++k)
      if (logits[b * classes + k] > logits[b * classes + arg]) arg = k;
    correct += arg == target[b];
  }
  CHECK(r.correct == correct);
  // Without dlogits the loss is the same.
  CHECK(CrossEntropyLoss{}(logits, target, classes).loss == r.loss);
}

TEST_CASE_TEMPLATE("Dropout: identity in eval mode and with set_dropout(0); inverted scaling in training", B,
                   CTNN_TEST_BACKENDS) {
  constexpr int n = 16;
  Model<Sequential<Dropout>, Shape<64>, B> model(7);
  const auto x = uniform(n * 64, 11, 0.5f, 1.5f);  // no zeros, so a dropped value is recognisable
  const auto dy = uniform(n * 64, 12);
  std::vector<float> dx(x.size());

  model.eval();
  check_close(model.forward(x, n), x, 0, 0, "dropout eval: y == x");
  model.backward(dy, dx);
  check_close(dx, dy, 0, 0, "dropout eval: dx == dy");

  model.train();
  model.set_dropout(0);
  check_close(model.forward(x, n), x, 0, 0, "dropout p=0: y == x");
  model.backward(dy, dx);
  check_close(dx, dy, 0, 0, "dropout p=0: dx == dy");

  model.set_dropout(-1);  // back to the layer's p = 0.5
  const auto y = model.forward(x, n);
  model.backward(dy, dx);
  int dropped = 0, wrong = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (y[i] == 0)
      ++dropped, wrong += dx[i] != 0;  // dropped in forward: no gradient either
    else
      wrong += y[i] != 2 * x[i] || dx[i] != 2 * dy[i];  // kept: scaled by 1/(1-p) = 2, exact
  }
  CHECK(wrong == 0);
  CHECK(dropped > int(x.size()) * 4 / 10);  // p = 0.5 of 1024 values: 512 ± 16 expected
  CHECK(dropped < int(x.size()) * 6 / 10);
}
