// Every layer of the CUDA backend against the reference backend, forward and backward, in
// training and evaluation mode, on small shapes (odd sizes, stride, padding, overlapping pools).
#include "tests/cuda/parity.hpp"

using namespace ctnn;
using cuda_test::Pair;

TEST_CASE("cuda Conv2d matches the reference") {
  {
    Pair<Sequential<Conv2d<3, 4, 3, 1, 1>>, Shape<3, 7, 7>> p;
    p.run(3, true, 10, "conv 3x3 pad 1");
  }
  {
    Pair<Sequential<Conv2d<4, 5, 3, 2, 0, false>>, Shape<4, 9, 8>> p;
    p.run(2, true, 11, "conv stride 2, no bias");
  }
  {
    Pair<Sequential<Conv2d<2, 3, 5, 1, 2>>, Shape<2, 6, 5>> p;
    p.run(4, true, 12, "conv 5x5 pad 2");
  }
}

TEST_CASE("cuda BatchNorm2d/1d match the reference: train, running statistics, eval") {
  {
    Pair<Sequential<BatchNorm2d>, Shape<4, 5, 3>> p;
    p.rtol = 1e-4, p.atol = 1e-4;
    p.run(3, true, 20, "bn2d train 1");
    p.run(3, true, 21, "bn2d train 2");  // running statistics move twice (momentum 0.1)
    p.run(3, false, 22, "bn2d eval");
  }
  {
    Pair<Sequential<BatchNorm<2, 0.9_r>>, Shape<2, 3, 3>> p;  // the lab's momentum = 0.9
    p.rtol = 1e-4, p.atol = 1e-4;
    p.run(2, true, 23, "bn2d momentum 0.9");
    p.run(2, false, 24, "bn2d momentum 0.9 eval");
  }
  {
    Pair<Sequential<BatchNorm1d>, Shape<6>> p;
    p.rtol = 1e-4, p.atol = 1e-4;
    p.run(5, true, 25, "bn1d train");
    p.run(5, false, 26, "bn1d eval");
  }
}

TEST_CASE("cuda BatchNorm refuses to train on one value per channel") {
  Model<Sequential<BatchNorm1d>, Shape<3>, cuda> m;
  CHECK_THROWS_AS(m.forward(std::vector<float>(3, 1.f), 1), Error);
}

TEST_CASE("cuda ReLU and Sigmoid match the reference") {
  Pair<Sequential<ReLU>, Shape<2, 3, 5>>{}.run(3, true, 30, "relu");
  Pair<Sequential<Sigmoid>, Shape<7>>{}.run(4, true, 31, "sigmoid");
}

TEST_CASE("cuda LeakyReLU, Tanh, GELU and Scale match the reference") {
  Pair<Sequential<LeakyReLU<>>, Shape<2, 3, 5>>{}.run(3, true, 32, "leaky relu 0.01");
  Pair<Sequential<LeakyReLU<0.2_r>>, Shape<7>>{}.run(4, true, 33, "leaky relu 0.2");
  Pair<Sequential<Tanh>, Shape<7>>{}.run(4, true, 34, "tanh");
  Pair<Sequential<GELU>, Shape<3, 4, 5>>{}.run(2, true, 35, "gelu");
  Pair<Sequential<Scale<Ratio{-3, 10}>>, Shape<9>>{}.run(3, true, 36, "scale -0.3");
}

TEST_CASE("cuda AvgPool2d and the global pools match the reference") {
  Pair<Sequential<AvgPool2d<2>>, Shape<3, 6, 7>>{}.run(2, true, 43, "avgpool 2");
  Pair<Sequential<AvgPool2d<3, 2, 1>>, Shape<2, 7, 8>>{}.run(2, true, 44, "avgpool 3/2/1");
  Pair<Sequential<AvgPool2d<3, 1, 1>>, Shape<2, 5, 6>>{}.run(3, true, 45, "avgpool 3/1/1");
  Pair<Sequential<AdaptiveAvgPool2d<1>>, Shape<3, 5, 4>>{}.run(2, true, 46, "adaptive avg");
  Pair<Sequential<AdaptiveMaxPool2d<1>>, Shape<3, 5, 4>>{}.run(2, true, 47, "adaptive max");
}

TEST_CASE("cuda MaxPool2d matches the reference, overlapping windows included") {
  Pair<Sequential<MaxPool2d<2, 2>>, Shape<3, 6, 7>>{}.run(2, true, 40, "pool 2/2");
  Pair<Sequential<MaxPool2d<3, 2>>, Shape<2, 7, 8>>{}.run(2, true, 41, "pool 3/2");
  Pair<Sequential<MaxPool2d<2, 1>>, Shape<2, 5, 5>>{}.run(3, true, 42, "pool 2/1");
}

