// Whole-model behaviour of the CUDA backend: the seed AlexNet trains like the reference for a few
// SGD steps; optimizer steps on the device equal the host's; push/pull move parameters as
// documented; and a small net learns a synthetic task.
#include "ctnn/models/alexnet_cifar.hpp"
#include "tests/cuda/parity.hpp"

using namespace ctnn;
using cuda_test::check_close;
using cuda_test::uniform;

namespace {

std::vector<std::int32_t> labels(int n, int classes, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::int32_t> t(n);
  for (auto& v : t) v = std::int32_t(rng() % std::uint64_t(classes));
  return t;
}

/// forward, loss, backward; returns the loss. The optimizer step is the caller's.
template <class M>
double train_step(M& m, std::span<const float> x, std::span<const std::int32_t> t) {
  const auto logits = m.forward(x, int(t.size()));
  std::vector<float> d(logits.size());
  const double loss = CrossEntropyLoss{}(logits, t, M::output_shape::size, d).loss;
  m.backward(d);
  return loss;
}

}  // namespace

// One step only: with random weights, a batch of 3 and BatchNorm1d's 1/σ over 3 samples, the
// second step's gradients carry ReLU/max-pool kink flips (measured on an H200: 6 % relative after
// one SGD step, against 1e-6 before it). The whole net against PyTorch over 3 steps, on inputs
// kept away from the kinks, is test_cuda_pytorch.
TEST_CASE("cuda AlexNet: an SGD step equals the reference backend's (dropout off)") {
  using models::AlexNetCifar, models::CifarImage;
  Model<AlexNetCifar, CifarImage, reference> ref(3);
  Model<AlexNetCifar, CifarImage, cuda> gpu(3);
  gpu.context().allow_tf32 = false;
  ref.set_dropout(0), gpu.set_dropout(0);
  SGD sr(0.01f, 0.9f, 0.f, 5e-4f), sg = sr;
  const int n = 3;
  const auto x = uniform(std::size_t(n) * CifarImage::size, 100);
  const auto t = labels(n, 10, 200);
  const double lr = train_step(ref, x, t), lg = train_step(gpu, x, t);
  CHECK(lg == doctest::Approx(lr).epsilon(1e-4));
  cuda_test::check_rel_l2(gpu.gradients(), ref.gradients(), 1e-3, "gradients");
  sr.step(ref.parameters(), ref.gradients());
  sg.step(gpu.parameters(), gpu.gradients());  // Sync::host: the host step reaches the device at the next forward
  check_close(gpu.parameters(), ref.parameters(), 1e-3, 1e-6, "parameters after the step");
  check_close(gpu.buffers(), ref.buffers(), 1e-3, 1e-5, "running statistics after the step");
  ref.eval(), gpu.eval();
  const auto x2 = uniform(std::size_t(n) * CifarImage::size, 300);
  check_close(cuda_test::copy(gpu, x2, n), cuda_test::copy(ref, x2, n), 1e-3, 1e-4, "eval logits after the step");
}

TEST_CASE("cuda update(): SGD and Adam on the device equal the host optimizers") {
  using Net = Sequential<Linear<6, 4>, BatchNorm1d, ReLU, Linear<4, 3>>;
  auto check_optimizer = [](auto opt, const char* what) {
    Model<Net, Shape<6>, cuda> host(5), dev(5);
    auto host_opt = opt, dev_opt = opt;
    for (int step = 0; step < 3; ++step) {
      const auto x = uniform(4 * 6, 10 + step);
      const auto t = labels(4, 3, 20 + step);
      train_step(host, x, t);
      host_opt.step(host.parameters(), host.gradients());  // Sync::host
      train_step(dev, x, t);
      dev.context().update(dev_opt);  // switches to Sync::device
    }
    CHECK(dev.context().sync == gpu::Sync::device);
    dev.context().pull(dev_opt);
    check_close(dev.parameters(), host.parameters(), 1e-6, 1e-7, std::string(what) + ": parameters");
    check_close(dev.buffers(), host.buffers(), 1e-6, 1e-7, std::string(what) + ": buffers");
    return std::pair(host_opt, dev_opt);
  };
  auto [sh, sd] = check_optimizer(SGD(0.1f, 0.9f, 0.f, 1e-3f, true), "sgd nesterov");
  check_close(sd.momentum_buffer, sh.momentum_buffer, 1e-6, 1e-7, "sgd momentum buffer (pulled)");
  auto [ah, ad] = check_optimizer(Adam(0.01f, 0.9f, 0.999f, 1e-8f, 1e-2f), "adam");
  CHECK(ad.t == ah.t);
  check_close(ad.exp_avg, ah.exp_avg, 1e-6, 1e-7, "adam exp_avg");
  check_close(ad.exp_avg_sq, ah.exp_avg_sq, 1e-6, 1e-9, "adam exp_avg_sq");
  // Weight decay on the Linear weights only (optim/param_groups.hpp): one kernel launch per run.
  auto masked = [](auto opt) {
    Model<Net, Shape<6>, cuda> m(5);
    opt.no_decay = no_decay_ranges(m);
    REQUIRE(opt.no_decay.size() == 2);  // Linear 0 bias + BatchNorm weight, bias; Linear 1 bias
    return opt;
  };
  check_optimizer(masked(SGD(0.1f, 0.9f, 0.f, 5e-2f, true)), "sgd nesterov, weight decay on weights only");
  check_optimizer(masked(Adam(0.01f, 0.9f, 0.999f, 1e-8f, 5e-2f)), "adam, weight decay on weights only");
}

