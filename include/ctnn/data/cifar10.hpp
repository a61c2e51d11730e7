#pragma once
// ctnn::data — CIFAR-10 "binary version" reader/writer, normalisation, augmentation, and a
// batch loader that prepares the next batch on a background thread.
//
// File format (per record, no header): 1 label byte (0..9), then 3072 pixel bytes: the R, G
// and B planes, each 32x32 row-major. Files may be plain (.bin) or gzip (.bin.gz); needs -lz.
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ctnn/error.hpp"

namespace ctnn::data {

inline constexpr int kCifarChannels = 3, kCifarHeight = 32, kCifarWidth = 32,
                     kCifarPixels = 3072, kCifarRecord = 3073, kCifarClasses = 10;
inline const std::array<const char*, 10> kCifar10Classes{
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};

/// A set of images with labels, kept as raw bytes (3 KiB/image instead of 12 KiB as float).
struct Cifar10Split {
  std::vector<std::uint8_t> images;  ///< size()*3072 bytes; image i is CHW [3][32][32] at i*3072
  std::vector<std::uint8_t> labels;  ///< size() labels, each 0..9
  std::size_t size() const { return labels.size(); }
};

namespace detail {
struct GzClose {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzPtr = std::unique_ptr<gzFile_s, GzClose>;

[[noreturn]] inline void throw_gz(const std::string& name, gzFile_s* gz) {
  int errnum = Z_OK;
  const char* msg = gzerror(gz, &errnum);
  throw Error("cifar10: " + name + ": corrupt gzip stream: zlib: " + (msg ? msg : "unknown error"));
}

inline void check_size(const std::string& name, std::uintmax_t bytes, const char* what) {
  if (bytes == 0)
    throw Error("cifar10: " + name + ": " + what +
                " size is 0 bytes, expected a multiple of 3073 bytes (at least one record)");
  if (bytes % kCifarRecord != 0)
    throw Error("cifar10: " + name + ": " + what + " size is " + std::to_string(bytes) +
                " bytes, expected a multiple of 3073 bytes (1 label + 3072 pixels per record); "
                "the file is truncated or is not a CIFAR-10 binary batch");
}

inline void check_split(const Cifar10Split& s, const char* who) {
  if (s.images.size() != s.labels.size() * kCifarPixels)
    throw Error(std::string(who) + ": split has " + std::to_string(s.labels.size()) +
                " labels but " + std::to_string(s.images.size()) + " image bytes, expected " +
                std::to_string(s.labels.size() * kCifarPixels));
}

/// splitmix64 finaliser: spreads every input bit over the output, so nearby (seed, epoch, batch)
/// triples give unrelated mt19937_64 seeds.
inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
inline std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t epoch, std::uint64_t stream) {
  return splitmix64(splitmix64(splitmix64(seed) + epoch) + stream);
}
}  // namespace detail

/// Reads one CIFAR-10 binary file, plain ("x.bin") or gzip ("x.bin.gz"; gzread also reads plain
/// files transparently, so the content decides, not the name). Keeps the first `limit` records
/// (0 = all) and stops reading once it has them.
/// Throws ctnn::Error if the file is missing or unreadable, the gzip stream is corrupt, the
/// (uncompressed) size is 0 or not a multiple of 3073 bytes, or a label byte is >= 10.
inline Cifar10Split read_cifar10_file(const std::filesystem::path& path, std::size_t limit = 0) {
  const std::string name = path.string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw Error("cifar10: " + name + ": file not found (or not a regular file)");
  errno = 0;
  detail::GzPtr gz(gzopen(name.c_str(), "rb"));
  if (!gz) throw Error("cifar10: " + name + ": cannot open: " + std::strerror(errno));
  gzbuffer(gz.get(), 1 << 20);
  // For a plain file the size is known up front, so truncation is caught even with a limit.
  if (gzdirect(gz.get())) detail::check_size(name, std::filesystem::file_size(path, ec), "file");

  Cifar10Split out;
  constexpr std::size_t kChunk = 512;  // records per read (~1.5 MiB): bounds memory with a limit
  std::vector<unsigned char> buf;
  std::uintmax_t total = 0;  // uncompressed bytes read so far
  bool eof = false;
  while (!eof && (limit == 0 || out.size() < limit)) {
    buf.resize((limit ? std::min(kChunk, limit - out.size()) : kChunk) * kCifarRecord);
    std::size_t got = 0;
    while (got < buf.size()) {
      const int n = gzread(gz.get(), buf.data() + got, static_cast<unsigned>(buf.size() - got));
      if (n < 0) detail::throw_gz(name, gz.get());
      if (n == 0) { eof = true; break; }
      got += static_cast<std::size_t>(n);
    }
    // A gzip file cut short reads as a clean EOF from gzread; zlib flags it only in gzerror.
    int errnum = Z_OK;
    gzerror(gz.get(), &errnum);
    if (errnum != Z_OK) detail::throw_gz(name, gz.get());
    total += got;
    if (eof) detail::check_size(name, total, gzdirect(gz.get()) ? "file" : "uncompressed");
    for (std::size_t r = 0; r < got / kCifarRecord; ++r) {
      const unsigned char* rec = buf.data() + r * kCifarRecord;
      if (rec[0] >= kCifarClasses)
        throw Error("cifar10: " + name + ": record " + std::to_string(out.size()) +
                    ": label byte " + std::to_string(rec[0]) + ", expected 0..9");
      out.labels.push_back(rec[0]);
      out.images.insert(out.images.end(), rec + 1, rec + kCifarRecord);
    }
  }
  return out;
}

/// Writes `split` as CIFAR-10 records: gzip if `path` ends in ".gz", else plain. Labels are
/// written as given, unchecked (tests use this to make bad files).
/// Throws ctnn::Error if images.size() != labels.size()*3072 or the file cannot be written.
inline void write_cifar10_file(const std::filesystem::path& path, const Cifar10Split& split) {
  detail::check_split(split, "write_cifar10_file");
  const std::string name = path.string();
  std::vector<unsigned char> buf(split.size() * kCifarRecord);
  for (std::size_t i = 0; i < split.size(); ++i) {
    buf[i * kCifarRecord] = split.labels[i];
    std::copy_n(split.images.begin() + static_cast<std::ptrdiff_t>(i * kCifarPixels),
                kCifarPixels, buf.begin() + static_cast<std::ptrdiff_t>(i * kCifarRecord + 1));
  }
  if (path.extension() == ".gz") {
    gzFile gz = gzopen(name.c_str(), "wb");
    if (!gz) throw Error("cifar10: " + name + ": cannot open for writing: " + std::strerror(errno));
    const bool ok = buf.empty() || gzwrite(gz, buf.data(), static_cast<unsigned>(buf.size())) ==
                                       static_cast<int>(buf.size());
    if (gzclose(gz) != Z_OK || !ok) throw Error("cifar10: " + name + ": gzip write failed");
    return;
  }
  std::ofstream f(path, std::ios::binary);
  if (!f) throw Error("cifar10: " + name + ": cannot open for writing: " + std::strerror(errno));
  f.write(reinterpret_cast<const char*>(buf.data()), static_cast<std::streamsize>(buf.size()));
  f.close();
  if (!f) throw Error("cifar10: " + name + ": write failed");
}

/// The CIFAR-10 train (50000 images) and test (10000 images) sets.
struct Cifar10 {
  Cifar10Split train, test;

