// Gradient checks of the reference backend (and of the Eigen backend, whose passes are its own
// code, not a library's) by central finite differences, independent of PyTorch.
// For a tiny model and the scalar L = Σ y·r (r fixed, random; L accumulated in double), the
// analytic input gradient (Model::backward(r, dx)) and every parameter gradient must agree with
//   (L(θ + ε) − L(θ − ε)) / (2ε)        per coordinate,
// measured as ‖analytic − numeric‖₂ / ‖numeric‖₂ per tensor (plus a 1e-4 absolute floor). The
// backend computes in float32, so ε = 1e-2 (we divide by the actual step (θ+ε) − (θ−ε) after
// rounding to float) and the tolerance is 1e-2: float32 noise and O(ε²) truncation give ≤ 2e-5
// for single layers and ≤ 1e-3 for the chain (measured), while a wrong formula (a missing term,
// a wrong scale such as m vs m−1, a transposed index) gives ≳ 5e-2.
// Inputs of ReLU, LeakyReLU, MaxPool2d and AdaptiveMaxPool2d are kept ≥ 5ε away from kinks and ties.
// Also: the errors Model and CrossEntropyLoss must raise.
#include <cmath>
#include <string>
#include <vector>

#include "helpers.hpp"

using namespace ctnn;
using namespace ctnn_test;

namespace {

constexpr double kEps = 1e-2;
constexpr double kTol = 1e-2;

/// ‖analytic − numeric‖ <= kTol·‖numeric‖ + kFloor, with a report on failure. The absolute floor
/// (well above the finite-difference noise of ~1e-5 here, far below the O(1) gradients) covers
/// gradients that are mathematically zero, e.g. a bias followed by a train-mode BatchNorm.
constexpr double kFloor = 1e-4;
void check_gradient(std::span<const float> analytic, const std::vector<double>& numeric, const std::string& what) {
  REQUIRE(analytic.size() == numeric.size());
  double diff = 0, norm = 0;
  std::size_t worst = 0;
  for (std::size_t i = 0; i < numeric.size(); ++i) {
    const double d = analytic[i] - numeric[i];
    diff += d * d, norm += numeric[i] * numeric[i];
    if (std::abs(d) > std::abs(analytic[worst] - numeric[worst])) worst = i;
  }
  diff = std::sqrt(diff), norm = std::sqrt(norm);
  INFO(what << ": ‖analytic − numeric‖ = " << diff << ", ‖numeric‖ = " << norm << ", relative " << diff / norm
            << " (tolerance " << kTol << " relative + " << kFloor << "), " << numeric.size() << " values");
  INFO("worst [" << worst << "]: analytic " << analytic[worst] << ", numeric " << numeric[worst]);
  CHECK(diff <= kTol * norm + kFloor);
}

/// Finite-difference check of Model<Net, In, B> at batch n: input x (given), parameters
/// filled uniformly in [-1, 1] (seeded), r uniform in [-1, 1]. Checks dx and every trainable tensor.
/// In eval mode (train = false) BatchNorm's running statistics are first set to non-trivial values.
template <class Net, class In, class B>
void check_net_on(const std::string& what, int n, std::vector<float> x, std::uint64_t seed, bool train) {
  Model<Net, In, B> model(seed);
  model.train(train);
  REQUIRE(x.size() == std::size_t(n) * In::size);
  fill_uniform(model.parameters(), seed + 100);
  if (!train)
    for (auto& t : model.named_tensors()) {
      if (t.name.ends_with("running_mean")) fill_uniform(t.data, seed + 300, -0.5f, 0.5f);
      if (t.name.ends_with("running_var")) fill_uniform(t.data, seed + 400, 0.5f, 2.f);
    }
  const auto r = uniform(std::size_t(n) * Model<Net, In, B>::output_shape::size, seed + 200);

  auto loss = [&] {
    const auto y = model.forward(x, n);
    double l = 0;
    for (std::size_t i = 0; i < y.size(); ++i) l += double(y[i]) * r[i];
    return l;
  };
  // d loss / d v[i] for every i by central differences, perturbing v in place.
  auto numeric = [&](std::span<float> v) {
    std::vector<double> g(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
      const float v0 = v[i], plus = float(v0 + kEps), minus = float(v0 - kEps);
      v[i] = plus;
      const double lp = loss();
      v[i] = minus;
      const double lm = loss();
      v[i] = v0;
      g[i] = (lp - lm) / (double(plus) - double(minus));
    }
    return g;
  };

  loss();
  std::vector<float> dx(x.size());
  model.backward(r, dx);
  const std::vector<float> grads(model.gradients().begin(), model.gradients().end());

  check_gradient(dx, numeric(x), what + ": dx");
  for (const auto& t : model.named_tensors()) {
    if (!t.trainable) continue;
    const std::size_t offset = std::size_t(t.data.data() - model.parameters().data());
    check_gradient(std::span(grads).subspan(offset, t.data.size()), numeric(t.data), what + ": d" + t.name);
  }
}

/// check_net_on for the reference backend and, where built, the Eigen backend.
template <class Net, class In>
void check_net(const std::string& what, int n, std::vector<float> x, std::uint64_t seed = 1, bool train = true) {
  check_net_on<Net, In, reference>(what, n, x, seed, train);
#if CTNN_WITH_EIGEN
  check_net_on<Net, In, eigen>(what + " [Eigen]", n, x, seed, train);
#endif
}

}  // namespace

