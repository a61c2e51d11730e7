#pragma once
// load_weights(model, path): the weights of a safetensors file (a ctnn checkpoint, or a PyTorch
// state_dict saved with safetensors.torch.save_file) into a Model, for inference — no optimizer
// needed, unlike train::load_checkpoint, which restores a training run.
//
//   Model<models::AlexNetCifar, models::CifarImage, cpu> model;
//   const WeightsInfo info = load_weights(model, "runs/alexnet/checkpoint.safetensors");
//   // info.normalize: the input normalisation the checkpoint recorded (Trainer writes it)
//
// Tensors are matched by their PyTorch names ("features.0.weight") and shapes, as torch's
// load_state_dict(strict=True): the file's architecture string is not compared, so a checkpoint
// loads into any net with the same tensors (BatchNorm momentum or Dropout do not change them).
// Tensors every checkpoint carries that are not weights are ignored: "optimizer.*" and
// BatchNorm's "<module>.num_batches_tracked".
#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "ctnn/data/cifar10/transforms.hpp"
#include "ctnn/error.hpp"
#include "ctnn/io/safetensors.hpp"
#include "ctnn/summary.hpp"

namespace ctnn {

/// What load_weights read besides the tensors.
struct WeightsInfo {
  std::map<std::string, std::string> metadata;  ///< the file's metadata (architecture, preset, ...)
  /// The input normalisation recorded in the file ("normalize.mean"/"normalize.std", written by
  /// train::Trainer), or nullopt when it has none: then the caller must know it.
  std::optional<data::Normalize> normalize;
};

struct LoadWeightsOptions {
  /// Tensors in the file that the net does not have are an error (torch's strict=True).
  bool strict = true;
};

namespace detail {
inline std::string shape_str(const std::vector<std::int64_t>& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

/// "0.49,0.48,0.45" -> three floats; nullopt if it is not exactly that.
inline std::optional<std::array<float, 3>> parse_float3(std::string_view s) {
  std::array<float, 3> v{};
  for (int i = 0; i < 3; ++i) {
    const std::size_t end = i < 2 ? s.find(',') : s.size();
    if (end == std::string_view::npos) return std::nullopt;
    const std::string_view part = s.substr(0, end);  // written by std::to_chars: C-locale numbers
    const auto [stop, ec] = std::from_chars(part.data(), part.data() + part.size(), v[i]);
    if (part.empty() || ec != std::errc() || stop != part.data() + part.size()) return std::nullopt;
    s.remove_prefix(i < 2 ? end + 1 : end);
  }
  return v;
}

/// The normalisation a checkpoint recorded (data::normalize_metadata), if any. Throws on a
/// malformed value (a present but unreadable normalisation must not be silently ignored).
inline std::optional<data::Normalize> normalize_from_metadata(const std::map<std::string, std::string>& meta,
                                                              const std::string& where) {
  const auto m = meta.find("normalize.mean"), s = meta.find("normalize.std");
  if (m == meta.end() || s == meta.end()) return std::nullopt;
  const auto mean = parse_float3(m->second), std = parse_float3(s->second);
  if (!mean || !std)
    throw Error(where + "malformed normalisation metadata: normalize.mean='" + m->second + "', normalize.std='" +
                s->second + "' (expected three comma-separated numbers each)");
  for (float x : *std)
    if (!(x > 0)) throw Error(where + "normalisation metadata has a standard deviation <= 0: " + s->second);
  return data::Normalize{*mean, *std};
}

/// Not weights: optimizer state and BatchNorm's step counter.
inline bool ignored_tensor(std::string_view name) {
  return name.starts_with("optimizer.") || name.ends_with(".num_batches_tracked") || name == "num_batches_tracked";
}
}  // namespace detail

/// Loads the weights and buffers of `model` from the safetensors file at `path`.
/// Throws ctnn::Error, naming the file, when it cannot be read (missing, corrupt, truncated) or
/// when its tensors do not match the net. The message then counts the problems by kind
/// ("(3 problems: 1 missing, 2 mis-shaped)") and lists them, one per line (the first 20):
///   missing:    'features.3.weight' (net: [128, 96, 5, 5]) is not in the file
///   mis-shaped: 'classifier.0.weight': file [128, 4096], net [128, 4608]
///   unexpected: 'features.20.weight' [10, 10] is in the file but not in the net   (strict only)
///   wrong type: 'features.0.weight' is BF16, expected F32
/// followed by the architecture the file was written for, when it records one. Nothing in the
/// model is modified unless every check passes.
template <class M>
WeightsInfo load_weights(M& model, const std::filesystem::path& path, const LoadWeightsOptions& opt = {}) {
  using Net = typename M::net_type;
  using In = typename M::input_shape;
  const io::SafetensorsFile f = io::load_safetensors(path);
  const std::string where = path.string() + ": ";
  auto tensors = model.named_tensors();
  std::vector<std::string> problems;
  std::vector<std::vector<float>> values(tensors.size());
  std::set<std::string_view> wanted;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const auto& t = tensors[i];
    wanted.insert(t.name);
    const io::TensorRecord* r = f.find(t.name);
    if (!r)
      problems.push_back("missing:    '" + t.name + "' (net: " + detail::shape_str(t.shape) + ") is not in the file");
    else if (r->shape != t.shape)
      problems.push_back("mis-shaped: '" + t.name + "': file " + detail::shape_str(r->shape) + ", net " +
                         detail::shape_str(t.shape));
    else if (r->dtype != "F32")
      problems.push_back("wrong type: '" + t.name + "' is " + r->dtype + ", expected F32");
    else
      values[i] = r->to_floats();
  }
  if (opt.strict)
    for (const auto& r : f.tensors)
      if (!wanted.contains(r.name) && !detail::ignored_tensor(r.name))
        problems.push_back("unexpected: '" + r.name + "' " + detail::shape_str(r.shape) +
                           " is in the file but not in the net");
  if (!problems.empty()) {
    std::string counts;  // by kind, so a cut list still says what is wrong overall
    for (const char* kind : {"missing", "mis-shaped", "wrong type", "unexpected"}) {
      const auto k = std::count_if(problems.begin(), problems.end(),
                                   [&](const std::string& p) { return p.starts_with(std::string(kind) + ":"); });
      if (k) counts += (counts.empty() ? "" : ", ") + std::to_string(k) + " " + kind;
    }
    std::string msg = where + "weights do not match the network (" + std::to_string(problems.size()) +
                      (problems.size() == 1 ? " problem: " : " problems: ") + counts + "):";
    constexpr std::size_t kShown = 20;  // a wholly different net would list hundreds
    for (std::size_t i = 0; i < problems.size() && i < kShown; ++i) msg += "\n  " + problems[i];
    if (problems.size() > kShown) msg += "\n  ... and " + std::to_string(problems.size() - kShown) + " more";
    if (auto it = f.metadata.find("ctnn.architecture"); it != f.metadata.end())
      msg += "\nthe file was written for\n  " + it->second + "\nthis network is\n  " + architecture<Net, In>();
    throw Error(msg);
  }
  WeightsInfo info{f.metadata, detail::normalize_from_metadata(f.metadata, where)};
  for (std::size_t i = 0; i < tensors.size(); ++i)
    std::copy(values[i].begin(), values[i].end(), tensors[i].data.begin());
  return info;
}

}  // namespace ctnn
