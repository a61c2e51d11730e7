// libFuzzer target for ctnn::data::read_cifar10_file on plain and gzip input. Any input must
// either be read or throw ctnn::Error; anything else (crash, sanitizer report, another
// exception, a huge allocation, a wrong result) is a bug.
//
// cifar10.hpp reads only from a path (there is no parse-from-memory function), so each input is
// written to a per-process temporary file first (under /dev/shm when it exists), removed after.
//
// Checks beyond "no crash":
//   * a successful read has size()*3072 image bytes, labels 0..9 and at least one record;
//   * plain input (not starting with the gzip magic 1f 8b) is read iff its size is a non-zero
//     multiple of 3073 and every label byte is < 10, and then byte-exactly;
//   * a read with limit 1 returns the first record of the unlimited read, and succeeds
//     whenever the unlimited read does;
//   * what is read writes back (write_cifar10_file, plain) to the same records.
// Build and run: tests/fuzz/run.sh SECONDS (or see tests/fuzz/CMakeLists.txt, CTNN_FUZZ=ON).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <ctnn/data/cifar10.hpp>
#include <filesystem>
#include <optional>
#include <string>

namespace {

namespace fs = std::filesystem;
using ctnn::data::Cifar10Split;
using ctnn::data::kCifarPixels;
using ctnn::data::kCifarRecord;

// Per-process scratch file names; both files are removed at the end of every input, so nothing
// is left behind however the fuzzer exits.
fs::path scratch(const char* what) {
  static const fs::path base = [] {
    std::error_code ec;
    return fs::is_directory("/dev/shm", ec) ? fs::path("/dev/shm") : fs::temp_directory_path();
  }();
  return base / ("ctnn_fuzz_cifar10_" + std::to_string(::getpid()) + "_" + what + ".bin");
}

void write_file(const fs::path& p, const uint8_t* data, size_t size) {
  std::FILE* f = std::fopen(p.c_str(), "wb");
  if (!f) __builtin_trap();
  if (size && std::fwrite(data, 1, size, f) != size) __builtin_trap();
  if (std::fclose(f) != 0) __builtin_trap();
}

std::optional<Cifar10Split> read(const fs::path& p, std::size_t limit) {
  try {
    return ctnn::data::read_cifar10_file(p, limit);
  } catch (const ctnn::Error&) {
    return std::nullopt;
  }
}

void check_split(const Cifar10Split& s) {
  if (s.size() == 0) __builtin_trap();
  if (s.images.size() != s.size() * kCifarPixels) __builtin_trap();
  for (auto l : s.labels)
    if (l >= 10) __builtin_trap();
}

// The first n records of `s`.
bool is_prefix(const Cifar10Split& part, const Cifar10Split& whole) {
  if (part.size() > whole.size()) return false;
  return std::equal(part.labels.begin(), part.labels.end(), whole.labels.begin()) &&
         std::equal(part.images.begin(), part.images.end(), whole.images.begin());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fs::path in = scratch("input"), out = scratch("roundtrip");
  write_file(in, data, size);

  const auto all = read(in, 0);
  if (all) check_split(*all);

  const bool gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
  if (!gzip) {  // plain: an exact oracle
    bool valid = size > 0 && size % kCifarRecord == 0;
    for (size_t r = 0; valid && r < size / kCifarRecord; ++r) valid = data[r * kCifarRecord] < 10;
    if (valid != all.has_value()) __builtin_trap();
    if (all)
      for (size_t r = 0; r < all->size(); ++r) {
        if (all->labels[r] != data[r * kCifarRecord]) __builtin_trap();
        if (!std::equal(all->images.begin() + std::ptrdiff_t(r * kCifarPixels),
                        all->images.begin() + std::ptrdiff_t((r + 1) * kCifarPixels), data + r * kCifarRecord + 1))
          __builtin_trap();
      }
  }

  // Every read costs a few MB of fresh buffers (zlib's 1 MiB gzbuffer, a 512-record chunk), which
  // dominates the time per input under ASan; so one limited read, not several.
  {
    const std::size_t limit = 1;
    const auto some = read(in, limit);
    if (some) {
      check_split(*some);
      if (some->size() > limit) __builtin_trap();
    }
    if (all) {
      if (!some) __builtin_trap();  // the whole file reads, so its first records must too
      if (some->size() != std::min(limit, all->size()) || !is_prefix(*some, *all)) __builtin_trap();
    }
  }

  if (all) {  // round trip through the writer
    ctnn::data::write_cifar10_file(out, *all);
    const auto back = read(out, 0);
    if (!back || back->labels != all->labels || back->images != all->images) __builtin_trap();
  }
  std::error_code ec;
  fs::remove(in, ec);
  fs::remove(out, ec);
  return 0;
}