TEST_CASE("finite differences: Conv2d, stride 2, padding 1, H != W") {
  // 2 → 3 channels, 3×3 kernel on 6×5: output 3×3 (the last row of the input is not covered).
  check_net<Sequential<Conv2d<2, 3, 3, 2, 1>>, Shape<2, 6, 5>>("conv2d s2 p1", 2, uniform(2 * 2 * 6 * 5, 1));
}

TEST_CASE("finite differences: Conv2d without bias, stride 1, padding 2") {
  check_net<Sequential<Conv2d<2, 2, 3, 1, 2, false>>, Shape<2, 3, 4>>("conv2d nobias p2", 2, uniform(2 * 2 * 3 * 4, 2));
}

TEST_CASE("finite differences: Linear") {
  check_net<Sequential<Linear<5, 3>>, Shape<5>>("linear", 3, uniform(3 * 5, 3));
}

TEST_CASE("finite differences: BatchNorm2d, train mode") {
  check_net<Sequential<BatchNorm2d>, Shape<3, 2, 3>>("batchnorm2d", 3, uniform(3 * 3 * 2 * 3, 4, -2.f, 3.f));
}

TEST_CASE("finite differences: BatchNorm1d, train mode") {
  check_net<Sequential<BatchNorm1d>, Shape<4>>("batchnorm1d", 5, uniform(5 * 4, 5, -2.f, 3.f));
}

TEST_CASE("finite differences: BatchNorm2d and BatchNorm1d, eval mode (running statistics)") {
  check_net<Sequential<BatchNorm2d>, Shape<2, 2, 3>>("batchnorm2d eval", 3, uniform(3 * 2 * 2 * 3, 6, -2.f, 3.f), 6,
                                                     false);
  check_net<Sequential<BatchNorm1d>, Shape<4>>("batchnorm1d eval", 1, uniform(4, 7, -2.f, 3.f), 7, false);
}

TEST_CASE("finite differences: MaxPool2d with overlapping windows") {
  // Values spaced 0.1 apart (≥ 10ε): no window's arg-max changes under the perturbation.
  check_net<Sequential<MaxPool2d<3, 2>>, Shape<2, 7, 6>>("maxpool2d k3 s2", 2, distinct(2 * 2 * 7 * 6, 9));
}

TEST_CASE("finite differences: ReLU") {
  // distinct() values are at least 0.05 = 5ε away from 0.
  check_net<Sequential<ReLU>, Shape<3, 2, 2>>("relu", 2, distinct(2 * 12, 10));
}

TEST_CASE("finite differences: Sigmoid") {
  check_net<Sequential<Sigmoid>, Shape<9>>("sigmoid", 2, uniform(2 * 9, 11, -3.f, 3.f));
}

TEST_CASE("finite differences: LeakyReLU (slope 0.01 and 0.2)") {
  // distinct() values are at least 0.05 = 5ε away from the kink at 0.
  check_net<Sequential<LeakyReLU<>>, Shape<3, 2, 2>>("leaky_relu", 2, distinct(2 * 12, 15));
  check_net<Sequential<LeakyReLU<0.2_r>>, Shape<7>>("leaky_relu 0.2", 2, distinct(2 * 7, 16));
}

TEST_CASE("finite differences: Tanh and GELU") {
  check_net<Sequential<Tanh>, Shape<9>>("tanh", 2, uniform(2 * 9, 17, -3.f, 3.f));
  check_net<Sequential<GELU>, Shape<2, 3, 3>>("gelu", 2, uniform(2 * 18, 18, -4.f, 4.f));
}

TEST_CASE("finite differences: AvgPool2d with padding and overlapping windows") {
  check_net<Sequential<AvgPool2d<3, 2, 1>>, Shape<2, 7, 6>>("avgpool2d k3 s2 p1", 2, uniform(2 * 2 * 7 * 6, 19));
  check_net<Sequential<AvgPool2d<2>>, Shape<1, 5, 4>>("avgpool2d k2", 3, uniform(3 * 5 * 4, 20));
}

