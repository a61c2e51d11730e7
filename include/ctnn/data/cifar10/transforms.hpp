#pragma once
// CIFAR-10 transforms: per-channel normalisation (and the checkpoint metadata that records it),
// training-time augmentation (flip, padded crop) and the renderer that applies both to one image.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>

#include "ctnn/data/cifar10/format.hpp"
#include "ctnn/error.hpp"

namespace ctnn::data {

/// Per-channel normalisation, in [0,1] pixel units: x = (pixel/255 - mean[c]) / std[c].
struct Normalize {
  std::array<float, 3> mean{0.f, 0.f, 0.f}, std{1.f, 1.f, 1.f};

  /// Mean and population std (divide by N) per channel over all pixels of `split`.
  /// Throws ctnn::Error if the split is empty or inconsistent. A constant channel gives std 0.
  static Normalize from(const Cifar10Split& split) {
    detail::check_split(split, "Normalize::from");
    if (split.size() == 0) throw Error("Normalize::from: empty split");
    // Integer sums are exact (max 255^2 * 3.1e7 < 2^64), so var = E[x^2]-E[x]^2 loses little.
    std::uint64_t s[3] = {0, 0, 0}, ss[3] = {0, 0, 0};
    for (std::size_t i = 0; i < split.size(); ++i)
      for (int c = 0; c < 3; ++c) {
        const std::uint8_t* p = split.images.data() + i * kCifarPixels + c * 1024;
        for (int k = 0; k < 1024; ++k) s[c] += p[k], ss[c] += std::uint64_t(p[k]) * p[k];
      }
    Normalize n;
    const double cnt = double(split.size()) * 1024.0;
    for (int c = 0; c < 3; ++c) {
      const double m = double(s[c]) / cnt, var = std::max(0.0, double(ss[c]) / cnt - m * m);
      n.mean[c] = float(m / 255.0);
      n.std[c] = float(std::sqrt(var) / 255.0);
    }
    return n;
  }
};

/// Training-time augmentation, as torchvision RandomCrop(32, padding[, padding_mode='reflect'])
/// then RandomHorizontalFlip.
struct Augment {
  bool hflip = false;    ///< mirror the width with probability 1/2
  int crop_padding = 0;  ///< random 32x32 crop of the image padded by this many pixels; 0 = off
  bool crop_reflect =
      false;  ///< pad by reflection (torch 'reflect': the edge pixel not repeated; padding <= 31), not zeros
};

/// Renders one CHW uint8 image to normalised float CHW at `out` (3072 floats). The crop takes
/// the 32x32 window at (dy, dx), each in [0, 2*pad], of the image zero-padded by `pad` (raw
/// pixel 0, normalised afterwards, as torchvision); then `flip` mirrors the width.
/// pad = dy = dx = 0, flip = false is the plain image. `reflect` pads by reflection instead
/// (torch.nn.functional.pad mode 'reflect': index −i reads i, 31 + i reads 31 − i; pad <= 31).
inline void render_image(const std::uint8_t* chw, const Normalize& norm, bool flip, int pad, int dy, int dx, float* out,
                         bool reflect = false) {
  for (int c = 0; c < 3; ++c) {
    const float scale = 1.f / (255.f * norm.std[c]), bias = -norm.mean[c] / norm.std[c];
    const std::uint8_t* src = chw + c * 1024;
    for (int y = 0; y < 32; ++y) {
      int sy = y + dy - pad;
      if (reflect) sy = sy < 0 ? -sy : sy > 31 ? 62 - sy : sy;
      for (int x = 0; x < 32; ++x) {
        int sx = (flip ? 31 - x : x) + dx - pad;
        if (reflect) sx = sx < 0 ? -sx : sx > 31 ? 62 - sx : sx;
        const bool in = sy >= 0 && sy < 32 && sx >= 0 && sx < 32;
        out[c * 1024 + y * 32 + x] = float(in ? src[sy * 32 + sx] : 0) * scale + bias;
      }
    }
  }
}

/// What a user of trained weights needs to feed the net the way it was trained: the
/// normalisation as checkpoint metadata ("normalize.mean", "normalize.std": "r,g,b").
/// Each value is written shortest-round-trip (std::to_chars, as fmt's "{}").
inline std::map<std::string, std::string> normalize_metadata(const Normalize& n) {
  auto join = [](const std::array<float, 3>& v) {
    std::string s;
    for (float x : v) {
      char buf[32];
      s.append(buf, std::to_chars(buf, buf + sizeof buf, x).ptr).push_back(',');
    }
    s.pop_back();
    return s;
  };
  return {{"normalize.mean", join(n.mean)}, {"normalize.std", join(n.std)}};
}

}  // namespace ctnn::data
