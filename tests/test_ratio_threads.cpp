// Ratio template arguments (ctnn/ratio.hpp: BatchNorm momentum/eps, Dropout p, accepted by GCC and
// Clang alike) and the CPU thread setting (ctnn/threads.hpp).
#include <doctest/doctest.h>

#include <type_traits>

#include "ctnn/ctnn.hpp"

using namespace ctnn;

// Exact decimal literals, reduced: one type per value.
static_assert(0.9_r == Ratio{9, 10} && 0.90_r == 0.9_r && 1e-5_r == Ratio{1, 100000});
static_assert(2.5e1_r == Ratio{25} && 0_r == Ratio{0, 7} && 1'000_r == Ratio{1000});
static_assert(std::is_same_v<BatchNorm<2, 0.1_r, 1e-5_r>, BatchNorm2d>);
static_assert(std::is_same_v<BatchNorm<2, 0.90_r>, BatchNorm<2, Ratio{9, 10}>>);
static_assert(std::is_same_v<DropoutP<0.50_r>, Dropout>);
// The float the backends compute with is the float literal's value.
static_assert(BatchNorm<2, 0.9_r>::momentum == 0.9f && BatchNorm2d::momentum == 0.1f && BatchNorm2d::eps == 1e-5f);
static_assert(BatchNorm<1, 0.01_r, 1e-3_r>::momentum == 0.01f && BatchNorm<1, 0.01_r, 1e-3_r>::eps == 1e-3f);
static_assert(Dropout::p == 0.5f && DropoutP<0.3_r>::p == 0.3f && DropoutP<0.25_r>::p == 0.25f);

TEST_CASE("a BatchNorm momentum given as a Ratio updates running statistics with that momentum") {
  Model<Sequential<BatchNorm<2, 0.9_r>>, Shape<1, 1, 2>, reference> m;
  m.train(true);
  const std::vector<float> x{1.f, 3.f};  // batch mean 2, unbiased variance 2
  m.forward(x, 1);
  const auto b = m.buffers();
  REQUIRE(b.size() == 2);
  CHECK(b[0] == doctest::Approx(0.9 * 2));            // (1 − 0.9)·0 + 0.9·2
  CHECK(b[1] == doctest::Approx(0.1 * 1 + 0.9 * 2));  // (1 − 0.9)·1 + 0.9·2
}

#if CTNN_WITH_ONEDNN
TEST_CASE("set_num_threads reaches oneDNN's OpenMP runtime") {
  // A program that runs the oneDNN backend has libdnnl, and with it its OpenMP runtime, loaded.
  Model<Sequential<ReLU>, Shape<1, 1, 2>, cpu> m;
  m.forward(std::vector<float>{1.f, -1.f}, 1);
  const int before = num_threads();
  REQUIRE(set_num_threads(1));
  CHECK(num_threads() == 1);
  REQUIRE(set_num_threads(3));
  CHECK(num_threads() == 3);
  CHECK_FALSE(set_num_threads(0));
  CHECK(num_threads() == 3);
  set_num_threads(before);
}
#endif

#if CTNN_WITH_EIGEN && defined(_OPENMP)
TEST_CASE("set_num_threads sets the Eigen backend's threads, and a conv step does not depend on timing") {
  const int before = num_threads();
  REQUIRE(set_num_threads(1));
  CHECK(eigen_backend::max_threads() == 1);
  CHECK(Eigen::nbThreads() == 1);  // Eigen's GEMMs read the same OpenMP setting
  REQUIRE(set_num_threads(2));
  CHECK(eigen_backend::max_threads() == 2);
  CHECK(Eigen::nbThreads() == 2);
  // On 2 threads each thread takes whole chunks of images and adds its partial dW in thread order:
  // two runs give the same bits, and 1 thread the same values up to float rounding.
  using Net = Sequential<Conv2d<16, 32, 3, 1, 1>>;
  using In = Shape<16, 16, 16>;
  constexpr int n = 8;
  std::vector<float> x(n * In::size), dy(n * 32 * 16 * 16);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float((i * 7919) % 13) / 13.f - 0.5f;
  for (std::size_t i = 0; i < dy.size(); ++i) dy[i] = float((i * 104729) % 17) / 17.f - 0.5f;
  auto grads = [&] {
    Model<Net, In, eigen> m(3);
    m.forward(x, n);
    m.backward(dy);
    return std::vector<float>(m.gradients().begin(), m.gradients().end());
  };
  const auto a = grads(), b = grads();
  CHECK(a == b);
  set_num_threads(1);
  const auto c = grads();
  for (std::size_t i = 0; i < a.size(); ++i) REQUIRE(c[i] == doctest::Approx(a[i]).epsilon(1e-4));
  set_num_threads(before);
}
#endif
