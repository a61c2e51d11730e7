// classify: the top-5 CIFAR-10 classes of images, with the weights of a trained AlexNet or ResNet-9.
//
//   classify --weights runs/alexnet/checkpoint.safetensors cat.png [more.jpg ...]
//   classify --weights net.safetensors --mean 0.4914,0.4822,0.4465 --std 0.247,0.2435,0.2616 x.png
//   classify --weights runs/alexnet/checkpoint.safetensors --onnx alexnet.onnx   # ONNX export
//
// Images: anything stb_image reads (PNG, JPEG, BMP, GIF, TGA, ...; grey and alpha become RGB),
// resized to 32×32 (stb_image_resize, Mitchell filter on downscaling) when they are not. The
// weights: a checkpoint of examples/alexnet_cifar10 (any preset) or examples/resnet9_cifar10, or
// a PyTorch state_dict of the same net saved as safetensors; the input normalisation comes from
// the checkpoint (Trainer records it), or --mean/--std. The net (AlexNetCifar, AlexNetCifarBN of
// preset bn, AlexNetCifarPure or ResNet9) is told by the file's tensors (Dropout shifts PyTorch's
// module indices), or chosen with --net. Output per image:
//   cat.png (32x32)
//     1. cat          0.734512
//     2. dog          0.120034
//     ...
// Bad inputs (missing or unreadable image, weights of another net, bad --mean) end with exit code
// 2 and one message saying what is wrong.
#include <stb_image.h>
#include <stb_image_resize.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/data/cifar10.hpp"
#include "ctnn/infer.hpp"
#include "ctnn/models/resnet9.hpp"
#include "ctnn/threads.hpp"
#if CTNN_WITH_ONNX
#include "ctnn/onnx/save.hpp"
#endif

namespace fs = std::filesystem;
using namespace ctnn;

using Backend = ctnn::cpu;  // this build's CPU backend: oneDNN, else Eigen, else reference

struct Args {
  std::string weights, net = "auto", mean, std, onnx;
  std::vector<std::string> images;
  int top = 5, threads = 1;
};

/// A decoded RGB image of the net's size (32×32×3, HWC), and the size it had in the file.
struct Loaded {
  std::vector<std::uint8_t> rgb;
  int width = 0, height = 0;
};

Loaded load_image(const std::string& path) {
  if (!fs::exists(path)) throw Error("image '" + path + "': no such file");
  if (!fs::is_regular_file(path)) throw Error("image '" + path + "': not a regular file");
  int w = 0, h = 0, channels = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> px(stbi_load(path.c_str(), &w, &h, &channels, 3), stbi_image_free);
  if (!px)
    throw Error("image '" + path + "': cannot decode it (stb_image: " + std::string(stbi_failure_reason()) +
                "); PNG, JPEG, BMP, GIF, TGA, PSD, HDR, PIC and PNM are read");
  Loaded out{std::vector<std::uint8_t>(32 * 32 * 3), w, h};
  if (w == 32 && h == 32)
    std::copy_n(px.get(), out.rgb.size(), out.rgb.begin());
  else if (!stbir_resize_uint8(px.get(), w, h, 0, out.rgb.data(), 32, 32, 0, 3))
    throw Error("image '" + path + "': resizing " + std::to_string(w) + "x" + std::to_string(h) + " to 32x32 failed");
  return out;
}

std::array<float, 3> parse3(const std::string& option, const std::string& v) {
  const auto v3 = ctnn::detail::parse_float3(v);
  if (!v3)
    throw Error(option + " '" + v + "': expected three comma-separated numbers (r,g,b), e.g. 0.4914,0.4822,0.4465");
  return *v3;
}

