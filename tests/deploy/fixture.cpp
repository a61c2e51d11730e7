// deploy_fixture OUT [DATA]: the files the deployment checks compare against (tests/deploy/*.sh).
// For each net — "alexnet", "alexnet_bn", "alexnet_pure" (models::AlexNetCifar, AlexNetCifarBN,
// AlexNetCifarPure: the example's presets) and "zoo", "zoo2" (every other layer type) — it
// writes, from seeded random weights whose BatchNorm running statistics are set by one training-mode
// pass over the images (momentum 1, dropout off: realistic statistics, not the initial 0/1):
//   <net>.safetensors    a checkpoint (train::save_checkpoint, with the input normalisation)
//   <net>.onnx           ctnn::onnx::save of the same model (only in builds with ctnn::onnx)
//   <net>.logits.f32     ctnn's evaluation-mode logits of the images, N × 10 float32 (oneDNN backend
//                        when the build has it, else the reference backend)
// and once: images.u8 (N × 3 × 32 × 32 uint8, CHW), labels.u8, inputs.f32 (the normalised N × 3 ×
// 32 × 32 float32 the logits were computed from) and manifest.json (N, normalisation, source).
// The images are the first N=16 of CIFAR-10's test split when DATA holds it, else seeded random
// pixels. Everything is deterministic. Where ctnn/models/resnet9.hpp exists (branch `residual`),
// "resnet9" (models::ResNet9, Residual blocks) is one more net.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/data/cifar10.hpp"
#include "ctnn/train/checkpoint.hpp"
#if CTNN_WITH_ONNX
#include "ctnn/onnx/save.hpp"
constexpr bool kWithOnnx = true;
#else
constexpr bool kWithOnnx = false;
#endif
#include "ctnn/models/resnet9.hpp"

namespace fs = std::filesystem;
using namespace ctnn;

using Backend = ctnn::cpu;  // this build's CPU backend: oneDNN, else Eigen, else reference

// Every layer type but the AlexNet ones, at least once: bias-free conv, LeakyReLU, padded AvgPool,
// Tanh, GELU, Sigmoid, the two global pools, Scale, a bias-free Linear, BatchNorm1d, Dropout.
// clang-format off
using Zoo = Sequential<Conv2d<3, 16, 3, 1, 1, false>, BatchNorm2d, LeakyReLU<0.1_r>, AvgPool2d<3, 2, 1>,   // 16×16×16
                       Conv2d<16, 24, 3, 1, 1>, Tanh, MaxPool2d<2>,                                         // 24×8×8
                       Conv2d<24, 32, 3>, GELU, Conv2d<32, 32, 1>, Sigmoid, AdaptiveMaxPool2d<1>, Flatten,  // 32
                       Linear<32, 64>, BatchNorm1d, GELU, Dropout, Linear<64, 10, false>, Scale<Ratio{5, 2}>>;
using Zoo2 = Sequential<Conv2d<3, 32, 5, 2, 2>, BatchNorm2d, ReLU, AvgPool2d<2>, Conv2d<32, 48, 3, 1, 1>, ReLU,
                        AdaptiveAvgPool2d<1>, Flatten, Linear<48, 10>>;
// clang-format on

