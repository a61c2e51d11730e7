// gpu_step: time of one AlexNet training step (forward, host cross-entropy, backward, SGD) and of
// inference on the CUDA backend, per batch size, for both ways of keeping the parameters:
//   device  update() on the device (Sync::device: only images, logits and dlogits cross PCIe)
//   host    SGD::step on the host arenas (Sync::host: what Trainer does today)
//   gpu_step [--iters N] [--tf32 0|1] [batch ...]        (default batches: 128 256)
// Prints one line per (batch, mode): ms per step, images/s; exit 77 without a CUDA device.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backends/cuda/all.hpp"
#include "ctnn/loss.hpp"
#include "ctnn/model.hpp"
#include "ctnn/models/alexnet_cifar.hpp"
#include "ctnn/optim/sgd.hpp"

using namespace ctnn;
using Clock = std::chrono::steady_clock;
using Net = models::AlexNetCifarM<0.9_r>;  // the example's --preset best network
using Img = models::CifarImage;

namespace {

struct Data {
  std::vector<float> x;
  std::vector<std::int32_t> t;
};

Data random_batch(int n) {
  std::mt19937 rng(1);
  std::normal_distribution<float> g;
  Data d{std::vector<float>(std::size_t(n) * Img::size), std::vector<std::int32_t>(n)};
  for (auto& v : d.x) v = g(rng);
  for (auto& v : d.t) v = std::int32_t(rng() % 10);
  return d;
}

/// Seconds per call of f, after `warmup` untimed calls.
template <class F>
double per_call(F&& f, int iters, int warmup = 3) {
  for (int i = 0; i < warmup; ++i) f();
  const auto t0 = Clock::now();
  for (int i = 0; i < iters; ++i) f();
  return std::chrono::duration<double>(Clock::now() - t0).count() / iters;
}

void run(int n, int iters, bool tf32) {
  const Data d = random_batch(n);
  std::vector<float> dlogits(std::size_t(n) * 10);
  for (const bool on_device : {true, false}) {
    Model<Net, Img, cuda> model(1);
    model.context().allow_tf32 = tf32;
    SGD sgd(0.01f, 0.9f, 0.f, 5e-4f);
    const double s = per_call(
        [&] {
          const auto logits = model.forward(d.x, n);
          CrossEntropyLoss{}(logits, d.t, 10, dlogits);
          model.backward(dlogits);
          if (on_device)
            model.context().update(sgd);
          else
            sgd.step(model.parameters(), model.gradients());
        },
        iters);
    std::printf("train  batch %4d  %-6s  %8.3f ms/step  %9.0f img/s\n", n, on_device ? "device" : "host", s * 1e3,
                n / s);
  }
  Model<Net, Img, cuda> model(1);
  model.context().allow_tf32 = tf32;
  model.eval();
  const double s = per_call([&] { model.forward(d.x, n); }, iters);
  std::printf("infer  batch %4d  %-6s  %8.3f ms/batch %9.0f img/s\n", n, "", s * 1e3, n / s);
}

}  // namespace

int main(int argc, char** argv) {
  int iters = 50;
  bool tf32 = true;
  std::vector<int> batches;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--iters") && i + 1 < argc)
      iters = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--tf32") && i + 1 < argc)
      tf32 = std::atoi(argv[++i]) != 0;
    else
      batches.push_back(std::atoi(argv[i]));
  }
  if (batches.empty()) batches = {128, 256};
  if (!gpu::device_available()) {
    std::printf("gpu_step: no CUDA device\n");
    return 77;
  }
  cudaDeviceProp prop{};
  CTNN_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("gpu_step: %s, AlexNetCifar (preset best), %d timed steps, TF32 %s\n", prop.name, iters,
              tf32 ? "on" : "off");
  try {
    for (int n : batches) run(n, iters, tf32);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gpu_step: %s\n", e.what());
    return 1;
  }
  return 0;
}