  /// Loads data_batch_1..5 (train, in that order) and test_batch from `dir`, each as ".bin" or
  /// ".bin.gz" (".bin" wins if both exist). limit_train / limit_test keep the first N images
  /// (0 = all) and only the files needed for them are read; all six must still exist.
  /// Throws ctnn::Error: folder missing or holding none of the files (says how to get them), one
  /// file missing (names it), or any read_cifar10_file error.
  static Cifar10 load(const std::filesystem::path& dir, std::size_t limit_train = 0,
                      std::size_t limit_test = 0) {
    namespace fs = std::filesystem;
    const char* names[6] = {"data_batch_1", "data_batch_2", "data_batch_3",
                            "data_batch_4", "data_batch_5", "test_batch"};
    std::error_code ec;
    fs::path files[6];
    int found = 0;
    for (int i = 0; i < 6; ++i) {
      for (const char* ext : {".bin", ".bin.gz"}) {
        const fs::path p = dir / (std::string(names[i]) + ext);
        if (files[i].empty() && fs::is_regular_file(p, ec)) files[i] = p;
      }
      found += !files[i].empty();
    }
    if (found == 0)
      throw Error("cifar10: no CIFAR-10 data in folder '" + dir.string() + "' (" +
                  (fs::is_directory(dir, ec) ? "none of data_batch_1..5.bin, test_batch.bin (or .bin.gz) there"
                                             : "folder does not exist") +
                  "). Expected the CIFAR-10 \"binary version\": download "
                  "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz, extract it with "
                  "`tar xzf cifar-10-binary.tar.gz` and pass the folder cifar-10-batches-bin "
                  "with --data DIR");
    for (int i = 0; i < 6; ++i)
      if (files[i].empty())
        throw Error("cifar10: missing " + std::string(names[i]) + ".bin (or " + names[i] +
                    ".bin.gz) in folder '" + dir.string() +
                    "'; some CIFAR-10 batches are there but not this one, so the download or extraction "
                    "is incomplete");
    // Appends the first `limit` (0 = all) records of `paths` to `dst`, reading no further file.
    auto read_into = [](Cifar10Split& dst, const fs::path* paths, int n, std::size_t limit) {
      for (int i = 0; i < n && (limit == 0 || dst.size() < limit); ++i) {
        Cifar10Split s = read_cifar10_file(paths[i], limit ? limit - dst.size() : 0);
        dst.images.insert(dst.images.end(), s.images.begin(), s.images.end());
        dst.labels.insert(dst.labels.end(), s.labels.begin(), s.labels.end());
      }
    };
    Cifar10 out;
    read_into(out.train, files, 5, limit_train);
    read_into(out.test, files + 5, 1, limit_test);
    return out;
  }
};

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

/// Training-time augmentation, as torchvision RandomCrop(32, padding) then RandomHorizontalFlip.
struct Augment {
  bool hflip = false;    ///< mirror the width with probability 1/2
  int crop_padding = 0;  ///< random 32x32 crop of the image zero-padded by this many pixels; 0 = off
};

/// One batch: `size` images as normalised float NCHW [size][3][32][32], and their labels.
struct Batch {
  int size = 0;
  std::vector<float> images;
  std::vector<std::int32_t> labels;
};

/// Renders one CHW uint8 image to normalised float CHW at `out` (3072 floats). The crop takes
/// the 32x32 window at (dy, dx), each in [0, 2*pad], of the image zero-padded by `pad` (raw
/// pixel 0, normalised afterwards, as torchvision); then `flip` mirrors the width.
/// pad = dy = dx = 0, flip = false is the plain image.
inline void render_image(const std::uint8_t* chw, const Normalize& norm, bool flip, int pad,
                         int dy, int dx, float* out) {
  for (int c = 0; c < 3; ++c) {
    const float scale = 1.f / (255.f * norm.std[c]), bias = -norm.mean[c] / norm.std[c];
    const std::uint8_t* src = chw + c * 1024;
    for (int y = 0; y < 32; ++y) {
      const int sy = y + dy - pad;
      for (int x = 0; x < 32; ++x) {
        const int sx = (flip ? 31 - x : x) + dx - pad;
        const bool in = sy >= 0 && sy < 32 && sx >= 0 && sx < 32;
        out[c * 1024 + y * 32 + x] = float(in ? src[sy * 32 + sx] : 0) * scale + bias;
      }
    }
  }
}

/// Yields the batches of one epoch; while the caller trains on batch b, batch b+1 is rendered
/// on a background std::thread (one short-lived thread per batch: joining it is the only
/// synchronisation needed, and the thread's cost is tiny next to a training step).
///
/// Determinism: the epoch's permutation uses mt19937_64 seeded with mix(seed, epoch, 0), and
/// batch b's augmentation uses mt19937_64 seeded with mix(seed, epoch, b+1), where mix chains
/// splitmix64. Integers are drawn as rng() % n rather than via std::uniform_int_distribution or
/// std::shuffle, whose output differs between standard libraries. So batches are a pure function
/// of (split, norm, aug, shuffle, seed, epoch, batch_size, b): resuming at an epoch reproduces
/// them exactly, whatever the thread timing. Each image draws (flip, dy, dx) in batch order,
/// even when an augmentation is off.
///
/// `split` is held by reference and must outlive the loader. Not copyable or movable.
class BatchLoader {
 public:
  /// Throws ctnn::Error if the split is inconsistent, a std is not > 0, or crop_padding < 0.
  BatchLoader(const Cifar10Split& split, Normalize norm, Augment aug, bool shuffle,
              std::uint64_t seed)
      : split_(split), norm_(norm), aug_(aug), shuffle_(shuffle), seed_(seed) {
    detail::check_split(split, "BatchLoader");
    for (float s : norm.std)
      if (!(s > 0.f)) throw Error("BatchLoader: Normalize std must be > 0 (got " + std::to_string(s) + ")");
    if (aug.crop_padding < 0) throw Error("BatchLoader: crop_padding must be >= 0");
  }
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;
  /// Waits for the batch in preparation (at most one), even mid-epoch.
  ~BatchLoader() { join(); }

