// The layers added for issue 13 against PyTorch (tests/reference/layers2.safetensors, written by
// make_layers2() in tests/reference/make_reference.py): LeakyReLU, Tanh, GELU, AvgPool2d,
// AdaptiveAvgPool2d<1>, AdaptiveMaxPool2d<1>, Scale. Each one-layer model runs forward on the
// reference x and backward with the reference dy; y and dx must match within 1e-4 relative plus a
// 1e-5 absolute floor, as in test_layers_pytorch.cpp. Runs on every CTNN_TEST_BACKENDS.
#include <string>
#include <vector>

#include "helpers.hpp"

using namespace ctnn;
using namespace ctnn_test;

namespace {

constexpr double kRel = 1e-4;  // relative tolerance of every comparison with PyTorch
constexpr double kAbs = 1e-5;  // absolute floor: values near zero

/// Layer on sample shape In, batch n, against the reference tensors `{key}.x/y/dy/dx`; the
/// metadata `{key}.config` must be `config` (the file describes the layer the test builds).
template <class Layer, class In, class B>
void check(const std::string& key, int n, const std::string& config) {
  const auto ref = load_reference("layers2.safetensors");
  if (!config.empty()) REQUIRE(ref.metadata.at(key + ".config") == config);
  Model<Sequential<Layer>, In, B> model;
  model.train();
  const auto x = get(ref, key + ".x");
  REQUIRE(x.size() == std::size_t(n) * In::size);
  const auto y = model.forward(x, n);
  check_close(y, get(ref, key + ".y"), kRel, kAbs, key + ": y");
  std::vector<float> dx(x.size(), -1.f);
  model.backward(get(ref, key + ".dy"), dx);
  check_close(dx, get(ref, key + ".dx"), kRel, kAbs, key + ": dx");
}

}  // namespace

TEST_CASE_TEMPLATE("LeakyReLU matches PyTorch (default slope 0.01, and 0.2)", B, CTNN_TEST_BACKENDS) {
  static_assert(LeakyReLU<>::negative_slope == 0.01f && LeakyReLU<0.2_r>::negative_slope == 0.2f);
  check<LeakyReLU<>, Shape<7>, B>("leaky_relu", 3, "0.01");
  check<LeakyReLU<0.2_r>, Shape<3, 2, 2>, B>("leaky_relu_02", 2, "0.2");
}

TEST_CASE_TEMPLATE("Tanh matches PyTorch", B, CTNN_TEST_BACKENDS) { check<Tanh, Shape<7>, B>("tanh", 3, ""); }

TEST_CASE_TEMPLATE("GELU (exact erf form) matches PyTorch, tails included", B, CTNN_TEST_BACKENDS) {
  check<GELU, Shape<21>, B>("gelu", 3, "none");
}

TEST_CASE_TEMPLATE("AvgPool2d matches PyTorch (a: k2 s2)", B, CTNN_TEST_BACKENDS) {
  check<AvgPool2d<2>, Shape<3, 6, 6>, B>("avgpool_a", 2, "2,2,0");
}

TEST_CASE_TEMPLATE("AvgPool2d matches PyTorch (b: k3 s2 p1, padding counted)", B, CTNN_TEST_BACKENDS) {
  using L = AvgPool2d<3, 2, 1>;
  static_assert(std::is_same_v<L::output_shape<Shape<3, 7, 7>>, Shape<3, 4, 4>>);
  check<L, Shape<3, 7, 7>, B>("avgpool_b", 2, "3,2,1");
}

TEST_CASE_TEMPLATE("AvgPool2d matches PyTorch (c: k3 s1 p1, H != W, overlapping windows)", B, CTNN_TEST_BACKENDS) {
  check<AvgPool2d<3, 1, 1>, Shape<2, 5, 6>, B>("avgpool_c", 1, "3,1,1");
}

TEST_CASE_TEMPLATE("AdaptiveAvgPool2d<1> matches PyTorch", B, CTNN_TEST_BACKENDS) {
  static_assert(std::is_same_v<AdaptiveAvgPool2d<1>::output_shape<Shape<3, 5, 4>>, Shape<3, 1, 1>>);
  check<AdaptiveAvgPool2d<1>, Shape<3, 5, 4>, B>("adaptive_avg", 2, "1");
}

TEST_CASE_TEMPLATE("AdaptiveMaxPool2d<1> matches PyTorch", B, CTNN_TEST_BACKENDS) {
  check<AdaptiveMaxPool2d<1>, Shape<3, 5, 4>, B>("adaptive_max", 2, "1");
}

TEST_CASE_TEMPLATE("AdaptiveMaxPool2d<1> keeps the first maximum on ties, as PyTorch", B, CTNN_TEST_BACKENDS) {
  check<AdaptiveMaxPool2d<1>, Shape<3, 3, 3>, B>("adaptive_max_ties", 2, "1");
}

TEST_CASE_TEMPLATE("Scale matches PyTorch (0.125 and -0.3)", B, CTNN_TEST_BACKENDS) {
  check<Scale<0.125_r>, Shape<7>, B>("scale_0125", 3, "0.125");
  check<Scale<Ratio{-3, 10}>, Shape<2, 3, 3>, B>("scale_m03", 2, "-0.3");
}