TEST_CASE("finite differences: AdaptiveAvgPool2d<1> and AdaptiveMaxPool2d<1>") {
  check_net<Sequential<AdaptiveAvgPool2d<1>>, Shape<3, 4, 5>>("adaptive avg", 2, uniform(2 * 3 * 4 * 5, 21));
  // Values spaced 0.1 apart: no plane's arg-max changes under the perturbation.
  check_net<Sequential<AdaptiveMaxPool2d<1>>, Shape<3, 4, 5>>("adaptive max", 2, distinct(2 * 3 * 4 * 5, 22));
}

TEST_CASE("finite differences: Scale") {
  check_net<Sequential<Scale<Ratio{-3, 10}>>, Shape<5>>("scale -0.3", 2, uniform(2 * 5, 23));
}

TEST_CASE("finite differences: a chain of the new layers (Conv2d, GELU, AvgPool2d, Tanh, AdaptiveAvgPool2d, Linear)") {
  using Net = Sequential<Conv2d<2, 3, 3, 1, 1, false>, GELU, AvgPool2d<3, 2, 1>, Tanh, AdaptiveAvgPool2d<1>, Flatten,
                         Linear<3, 2>, Scale<0.125_r>>;
  check_net<Net, Shape<2, 5, 5>>("chain2", 2, uniform(2 * 2 * 5 * 5, 24));
}

TEST_CASE("finite differences: Flatten -> Linear") {
  check_net<Sequential<Flatten, Linear<12, 3>>, Shape<3, 2, 2>>("flatten+linear", 2, uniform(2 * 12, 12));
}

TEST_CASE(
    "finite differences: a small chain (Conv2d, BatchNorm2d, Sigmoid, Flatten, Linear, BatchNorm1d, Sigmoid, Linear)") {
  using Net = Sequential<Conv2d<2, 3, 3, 1, 1>, BatchNorm2d, Sigmoid, Flatten, Linear<27, 4>, BatchNorm1d, Sigmoid,
                         Linear<4, 2>>;
  check_net<Net, Shape<2, 3, 3>>("chain", 4, uniform(4 * 2 * 3 * 3, 13));
}

TEST_CASE("finite differences: CrossEntropyLoss") {
  constexpr int n = 4, classes = 5;
  auto logits = uniform(n * classes, 14, -3.f, 3.f);
  const std::vector<std::int32_t> target = {0, 3, 4, 3};
  std::vector<float> analytic(logits.size());
  CrossEntropyLoss ce;
  ce(logits, target, classes, analytic);
  std::vector<double> numeric(logits.size());
  for (std::size_t i = 0; i < logits.size(); ++i) {
    const float v0 = logits[i], plus = float(v0 + kEps), minus = float(v0 - kEps);
    logits[i] = plus;
    const double lp = ce(logits, target, classes).loss;
    logits[i] = minus;
    const double lm = ce(logits, target, classes).loss;
    logits[i] = v0;
    numeric[i] = (lp - lm) / (double(plus) - double(minus));
  }
  check_gradient(analytic, numeric, "cross_entropy: dlogits");
  // The loss is computed in double: a much smaller step must agree far more closely.
  for (std::size_t i = 0; i < logits.size(); ++i) {
    const float v0 = logits[i], plus = std::nextafter(std::nextafter(v0, 1e9f), 1e9f);
    logits[i] = plus;
    const double lp = ce(logits, target, classes).loss;
    logits[i] = v0;
    const double l0 = ce(logits, target, classes).loss;
    CHECK(std::abs((lp - l0) / (double(plus) - double(v0)) - analytic[i]) < 1e-5);
  }
}

TEST_CASE("errors: Model rejects wrong input, dy and dx sizes") {
  Model<Sequential<Linear<4, 2>>, Shape<4>, reference> model;
  const std::vector<float> x(3 * 4, 0.5f);
  CHECK_THROWS_AS(model.backward(std::vector<float>(6)), Error);  // before any forward
  CHECK_THROWS_AS(model.forward(std::span(x).first(11), 3), Error);
  CHECK_THROWS_AS(model.forward(x, 2), Error);
  CHECK_THROWS_AS(model.forward(x, 0), Error);
  CHECK_THROWS_AS(model.forward(x, -3), Error);
  CHECK_THROWS_AS(model.forward({}, 1), Error);
  try {
    model.forward(std::span(x).first(10), 3);
    FAIL("no exception");
  } catch (const Error& e) {
    const std::string msg = e.what();
    CHECK_MESSAGE(msg.find("10") != std::string::npos, msg);  // what it got
    CHECK_MESSAGE(msg.find("12") != std::string::npos, msg);  // what it expected
  }
  REQUIRE_NOTHROW(model.forward(x, 3));
  std::vector<float> dx(x.size());
  CHECK_THROWS_AS(model.backward(std::vector<float>(5), dx), Error);
  CHECK_THROWS_AS(model.backward(std::vector<float>(6), std::span(dx).first(11)), Error);
  CHECK_NOTHROW(model.backward(std::vector<float>(6), dx));
}