TEST_CASE("cuda Sync::device: host writes need push(), host reads need pull()") {
  Model<Sequential<Linear<3, 2>>, Shape<3>, cuda> m(1);
  const std::vector<float> x{1, 2, 3};
  const auto y0 = cuda_test::copy(m, x, 1);
  m.context().sync = gpu::Sync::device;
  const auto saved = std::vector<float>(m.parameters().begin(), m.parameters().end());
  std::fill(m.parameters().begin(), m.parameters().end(), 0.f);
  check_close(cuda_test::copy(m, x, 1), y0, 0, 0, "device copy unchanged before push");
  m.context().push();
  check_close(cuda_test::copy(m, x, 1), std::vector<float>{0, 0}, 0, 0, "zeros after push");
  std::copy(saved.begin(), saved.end(), m.parameters().begin());
  m.context().push();
  std::fill(m.parameters().begin(), m.parameters().end(), 7.f);
  m.context().pull();
  check_close(m.parameters(), saved, 0, 0, "pull brings the device values back");
}

TEST_CASE("cuda a small net learns a synthetic task (loss falls, accuracy rises)") {
  using Net = Sequential<Conv2d<3, 8, 3, 1, 1>, BatchNorm2d, ReLU, MaxPool2d<2, 2>, Flatten, Linear<128, 16>,
                         BatchNorm1d, ReLU, Dropout, Linear<16, 2>>;
  Model<Net, Shape<3, 8, 8>, cuda> m(11);
  // Class 1 images are brighter in the top half, class 0 in the bottom half, under noise.
  const int n = 64;
  auto x = uniform(std::size_t(n) * 3 * 64, 1, -0.5f, 0.5f);
  const auto t = labels(n, 2, 2);
  for (int b = 0; b < n; ++b)
    for (int c = 0; c < 3; ++c)
      for (int i = 0; i < 8; ++i)
        for (int j = 0; j < 8; ++j)
          x[((std::size_t(b) * 3 + c) * 8 + i) * 8 + j] += (i < 4) == (t[b] == 1) ? 0.5f : 0.f;
  auto evaluate = [&] {
    m.eval();
    const auto r = CrossEntropyLoss{}(m.forward(x, n), t, 2);
    m.train();
    return r;
  };
  const auto before = evaluate();
  SGD sgd(0.05f, 0.9f);
  for (int step = 0; step < 40; ++step) {
    train_step(m, x, t);
    m.context().update(sgd);
  }
  const auto after = evaluate();
  MESSAGE("synthetic task: eval loss " << before.loss << " -> " << after.loss << ", correct " << before.correct
                                       << " -> " << after.correct << " of " << n);
  CHECK(after.loss < 0.5 * before.loss);
  CHECK(after.correct >= 0.9 * n);
}

// The seed net's forward, cut after each block, on both backends from the same initial values:
// locates where the two part ways (each prefix is its own net: Model exposes only the output).
template <class Net, class In>
double prefix_error(int n) {
  Model<Net, In, reference> ref(4);
  Model<Net, In, cuda> gpu(4);
  gpu.context().allow_tf32 = false;
  const auto x = uniform(std::size_t(n) * In::size, 400);
  const auto yr = cuda_test::copy(ref, x, n), yg = cuda_test::copy(gpu, x, n);
  double d = 0, e = 0;
  for (std::size_t i = 0; i < yr.size(); ++i)
    d += (double(yg[i]) - yr[i]) * (double(yg[i]) - yr[i]), e += double(yr[i]) * yr[i];
  return std::sqrt(d / e);
}

TEST_CASE("cuda AlexNet forward, block by block, matches the reference") {
  using namespace ctnn::models;
  using B1 = Sequential<Conv2d<3, 96, 3, 1, 1>, BatchNorm2d, ReLU, MaxPool2d<2, 2>>;
  using B2 = concat_t<B1, Sequential<Conv2d<96, 128, 5, 1, 2>, BatchNorm2d, ReLU, MaxPool2d<2, 1>>>;
  using B3 = concat_t<B2, Sequential<Conv2d<128, 256, 3>, BatchNorm2d, ReLU>>;
  using B4 = concat_t<B3, Sequential<Conv2d<256, 256, 3, 1, 1>, BatchNorm2d, ReLU>>;
  using B5 = AlexNetFeatures<>;
  using C1 = concat_t<B5, Sequential<Flatten, Linear<4608, 128>>>;
  const double e[] = {prefix_error<B1, CifarImage>(8),
                      prefix_error<B2, CifarImage>(8),
                      prefix_error<B3, CifarImage>(8),
                      prefix_error<B4, CifarImage>(8),
                      prefix_error<B5, CifarImage>(8),
                      prefix_error<C1, CifarImage>(8),
                      prefix_error<AlexNetCifarBN, CifarImage>(8)};
  const char* names[] = {"features.0-3",    "features.0-7",   "features.0-10",         "features.0-13",
                         "features (0-17)", "+ classifier.0", "whole net (no dropout)"};
  for (int i = 0; i < 7; ++i) {
    MESSAGE(std::string(names[i]) << ": relative L2 error " << e[i]);
    CHECK(e[i] < 1e-4);
  }
}