  /// Starts epoch `epoch` (0-based, >= 0) with batches of `batch_size` (> 0); the last batch
  /// keeps the remainder (size < batch_size). Abandons any epoch in progress. Throws ctnn::Error
  /// on bad arguments.
  void start_epoch(int epoch, int batch_size) {
    if (epoch < 0 || batch_size <= 0)
      throw Error("BatchLoader::start_epoch: need epoch >= 0 and batch_size > 0, got " +
                  std::to_string(epoch) + ", " + std::to_string(batch_size));
    join();
    epoch_ = epoch;
    batch_size_ = batch_size;
    const std::size_t n = split_.size();
    perm_.resize(n);
    for (std::size_t i = 0; i < n; ++i) perm_[i] = i;
    if (shuffle_) {  // Fisher-Yates
      std::mt19937_64 rng(detail::mix_seed(seed_, std::uint64_t(epoch), 0));
      for (std::size_t i = n; i > 1; --i) std::swap(perm_[i - 1], perm_[rng() % i]);
    }
    pending_ = 0;
    if (pending_ < batches_per_epoch()) launch();
  }

  /// Number of batches in the current epoch: ceil(split.size() / batch_size); 0 before start_epoch.
  std::size_t batches_per_epoch() const {
    return batch_size_ ? (split_.size() + batch_size_ - 1) / batch_size_ : 0;
  }