template <class Net>
int run(const Args& a) {
  Model<Net, models::CifarImage, Backend> model;
  WeightsInfo info;
  try {
    info = load_weights(model, a.weights);
  } catch (const Error& e) {
    throw Error(std::string(e.what()) +
                "\n(classify runs the nets of examples/alexnet_cifar10 and examples/resnet9_cifar10: --net "
                "alexnet, bn, pure or resnet9)");
  }
  data::Normalize norm;
  if (!a.mean.empty() || !a.std.empty()) {
    if (a.mean.empty() || a.std.empty()) throw Error("--mean and --std go together");
    norm = {parse3("--mean", a.mean), parse3("--std", a.std)};
    for (float s : norm.std)
      if (!(s > 0)) throw Error("--std '" + a.std + "': every value must be greater than 0");
  } else if (info.normalize) {
    norm = *info.normalize;
  } else {
    throw Error(a.weights + ": the file records no input normalisation (normalize.mean/std); give --mean and --std");
  }
  if (!a.onnx.empty()) {
#if CTNN_WITH_ONNX
    ctnn::onnx::save(model, a.onnx, {.metadata = data::normalize_metadata(norm)});
    std::printf("wrote %s (ONNX opset 13: input 'input' N x 3 x 32 x 32, normalised; output 'output' N x 10 logits)\n",
                a.onnx.c_str());
#else
    throw Error("--onnx: this build has no ONNX export (install libonnx-dev and libprotobuf-dev, then reconfigure)");
#endif
  }
  for (const auto& path : a.images) {
    const Loaded img = load_image(path);
    const Prediction p = predict(model, HwcImage{img.rgb, 32, 32, 3}, norm);
    std::printf("%s (%dx%d%s)\n", path.c_str(), img.width, img.height,
                img.width == 32 && img.height == 32 ? "" : ", resized to 32x32");
    int rank = 0;
    for (const auto& [cls, prob] : p.top(a.top))
      std::printf("  %d. %-12s %.6f\n", ++rank, data::kCifar10Classes[cls], double(prob));
  }
  return 0;
}

int main(int argc, char** argv) {
  Args a;
  CLI::App app{"Print the top-5 CIFAR-10 classes of images with a trained ctnn AlexNet or ResNet-9"};
  app.add_option("--weights", a.weights,
                 "checkpoint.safetensors of examples/alexnet_cifar10 or examples/resnet9_cifar10 (or the same "
                 "net's PyTorch state_dict as safetensors)")
      ->required();
  app.add_option("images", a.images, "PNG/JPEG/BMP/... images; resized to 32x32 when needed");
  app.add_option("--onnx", a.onnx, "also write the net with these weights as an ONNX file (opset 13)");
  app.add_option("--net", a.net,
                 "auto (from the file's tensors), alexnet (presets dropout..max), bn (no Dropout), pure (no "
                 "BatchNorm, no Dropout) or resnet9")
      ->check(CLI::IsMember({"auto", "alexnet", "bn", "pure", "resnet9"}));
  app.add_option("--mean", a.mean, "input normalisation r,g,b in [0,1] units (default: the checkpoint's)");
  app.add_option("--std", a.std, "input normalisation r,g,b (default: the checkpoint's)");
  app.add_option("--top", a.top, "how many classes to print")->check(CLI::Range(1, 10));
  app.add_option("--threads", a.threads, "CPU threads")->check(CLI::PositiveNumber);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "error: " << e.what() << "\n(run with --help for the options)\n";
    return 2;
  }
  if (a.images.empty() && a.onnx.empty()) {
    std::cerr << "error: no image given (and no --onnx)\n(run with --help for the options)\n";
    return 2;
  }
  try {
    ctnn::set_num_threads(a.threads);
    std::string net = a.net;
    if (net == "auto") {  // from the tensors, so a PyTorch state_dict without metadata works too
      const auto f = io::load_safetensors(a.weights);    // fails clearly on a missing/corrupt file
      net = f.find("19.weight")             ? "resnet9"  // its Linear (models/resnet9.hpp)
            : f.find("classifier.8.weight") ? "alexnet"
            : f.find("classifier.6.weight") ? "bn"
            : f.find("classifier.4.weight") ? "pure"
                                            : "alexnet";  // none: load_weights lists what differs
    }
    if (net == "pure") return run<models::AlexNetCifarPure>(a);
    if (net == "bn") return run<models::AlexNetCifarBN>(a);
    if (net == "resnet9") return run<models::ResNet9>(a);
    return run<models::AlexNetCifar>(a);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
}
