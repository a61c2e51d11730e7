#pragma once
// CIFAR-10 "binary version" files: reader, writer, the train/test splits held as raw bytes.
//
// File format (per record, no header): 1 label byte (0..9), then 3072 pixel bytes: the R, G
// and B planes, each 32x32 row-major. Files may be plain (.bin) or gzip (.bin.gz); needs -lz.
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "ctnn/error.hpp"

namespace ctnn::data {

inline constexpr int kCifarChannels = 3, kCifarHeight = 32, kCifarWidth = 32, kCifarPixels = 3072, kCifarRecord = 3073,
                     kCifarClasses = 10;
inline const std::array<const char*, 10> kCifar10Classes{"airplane", "automobile", "bird",  "cat",  "deer",
                                                         "dog",      "frog",       "horse", "ship", "truck"};

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
    throw Error(std::string(who) + ": split has " + std::to_string(s.labels.size()) + " labels but " +
                std::to_string(s.images.size()) + " image bytes, expected " +
                std::to_string(s.labels.size() * kCifarPixels));
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
      if (n == 0) {
        eof = true;
        break;
      }
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
        throw Error("cifar10: " + name + ": record " + std::to_string(out.size()) + ": label byte " +
                    std::to_string(rec[0]) + ", expected 0..9");
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
    std::copy_n(split.images.begin() + static_cast<std::ptrdiff_t>(i * kCifarPixels), kCifarPixels,
                buf.begin() + static_cast<std::ptrdiff_t>(i * kCifarRecord + 1));
  }
  if (path.extension() == ".gz") {
    gzFile gz = gzopen(name.c_str(), "wb");
    if (!gz) throw Error("cifar10: " + name + ": cannot open for writing: " + std::strerror(errno));
    const bool ok =
        buf.empty() || gzwrite(gz, buf.data(), static_cast<unsigned>(buf.size())) == static_cast<int>(buf.size());
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
  static Cifar10 load(const std::filesystem::path& dir, std::size_t limit_train = 0, std::size_t limit_test = 0) {
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
        throw Error("cifar10: missing " + std::string(names[i]) + ".bin (or " + names[i] + ".bin.gz) in folder '" +
                    dir.string() +
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

}  // namespace ctnn::data