  /// Sets `out` to the next batch and returns true, or sets it to nullptr and returns false at
  /// the end of the epoch. `*out` stays valid until the next call of next/start_epoch or the
  /// destructor. Throws ctnn::Error if called before start_epoch.
  bool next(const Batch*& out) {
    out = nullptr;
    if (batch_size_ == 0) throw Error("BatchLoader::next: call start_epoch first");
    if (pending_ >= batches_per_epoch()) return false;
    join();
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    std::swap(front_, back_);
    if (++pending_ < batches_per_epoch()) launch();
    out = &front_;
    return true;
  }

 private:
  void join() {
    if (worker_.joinable()) worker_.join();
  }
  void launch() {
    worker_ = std::thread([this, b = pending_] {
      try {
        fill(b, back_);
      } catch (...) {
        error_ = std::current_exception();
      }
    });
  }
  void fill(std::size_t b, Batch& dst) const {
    const std::size_t begin = b * std::size_t(batch_size_);
    const std::size_t end = std::min(split_.size(), begin + std::size_t(batch_size_));
    dst.size = int(end - begin);
    dst.images.resize((end - begin) * kCifarPixels);
    dst.labels.resize(end - begin);
    std::mt19937_64 rng(detail::mix_seed(seed_, std::uint64_t(epoch_), b + 1));
    const int pad = aug_.crop_padding;
    for (std::size_t i = 0; i < end - begin; ++i) {
      const std::size_t idx = perm_[begin + i];
      const bool flip = (rng() & 1) && aug_.hflip;
      const int dy = int(rng() % std::uint64_t(2 * pad + 1));
      const int dx = int(rng() % std::uint64_t(2 * pad + 1));
      render_image(split_.images.data() + idx * kCifarPixels, norm_, flip, pad, dy, dx,
                   dst.images.data() + i * kCifarPixels);
      dst.labels[i] = split_.labels[idx];
    }
  }

  const Cifar10Split& split_;
  Normalize norm_;
  Augment aug_;
  bool shuffle_;
  std::uint64_t seed_;
  int epoch_ = 0, batch_size_ = 0;
  std::vector<std::size_t> perm_;
  std::size_t pending_ = 0;  // index of the batch being rendered into back_
  Batch front_, back_;       // front_: handed to the caller; back_: being rendered
  std::thread worker_;
  std::exception_ptr error_;
};

}  // namespace ctnn::data