TEST_CASE("errors: BatchNorm in training needs more than one value per channel") {
  Model<Sequential<BatchNorm1d>, Shape<3>, reference> model;
  model.train();
  CHECK_THROWS_AS(model.forward(std::vector<float>(3, 1.f), 1), Error);
  model.eval();
  CHECK_NOTHROW(model.forward(std::vector<float>(3, 1.f), 1));
}

TEST_CASE("errors: CrossEntropyLoss rejects NaN logits, bad targets and sizes") {
  CrossEntropyLoss ce;
  std::vector<float> logits(2 * 3, 0.25f);
  const std::vector<std::int32_t> target = {0, 2};
  CHECK_NOTHROW(ce(logits, target, 3));
  for (std::size_t i : {0, 1, 4}) {  // NaN as the arg-max candidate, elsewhere, in the second row
    auto bad = logits;
    bad[i] = std::nanf("");
    std::vector<float> d(bad.size());
    CHECK_THROWS_AS(ce(bad, target, 3, d), Error);
    CHECK_THROWS_AS(ce(bad, target, 3), Error);
  }
  auto inf = logits;
  inf[1] = INFINITY;
  CHECK_THROWS_AS(ce(inf, target, 3), Error);
  CHECK_THROWS_AS(ce(logits, std::vector<std::int32_t>{0, 3}, 3), Error);
  CHECK_THROWS_AS(ce(logits, std::vector<std::int32_t>{-1, 0}, 3), Error);
  CHECK_THROWS_AS(ce(logits, std::vector<std::int32_t>{0, 1, 2}, 3), Error);
  CHECK_THROWS_AS(ce(logits, std::vector<std::int32_t>{}, 3), Error);
}

// ---- Residual blocks and grouped convolutions (issue 13) -------------------------------------
// Smooth activations (Tanh, Sigmoid) inside the branches: no kinks to keep away from.

TEST_CASE("finite differences: Residual, identity skip (x + body(x))") {
  using Net = Sequential<Residual<Sequential<Conv2d<2, 2, 3, 1, 1>, Tanh, Conv2d<2, 2, 3, 1, 1, false>>>, Tanh>;
  check_net<Net, Shape<2, 4, 3>>("residual identity", 2, uniform(2 * 2 * 4 * 3, 31));
}

TEST_CASE("finite differences: Residual with projection and BatchNorm in both branches, train and eval") {
  using Block = Residual<Sequential<Conv2d<2, 3, 3, 2, 1, false>, BatchNorm2d, Sigmoid, Conv2d<3, 3, 3, 1, 1>>,
                         Sequential<Conv2d<2, 3, 1, 2, 0, false>, BatchNorm2d>>;
  using Net = Sequential<Conv2d<2, 2, 1>, Block, Flatten, Linear<12, 2>>;
  check_net<Net, Shape<2, 4, 4>>("residual projection train", 3, uniform(3 * 2 * 4 * 4, 32), 32);
  check_net<Net, Shape<2, 4, 4>>("residual projection eval", 3, uniform(3 * 2 * 4 * 4, 33), 33, false);
}

TEST_CASE("finite differences: nested Residual blocks") {
  using Inner = Residual<Sequential<Conv2d<2, 2, 3, 1, 1, false>, Tanh>>;
  using Net = Sequential<Residual<Sequential<Inner, Conv2d<2, 2, 1>, BatchNorm2d>>>;
  check_net<Net, Shape<2, 3, 3>>("residual nested", 2, uniform(2 * 2 * 3 * 3, 34), 34);
}

TEST_CASE("finite differences: grouped and depthwise Conv2d") {
  check_net<Sequential<Conv2d<4, 6, 3, 1, 1, true, 2>>, Shape<4, 4, 3>>("conv2d groups 2", 2,
                                                                        uniform(2 * 4 * 4 * 3, 35));
  check_net<Sequential<Conv2d<3, 3, 3, 2, 1, false, 3>>, Shape<3, 5, 5>>("conv2d depthwise s2", 2,
                                                                         uniform(2 * 3 * 5 * 5, 36));
  check_net<Sequential<Conv2d<2, 6, 3, 1, 0, true, 2>>, Shape<2, 4, 4>>("conv2d groups 2, 1 -> 3 per group", 2,
                                                                        uniform(2 * 2 * 4 * 4, 37));
}