TEST_CASE("cuda MaxPool2d keeps the first maximum of a tied window, as the reference") {
  Model<Sequential<MaxPool2d<2, 2>>, Shape<1, 2, 4>, reference> ref;
  Model<Sequential<MaxPool2d<2, 2>>, Shape<1, 2, 4>, cuda> gpu;
  const std::vector<float> x{1, 3, 5, 5, 3, 2, 5, 5}, dy{1, 2};
  cuda_test::check_close(cuda_test::copy(gpu, x, 1), cuda_test::copy(ref, x, 1), 0, 0, "tied pool forward");
  std::vector<float> dxr(8), dxg(8);
  ref.backward(dy, dxr), gpu.backward(dy, dxg);
  cuda_test::check_close(dxg, dxr, 0, 0, "tied pool dx");
}

TEST_CASE("cuda Linear and Flatten match the reference") {
  Pair<Sequential<Linear<12, 5>>, Shape<12>>{}.run(3, true, 50, "linear");
  Pair<Sequential<Linear<12, 5, false>>, Shape<12>>{}.run(2, true, 51, "linear, no bias");
  Pair<Sequential<Flatten, Linear<18, 4>>, Shape<2, 3, 3>>{}.run(3, true, 52, "flatten + linear");
}

TEST_CASE("cuda Dropout draws the reference's masks") {
  Pair<Sequential<Dropout>, Shape<50>> p;
  p.run(8, true, 60, "dropout 0.5");
  p.ref.context().step = p.gpu.context().step = 7;  // another step: another mask
  p.run(8, true, 61, "dropout 0.5, step 7");
  p.run(8, false, 62, "dropout eval (identity)");
  p.ref.set_dropout(0.2f), p.gpu.set_dropout(0.2f);
  p.run(8, true, 63, "dropout override 0.2");
}

// Linear<16, 8> has no bias: a bias before a train-mode BatchNorm has an exactly-zero gradient, and
// comparing float32 rounding noise (~1e-4 here, after BatchNorm1d's 1/σ over 4 samples) is no test.
TEST_CASE("cuda conv-bn-relu-pool-dropout-linear stack matches the reference") {
  using Net = Sequential<Conv2d<3, 6, 3, 1, 1>, BatchNorm2d, ReLU, MaxPool2d<2, 2>, Conv2d<6, 4, 3>, Sigmoid, Flatten,
                         Linear<16, 8, false>, BatchNorm1d, ReLU, DropoutP<0.3_r>, Linear<8, 3>>;
  Pair<Net, Shape<3, 8, 8>> p(7);
  p.rtol = 1e-3, p.atol = 1e-4;
  p.run(4, true, 70, "stack train");
  p.run(4, false, 71, "stack eval");
}

// The same comparisons at the seed net's own layer shapes (batch 4): cuDNN picks other algorithms
// for large convolutions than for the small cases above. Sums over thousands of terms in another
// order differ by rounding, so these compare norms (‖gpu − ref‖ ≤ 1e-5·‖ref‖ for float32 without TF32).
template <class Net, class In>
void check_at_scale(const std::string& what, int n = 4) {
  Pair<Net, In> p(9);
  p.ref.train(true), p.gpu.train(true);
  const auto x = cuda_test::uniform(std::size_t(n) * In::size, 90);
  const auto yr = cuda_test::copy(p.ref, x, n), yg = cuda_test::copy(p.gpu, x, n);
  cuda_test::check_rel_l2(yg, yr, 1e-5, what + ": forward");
  const auto dy = cuda_test::uniform(yr.size(), 91);
  std::vector<float> dxr(x.size()), dxg(x.size());
  p.ref.backward(dy, dxr), p.gpu.backward(dy, dxg);
  cuda_test::check_rel_l2(dxg, dxr, 1e-5, what + ": dx");
  cuda_test::check_rel_l2(p.gpu.gradients(), p.ref.gradients(), 1e-5, what + ": parameter gradients");
}

TEST_CASE("cuda layers at the seed AlexNet's shapes match the reference") {
  check_at_scale<Sequential<Conv2d<3, 96, 3, 1, 1>>, Shape<3, 32, 32>>("features.0 conv 3->96 32x32");
  check_at_scale<Sequential<Conv2d<96, 128, 5, 1, 2>>, Shape<96, 16, 16>>("features.4 conv 96->128 5x5");
  check_at_scale<Sequential<Conv2d<128, 256, 3>>, Shape<128, 15, 15>>("features.8 conv 128->256 pad 0");
  check_at_scale<Sequential<Conv2d<256, 256, 3, 1, 1>>, Shape<256, 13, 13>>("features.11 conv 256->256");
  check_at_scale<Sequential<Conv2d<256, 128, 3, 1, 1>>, Shape<256, 13, 13>>("features.14 conv 256->128");
  check_at_scale<Sequential<BatchNorm2d, ReLU, MaxPool2d<2, 2>>, Shape<96, 32, 32>>("bn-relu-pool 96x32x32");
  check_at_scale<Sequential<MaxPool2d<2, 1>>, Shape<128, 16, 16>>("pool 2/1 128x16x16");
  check_at_scale<Sequential<MaxPool2d<3, 2>>, Shape<128, 13, 13>>("pool 3/2 128x13x13");
  check_at_scale<Sequential<Flatten, Linear<4608, 128>, BatchNorm1d, ReLU>, Shape<128, 6, 6>>("classifier.0-2", 16);
}
