// Device utilities of the CUDA backend (cross-entropy, horizontal flip) and its error reports.
#include "tests/cuda/parity.hpp"

using namespace ctnn;
using cuda_test::check_close;
using cuda_test::uniform;

TEST_CASE("cuda cross-entropy equals ctnn::CrossEntropyLoss") {
  Context<cuda> ctx;
  const int n = 7, classes = 10;
  const auto z = uniform(std::size_t(n) * classes, 1, -5.f, 5.f);
  const std::vector<std::int32_t> t{0, 9, 3, 3, 5, 1, 8};
  gpu::Tensor logits, dz;
  ctx.upload(z, n, classes, 1, 1, logits);
  gpu::CrossEntropy ce;
  const auto got = ce(ctx, logits, t, &dz);
  std::vector<float> want_dz(z.size()), got_dz(z.size());
  const auto want = CrossEntropyLoss{}(z, t, classes, want_dz);
  CHECK(got.loss == doctest::Approx(want.loss).epsilon(1e-12));
  CHECK(got.correct == want.correct);
  ctx.download(dz, got_dz);
  check_close(got_dz, want_dz, 1e-6, 1e-9, "dlogits");
  const std::vector<std::int32_t> bad{0, 1, 2, 10, 4, 5, 6};
  CHECK_THROWS_WITH_AS(ce(ctx, logits, bad), doctest::Contains("target 10 of sample 3"), Error);
}

TEST_CASE("cuda cross-entropy with label smoothing equals ctnn::CrossEntropyLoss{0.1} (core::cross_entropy_row)") {
  Context<cuda> ctx;
  const int n = 5, classes = 10;
  const auto z = uniform(std::size_t(n) * classes, 3, -5.f, 5.f);
  const std::vector<std::int32_t> t{2, 9, 0, 4, 4};
  gpu::Tensor logits, dz;
  ctx.upload(z, n, classes, 1, 1, logits);
  gpu::CrossEntropy ce;
  ce.label_smoothing = 0.1;
  const auto got = ce(ctx, logits, t, &dz);
  std::vector<float> want_dz(z.size()), got_dz(z.size());
  const auto want = CrossEntropyLoss{0.1}(z, t, classes, want_dz);
  CHECK(got.loss == doctest::Approx(want.loss).epsilon(1e-12));
  CHECK(got.loss != doctest::Approx(CrossEntropyLoss{}(z, t, classes).loss).epsilon(1e-6));
  ctx.download(dz, got_dz);
  check_close(got_dz, want_dz, 1e-6, 1e-9, "dlogits, label smoothing 0.1");
}

TEST_CASE("cuda hflip mirrors the flagged samples as data::render_image does") {
  Context<cuda> ctx;
  const int n = 3, c = 3, h = 4, w = 5;
  const auto x = uniform(std::size_t(n) * c * h * w, 2);
  const std::vector<float> flags{1, 0, 1};
  gpu::Tensor xt, ft;
  ctx.upload(x, n, c, h, w, xt);
  ctx.upload(flags, n, 1, 1, 1, ft);
  gpu::hflip(ctx, xt, ft);
  std::vector<float> got(x.size()), want(x.size());
  ctx.download(xt, got);
  for (int b = 0; b < n; ++b)
    for (int r = 0; r < c * h; ++r)
      for (int j = 0; j < w; ++j) {
        const std::size_t row = (std::size_t(b) * c * h + r) * w;
        want[row + j] = x[row + (flags[b] != 0 ? w - 1 - j : j)];
      }
  check_close(got, want, 0, 0, "hflip");
}

TEST_CASE("cuda errors name the failing call, file and line") {
  try {
    CTNN_CUDA_CHECK(cudaSetDevice(12345));
    FAIL("cudaSetDevice(12345) succeeded");
  } catch (const Error& e) {
    const std::string what = e.what();
    CHECK(what.find("cudaSetDevice(12345)") != std::string::npos);
    CHECK(what.find("test_cuda_utils.cpp:") != std::string::npos);
    CHECK(what.find("cudaErrorInvalidDevice") != std::string::npos);
  }
  cudaGetLastError();  // clear the runtime's last error, or the next kernel launch check reports it
  CHECK_THROWS_WITH_AS(Context<cuda>(Precision::bf16), doctest::Contains("only float32"), Error);
}