namespace {

void write_bytes(const fs::path& p, const void* data, std::size_t n) {
  std::ofstream f(p, std::ios::binary);
  f.write(static_cast<const char*>(data), std::streamsize(n));
  if (!f) throw Error("deploy_fixture: cannot write " + p.string());
}

template <class Net>
void export_net(const std::string& name, const std::string& preset, const fs::path& out,
                const std::vector<float>& inputs, int n, const data::Normalize& norm, std::uint64_t seed) {
  // BatchNorm momentum 1: one training-mode pass sets the running statistics to the batch's.
  Model<Net, models::CifarImage, Backend> model(seed);
  model.set_dropout(0.f);
  model.train();
  model.forward(inputs, n);
  model.set_dropout(-1.f);
  model.eval();
  const auto logits = model.forward(inputs, n);
  write_bytes(out / (name + ".logits.f32"), logits.data(), logits.size() * sizeof(float));
  train::TrainState st;
  st.extra = data::normalize_metadata(norm);
  st.extra["preset"] = preset;  // torch_eval_checkpoint.py builds the net from it
  train::save_checkpoint(out / (name + ".safetensors"), model, SGD(0.1f), st);
#if CTNN_WITH_ONNX
  ctnn::onnx::save(model, out / (name + ".onnx"), {.metadata = data::normalize_metadata(norm)});
#endif
  std::cout << name << ": " << Model<Net, models::CifarImage, Backend>::num_parameters << " parameters\n";
}

// A BatchNorm momentum of 1 (the running statistics become the last batch's).
template <class Net>
struct Momentum1;
template <class... L>
struct Momentum1<Sequential<L...>> {
  template <class X>
  struct fix {
    using type = X;
  };
  template <int D, Ratio M, Ratio E>
  struct fix<BatchNorm<D, M, E>> {
    using type = BatchNorm<D, Ratio{1, 1}, E>;
  };
  template <class... Ls>
  struct fix<Sequential<Ls...>> {
    using type = Sequential<typename fix<Ls>::type...>;
  };
  template <fixed_string P, class... Ls>
  struct fix<Named<P, Sequential<Ls...>>> {
    using type = Named<P, Sequential<typename fix<Ls>::type...>>;
  };
  template <class B, class Pr>
  struct fix<Residual<B, Pr>> {
    using type = Residual<typename fix<B>::type, typename fix<Pr>::type>;
  };
  using type = Sequential<typename fix<L>::type...>;
};

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 2) {
    std::cerr << "usage: deploy_fixture OUT_DIR [CIFAR10_DIR]\n";
    return 2;
  }
  const fs::path out = argv[1];
  fs::create_directories(out);
  constexpr int n = 16;
  std::vector<std::uint8_t> images(n * data::kCifarPixels), labels(n, 0);
  std::string source = "random";
  if (argc > 2 &&
      (fs::exists(fs::path(argv[2]) / "test_batch.bin") || fs::exists(fs::path(argv[2]) / "test_batch.bin.gz"))) {
    const auto d = data::Cifar10::load(argv[2], 1, n);  // one training image: the reader wants both splits
    std::copy_n(d.test.images.begin(), images.size(), images.begin());
    std::copy_n(d.test.labels.begin(), n, labels.begin());
    source = "cifar10 test_batch, first " + std::to_string(n);
  } else {
    std::mt19937 rng(12345);
    for (auto& p : images) p = std::uint8_t(rng() & 0xff);
  }
  const data::Normalize norm{{0.4914f, 0.4822f, 0.4465f}, {0.2470f, 0.2435f, 0.2616f}};
  std::vector<float> inputs(images.size());
  for (int i = 0; i < n; ++i)
    data::render_image(&images[i * data::kCifarPixels], norm, false, 0, 0, 0, &inputs[i * data::kCifarPixels]);
  write_bytes(out / "images.u8", images.data(), images.size());
  write_bytes(out / "labels.u8", labels.data(), labels.size());
  write_bytes(out / "inputs.f32", inputs.data(), inputs.size() * sizeof(float));

  export_net<typename Momentum1<models::AlexNetCifar>::type>("alexnet", "best", out, inputs, n, norm, 7);
  export_net<typename Momentum1<models::AlexNetCifarBN>::type>("alexnet_bn", "bn", out, inputs, n, norm, 10);
  export_net<models::AlexNetCifarPure>("alexnet_pure", "pure", out, inputs, n, norm, 11);
  export_net<typename Momentum1<Zoo>::type>("zoo", "zoo", out, inputs, n, norm, 8);
  export_net<typename Momentum1<Zoo2>::type>("zoo2", "zoo2", out, inputs, n, norm, 9);
  std::vector<std::string> nets{"alexnet", "alexnet_bn", "alexnet_pure", "zoo", "zoo2", "resnet9"};
  export_net<typename Momentum1<models::ResNet9>::type>("resnet9", "resnet9", out, inputs, n, norm, 12);

  nlohmann::json m{{"n", n},          {"source", source}, {"mean", norm.mean},
                   {"std", norm.std}, {"nets", nets},     {"onnx", kWithOnnx}};
  std::ofstream(out / "manifest.json") << m.dump(2) << "\n";
  return 0;
} catch (const std::exception& e) {
  std::cerr << "deploy_fixture: error: " << e.what() << "\n";
  return 1;
}
