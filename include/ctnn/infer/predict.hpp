#pragma once
// predict(model, image): the class probabilities of ONE image, in evaluation mode (BatchNorm uses
// its running statistics, Dropout is the identity), whatever mode the model was in (restored after).
//
//   auto info = load_weights(model, "checkpoint.safetensors");            // infer/weights.hpp
//   Prediction p = predict(model, HwcImage{pixels, 32, 32, 3}, *info.normalize);  // uint8 RGB
//   for (auto [cls, prob] : p.top(5)) ...
//
// Two inputs: a C×H×W float image already normalised as in training (NCHW with N = 1), or an
// H×W×C uint8 image (interleaved RGB, as image files decode) with the per-channel normalisation
// x = (pixel/255 − mean[c]) / std[c] — data::Normalize, the one training used and checkpoints record.
// The image must already have the net's input size (resizing is the caller's choice of filter;
// examples/classify.cpp resizes with stb_image_resize).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "ctnn/data/cifar10/transforms.hpp"
#include "ctnn/error.hpp"

namespace ctnn {

/// The output of the net for one image.
struct Prediction {
  std::vector<float> logits;         ///< the net's raw output
  std::vector<float> probabilities;  ///< softmax of the logits (sums to 1)

  /// Index of the most probable class (the first on ties).
  int label() const {
    return int(std::max_element(probabilities.begin(), probabilities.end()) - probabilities.begin());
  }
  /// The k most probable classes as (index, probability), most probable first; ties keep the lower
  /// index first. k is clamped to the number of classes.
  std::vector<std::pair<int, float>> top(int k) const {
    std::vector<int> idx(probabilities.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return probabilities[a] > probabilities[b]; });
    idx.resize(std::size_t(std::clamp(k, 0, int(idx.size()))));
    std::vector<std::pair<int, float>> out;
    for (int i : idx) out.emplace_back(i, probabilities[i]);
    return out;
  }
};

/// An interleaved H×W×C uint8 image (row-major, channels last: what PNG/JPEG decoders give).
struct HwcImage {
  std::span<const std::uint8_t> pixels;  ///< height·width·channels values
  int height = 0, width = 0, channels = 0;
};

/// Softmax in double (the logits of a confident net differ by tens), max subtracted first.
inline std::vector<float> softmax(std::span<const float> logits) {
  std::vector<float> p(logits.size());
  if (logits.empty()) return p;
  const double m = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float z : logits) sum += std::exp(double(z) - m);
  for (std::size_t i = 0; i < logits.size(); ++i) p[i] = float(std::exp(double(logits[i]) - m) / sum);
  return p;
}

/// One already normalised C×H×W float image (the net's input shape) → its prediction. Runs in
/// evaluation mode and restores the model's mode. Throws ctnn::Error if chw.size() is not C·H·W.
template <class M>
Prediction predict(M& model, std::span<const float> chw) {
  using In = typename M::input_shape;
  if (chw.size() != In::size)
    throw Error("predict: the image holds " + std::to_string(chw.size()) + " values, the net takes " +
                std::to_string(In::c) + " x " + std::to_string(In::h) + " x " + std::to_string(In::w) + " = " +
                std::to_string(In::size));
  struct ModeGuard {  // restore training mode even when forward throws
    M& m;
    bool was;
    ~ModeGuard() { m.train(was); }
  } guard{model, model.training()};
  model.eval();
  const auto out = model.forward(chw, 1);
  Prediction p;
  p.logits.assign(out.begin(), out.end());
  p.probabilities = softmax(p.logits);
  return p;
}

/// One H×W×C uint8 image, normalised with `norm` as in training ((pixel/255 − mean)/std per
/// channel), → its prediction. Throws ctnn::Error when its size or channel count is not the net's.
template <class M>
Prediction predict(M& model, const HwcImage& image, const data::Normalize& norm) {
  using In = typename M::input_shape;
  static_assert(In::c == 3 && !In::flat, "predict(HwcImage): the net must take 3-channel images");
  if (image.height != In::h || image.width != In::w || image.channels != In::c)
    throw Error("predict: image is " + std::to_string(image.width) + "x" + std::to_string(image.height) + " with " +
                std::to_string(image.channels) + " channels, the net takes " + std::to_string(In::w) + "x" +
                std::to_string(In::h) + " with " + std::to_string(In::c) + " (resize it first)");
  if (image.pixels.size() != std::size_t(In::size))
    throw Error("predict: image holds " + std::to_string(image.pixels.size()) + " bytes, expected " +
                std::to_string(In::size));
  std::vector<float> chw(In::size);
  for (int c = 0; c < 3; ++c) {
    // The same float arithmetic as data::render_image, so an image decoded from a PNG of a CIFAR-10
    // record gives bit for bit the input the evaluation of that record gives.
    const float scale = 1.f / (255.f * norm.std[c]), bias = -norm.mean[c] / norm.std[c];
    for (int y = 0; y < In::h; ++y)
      for (int x = 0; x < In::w; ++x)
        chw[(c * In::h + y) * In::w + x] = float(image.pixels[(y * In::w + x) * 3 + c]) * scale + bias;
  }
  return predict(model, std::span<const float>(chw));
}

}  // namespace ctnn