TEST_CASE_TEMPLATE("global pools on a 1x1 plane are the identity, also after a Linear", B, CTNN_TEST_BACKENDS) {
  Model<Sequential<Linear<4, 3>, AdaptiveAvgPool2d<1>, AdaptiveMaxPool2d<1>, Linear<3, 2>>, Shape<4>, B> pooled(5);
  Model<Sequential<Linear<4, 3>, Linear<3, 2>>, Shape<4>, B> plain(5);
  const auto params = pooled.parameters();
  REQUIRE(params.size() == plain.parameters().size());
  std::copy(params.begin(), params.end(), plain.parameters().begin());
  const auto x = uniform(2 * 4, 3);
  const auto ya = pooled.forward(x, 2);
  const std::vector<float> y(ya.begin(), ya.end());
  check_close(y, plain.forward(x, 2), 0, 0, "identity: y");
  const auto dy = uniform(2 * 2, 4);
  std::vector<float> dxa(x.size()), dxb(x.size());
  pooled.backward(dy, dxa);
  plain.backward(dy, dxb);
  check_close(dxa, dxb, 0, 0, "identity: dx");
}

TEST_CASE("the new layers' names, traits and summary") {
  static_assert(is_leaky_relu_v<LeakyReLU<>> && !is_leaky_relu_v<ReLU> && !is_relu_v<LeakyReLU<>>);
  static_assert(is_tanh_v<Tanh> && is_gelu_v<GELU> && !is_gelu_v<Tanh>);
  static_assert(is_avgpool2d_v<AvgPool2d<3, 2, 1>> && !is_avgpool2d_v<MaxPool2d<2>>);
  static_assert(is_adaptive_avgpool2d_v<AdaptiveAvgPool2d<1>> && !is_adaptive_avgpool2d_v<AdaptiveMaxPool2d<1>>);
  static_assert(is_adaptive_maxpool2d_v<AdaptiveMaxPool2d<1>> && is_scale_v<Scale<0.125_r>>);
  static_assert(Scale<0.125_r>::factor == 0.125f && AvgPool2d<3>::stride == 3 && AvgPool2d<3>::padding == 0);
  using Net = Sequential<Conv2d<3, 8, 3, 1, 1, false>, GELU, AvgPool2d<3, 2, 1>, LeakyReLU<>, AdaptiveMaxPool2d<1>,
                         Flatten, Linear<8, 4>, Tanh, Scale<0.125_r>>;
  CHECK(parameter_count<Net, Shape<3, 8, 8>>() == 3 * 8 * 9 + 8 * 4 + 4);
  CHECK(architecture<Net, Shape<3, 8, 8>>() ==
        "Conv2d[8,8,8]|GELU[8,8,8]|AvgPool2d[8,4,4]|LeakyReLU[8,4,4]|AdaptiveMaxPool2d[8,1,1]|Flatten[8,1,1]|"
        "Linear[4,1,1]|Tanh[4,1,1]|Scale[4,1,1]");
}

namespace {

/// Net on backend B against the same net on the reference backend (same parameters, input and dy):
/// y, dx and every parameter gradient within 1e-4 relative (by norm). With 16 channels oneDNN
/// hands the new layers its blocked layouts, which the one-layer cases above never see.
template <class Net, class In, class B>
void check_against_reference(int n, const std::string& what) {
  Model<Net, In, reference> ref(3);
  Model<Net, In, B> model(3);
  if constexpr (requires { model.context().allow_tf32; }) model.context().allow_tf32 = false;
  const auto p = ref.parameters();
  std::copy(p.begin(), p.end(), model.parameters().begin());
  ref.train(), model.train();
  const auto x = uniform(std::size_t(n) * In::size, 41);
  const auto yr = ref.forward(x, n);
  const std::vector<float> want(yr.begin(), yr.end());
  const auto yb = model.forward(x, n);
  const std::vector<float> got(yb.begin(), yb.end());
  auto rel = [](std::span<const float> a, std::span<const float> b) {
    std::vector<double> da(a.begin(), a.end()), db(b.begin(), b.end());
    return relative_error(da, db);
  };
  CHECK_MESSAGE(rel(got, want) < 1e-4, what << ": y relative error " << rel(got, want));
  const auto dy = uniform(want.size(), 42);
  std::vector<float> dxr(x.size()), dxb(x.size());
  ref.backward(dy, dxr);
  model.backward(dy, dxb);
  CHECK_MESSAGE(rel(dxb, dxr) < 1e-4, what << ": dx relative error " << rel(dxb, dxr));
  for (const auto& t : ref.named_tensors()) {
    if (!t.trainable) continue;
    const auto gr = grad(ref, t.name), gb = grad(model, t.name);
    CHECK_MESSAGE(rel(gb, gr) < 1e-4, what << ": d" << t.name << " relative error " << rel(gb, gr));
  }
}

}  // namespace

TEST_CASE_TEMPLATE("the new layers in a net with 16 channels match the reference backend", B, CTNN_TEST_BACKENDS) {
  using A =
      Sequential<Conv2d<3, 16, 3, 1, 1>, GELU, AvgPool2d<3, 2, 1>, LeakyReLU<0.2_r>, Conv2d<16, 16, 3, 1, 1, false>,
                 Tanh, AdaptiveMaxPool2d<1>, Flatten, Linear<16, 5>, Scale<0.125_r>>;
  check_against_reference<A, Shape<3, 9, 8>, B>(3, "net with AdaptiveMaxPool2d");
  using V = Sequential<Conv2d<3, 16, 3, 1, 1>, LeakyReLU<>, AvgPool2d<2>, GELU, AdaptiveAvgPool2d<1>, Flatten,
                       Linear<16, 4>, Tanh, Scale<Ratio{-3, 10}>>;
  check_against_reference<V, Shape<3, 8, 8>, B>(2, "net with AdaptiveAvgPool2d");
}
