// Tests for ctnn/data/cifar10.hpp: file reading/writing and its error messages, Normalize,
// augmentation, and BatchLoader determinism/coverage. Real data is used if available.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "ctnn/data/cifar10.hpp"
#include "error_of.hpp"

namespace fs = std::filesystem;
using namespace ctnn::data;

namespace {

// A fresh, empty temp folder per test, removed afterwards.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& tag) {
    path = fs::temp_directory_path() / ("ctnn_cifar10_" + tag + "_" + std::to_string(std::random_device{}()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// n images; image i has every byte distinct-ish and depends on i, so mix-ups are visible.
Cifar10Split make_split(std::size_t n, int label_offset = 0) {
  Cifar10Split s;
  for (std::size_t i = 0; i < n; ++i) {
    s.labels.push_back(std::uint8_t((i + label_offset) % 10));
    for (int k = 0; k < kCifarPixels; ++k) s.images.push_back(std::uint8_t((k * 7 + i * 31) % 256));
  }
  return s;
}

// Constant image i (all bytes = i): identifiable after any crop/flip from its centre pixel.
Cifar10Split make_constant_split(std::size_t n) {
  Cifar10Split s;
  for (std::size_t i = 0; i < n; ++i) {
    s.labels.push_back(std::uint8_t(i % 10));
    s.images.insert(s.images.end(), kCifarPixels, std::uint8_t(i));
  }
  return s;
}

using ctnn_test::error_of;

bool contains(const std::string& s, const std::string& sub) { return s.find(sub) != std::string::npos; }

void write_bytes(const fs::path& p, const std::vector<unsigned char>& bytes) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

std::vector<unsigned char> read_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void write_all_batches(const fs::path& dir, std::size_t per_file, const std::string& ext) {
  for (int b = 1; b <= 5; ++b)
    write_cifar10_file(dir / ("data_batch_" + std::to_string(b) + ext), make_split(per_file, b));
  write_cifar10_file(dir / ("test_batch" + ext), make_split(per_file, 0));
}

// All batches of one epoch, copied.
std::vector<Batch> epoch_batches(BatchLoader& L, int epoch, int batch_size) {
  L.start_epoch(epoch, batch_size);
  std::vector<Batch> out;
  const Batch* b = nullptr;
  while (L.next(b)) out.push_back(*b);
  CHECK(b == nullptr);
  return out;
}

}  // namespace

TEST_CASE("cifar10: write then read round-trips, plain and gzip") {
  TempDir t("roundtrip");
  const Cifar10Split s = make_split(5);
  for (const char* name : {"x.bin", "x.bin.gz"}) {
    CAPTURE(name);
    write_cifar10_file(t.path / name, s);
    const Cifar10Split r = read_cifar10_file(t.path / name);
    CHECK(r.size() == 5);
    CHECK(r.labels == s.labels);
    CHECK(r.images == s.images);
  }
  // The plain file is exactly the record layout: label byte, then the 3072 CHW pixel bytes.
  const auto bytes = read_bytes(t.path / "x.bin");
  REQUIRE(bytes.size() == 5u * 3073u);
  CHECK(bytes[3073] == s.labels[1]);
  CHECK(bytes[3073 + 1 + 1024] == s.images[3072 + 1024]);  // image 1, green plane, pixel 0
  CHECK(read_bytes(t.path / "x.bin.gz") != bytes);         // really compressed
}

TEST_CASE("cifar10: limit keeps the first N records") {
  TempDir t("limit");
  const Cifar10Split s = make_split(7);
  for (const char* name : {"x.bin", "x.bin.gz"}) {
    write_cifar10_file(t.path / name, s);
    const Cifar10Split r = read_cifar10_file(t.path / name, 2);
    REQUIRE(r.size() == 2);
    CHECK(r.images == std::vector<std::uint8_t>(s.images.begin(), s.images.begin() + 2 * 3072));
    CHECK(read_cifar10_file(t.path / name, 100).size() == 7);  // limit past the end: all
  }
}

TEST_CASE("cifar10: truncated file names the file and its size") {
  TempDir t("trunc");
  write_cifar10_file(t.path / "data_batch_1.bin", make_split(3));
  fs::resize_file(t.path / "data_batch_1.bin", 3 * 3073 - 100);
  const std::string e = error_of([&] { read_cifar10_file(t.path / "data_batch_1.bin"); });
  CHECK(contains(e, "data_batch_1.bin"));
  CHECK(contains(e, "9119 bytes"));
  CHECK(contains(e, "expected a multiple of 3073 bytes"));
  // Caught up front for plain files even when the limit would stop before the damage.
  CHECK(contains(error_of([&] { read_cifar10_file(t.path / "data_batch_1.bin", 1); }), "9119"));

  // gzip with an intact stream but a short payload: the uncompressed size is reported.
  std::vector<std::uint8_t> payload(2 * 3073 + 5, 1);
  gzFile gz = gzopen((t.path / "short.bin.gz").string().c_str(), "wb");
  REQUIRE(gz != nullptr);
  gzwrite(gz, payload.data(), unsigned(payload.size()));
  gzclose(gz);
  const std::string e2 = error_of([&] { read_cifar10_file(t.path / "short.bin.gz"); });
  CHECK(contains(e2, "short.bin.gz"));
  CHECK(contains(e2, "6151 bytes"));
  CHECK(contains(e2, "expected a multiple of 3073 bytes"));

  write_bytes(t.path / "empty.bin", {});
  CHECK(contains(error_of([&] { read_cifar10_file(t.path / "empty.bin"); }), "0 bytes"));
}

TEST_CASE("cifar10: bad label byte names file, record and value") {
  TempDir t("label");
  Cifar10Split s = make_split(3);
  s.labels[2] = 12;
  for (const char* name : {"bad.bin", "bad.bin.gz"}) {
    write_cifar10_file(t.path / name, s);
    const std::string e = error_of([&] { read_cifar10_file(t.path / name); });
    CAPTURE(e);
    CHECK(contains(e, name));
    CHECK(contains(e, "record 2"));
    CHECK(contains(e, "label byte 12"));
    CHECK(contains(e, "expected 0..9"));
  }
}

TEST_CASE("cifar10: corrupt gzip stream gives zlib's message") {
  TempDir t("gz");
  write_cifar10_file(t.path / "x.bin.gz", make_split(20));
  auto bytes = read_bytes(t.path / "x.bin.gz");
  REQUIRE(bytes.size() > 200);
  // Cut short: zlib says "unexpected end of file".
  write_bytes(t.path / "cut.bin.gz", {bytes.begin(), bytes.begin() + bytes.size() / 2});
  const std::string e1 = error_of([&] { read_cifar10_file(t.path / "cut.bin.gz"); });
  CAPTURE(e1);
  CHECK(contains(e1, "cut.bin.gz"));
  CHECK(contains(e1, "corrupt gzip stream"));
  CHECK(contains(e1, "unexpected end of file"));
  // Garbage after a valid header: an inflate data error.
  for (std::size_t i = 10; i < bytes.size(); ++i) bytes[i] = std::uint8_t(i * 37 + 11);
  write_bytes(t.path / "garbage.bin.gz", bytes);
  const std::string e2 = error_of([&] { read_cifar10_file(t.path / "garbage.bin.gz"); });
  CAPTURE(e2);
  CHECK(contains(e2, "garbage.bin.gz"));
  CHECK(contains(e2, "corrupt gzip stream: zlib: "));
}

TEST_CASE("cifar10: missing file, missing batch, empty or absent folder") {
  TempDir t("missing");
  CHECK(contains(error_of([&] { read_cifar10_file(t.path / "nope.bin"); }), "nope.bin: file not found"));

  const std::string empty = error_of([&] { Cifar10::load(t.path); });
  CAPTURE(empty);
  CHECK(contains(empty, t.path.string()));
  CHECK(contains(empty, "\"binary version\""));
  CHECK(contains(empty, "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"));
  CHECK(contains(empty, "tar xzf"));
  CHECK(contains(empty, "cifar-10-batches-bin"));
  CHECK(contains(empty, "--data DIR"));
  const std::string absent = error_of([&] { Cifar10::load(t.path / "no_such_dir"); });
  CHECK(contains(absent, "folder does not exist"));
  CHECK(contains(absent, "binary version"));

  write_all_batches(t.path, 2, ".bin");
  fs::remove(t.path / "data_batch_3.bin");
  const std::string one = error_of([&] { Cifar10::load(t.path); });
  CAPTURE(one);
  CHECK(contains(one, "missing data_batch_3.bin"));
  CHECK(contains(one, t.path.string()));
  CHECK(!contains(one, "binary version"));  // a different message from the empty folder
}

TEST_CASE("cifar10: load concatenates batches, prefers .bin, reads only needed files") {
  TempDir t("load");
  write_all_batches(t.path, 2, ".bin.gz");
  write_cifar10_file(t.path / "data_batch_1.bin", make_split(2, 5));  // .bin beats .bin.gz
  Cifar10 d = Cifar10::load(t.path);
  CHECK(d.train.size() == 10);
  CHECK(d.test.size() == 2);
  CHECK(d.train.labels == std::vector<std::uint8_t>{5, 6, 2, 3, 3, 4, 4, 5, 5, 6});
  CHECK(d.test.labels == std::vector<std::uint8_t>{0, 1});

  // Corrupt the last batch: a limit of 3 needs only batches 1 and 2, so it still loads.
  fs::resize_file(t.path / "data_batch_5.bin.gz", 10);
  d = Cifar10::load(t.path, 3, 1);
  CHECK(d.train.labels == std::vector<std::uint8_t>{5, 6, 2});
  CHECK(d.train.images.size() == 3u * 3072u);
  CHECK(d.test.size() == 1);
  CHECK(contains(error_of([&] { Cifar10::load(t.path); }), "data_batch_5.bin.gz"));
}

TEST_CASE("cifar10: Normalize::from matches hand-computed per-channel mean/std") {
  Cifar10Split s;
  s.labels = {0, 1};
  s.images.resize(2 * 3072);
  for (int k = 0; k < 1024; ++k) {
    s.images[k] = 0, s.images[3072 + k] = 255;                 // R: {0, 1}      -> 0.5, 0.5
    s.images[1024 + k] = 51, s.images[3072 + 1024 + k] = 153;  // G: {0.2, 0.6} -> 0.4, 0.2
    s.images[2048 + k] = 255, s.images[3072 + 2048 + k] = std::uint8_t((k % 2) * 255);
  }  // B: 3/4 ones, 1/4 zeros -> mean 0.75, var 0.75 - 0.5625 = 0.1875
  const Normalize n = Normalize::from(s);
  CHECK(n.mean[0] == doctest::Approx(0.5).epsilon(1e-6));
  CHECK(n.std[0] == doctest::Approx(0.5).epsilon(1e-6));
  CHECK(n.mean[1] == doctest::Approx(0.4).epsilon(1e-6));
  CHECK(n.std[1] == doctest::Approx(0.2).epsilon(1e-6));
  CHECK(n.mean[2] == doctest::Approx(0.75).epsilon(1e-6));
  CHECK(n.std[2] == doctest::Approx(std::sqrt(0.1875)).epsilon(1e-6));
  CHECK_THROWS_AS(Normalize::from(Cifar10Split{}), ctnn::Error);
}

TEST_CASE("cifar10: render_image normalises, flips width, crops with zero padding") {
  const Cifar10Split s = make_split(1);
  const Normalize n{{0.5f, 0.4f, 0.3f}, {0.25f, 0.5f, 2.f}};
  std::vector<float> plain(3072), flipped(3072), cropped(3072);
  render_image(s.images.data(), n, false, 0, 0, 0, plain.data());
  render_image(s.images.data(), n, true, 0, 0, 0, flipped.data());
  render_image(s.images.data(), n, false, 4, 0, 3, cropped.data());  // shift down 4, right 1
  auto px = [&](int c, int y, int x) { return float(s.images[c * 1024 + y * 32 + x]); };
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x) {
        const int i = c * 1024 + y * 32 + x;
        CHECK(plain[i] == doctest::Approx((px(c, y, x) / 255 - n.mean[c]) / n.std[c]).epsilon(1e-5));
        CHECK(flipped[i] == plain[c * 1024 + y * 32 + (31 - x)]);
        // Padded window at (0,3): output (y,x) = raw (y-4, x-1), raw 0 outside.
        const float raw = (y >= 4 && x >= 1) ? px(c, y - 4, x - 1) : 0.f;
        CHECK(cropped[i] == doctest::Approx((raw / 255 - n.mean[c]) / n.std[c]).epsilon(1e-5));
      }
  CHECK(flipped != plain);
}

TEST_CASE("cifar10: BatchLoader covers every image once per epoch, keeps the last partial batch") {
  const Cifar10Split s = make_constant_split(50);
  BatchLoader L(s, Normalize{}, Augment{true, 4}, true, 123);
  std::vector<std::vector<int>> orders;
  for (int epoch : {0, 1}) {
    const auto batches = epoch_batches(L, epoch, 16);
    CHECK(L.batches_per_epoch() == 4);
    REQUIRE(batches.size() == 4);
    CHECK(batches[3].size == 2);
    std::multiset<int> seen;
    std::vector<int>& order = orders.emplace_back();
    for (const Batch& b : batches) {
      REQUIRE(b.images.size() == std::size_t(b.size) * 3072);
      REQUIRE(b.labels.size() == std::size_t(b.size));
      for (int i = 0; i < b.size; ++i) {
        // Centre pixel stays inside the image for any crop with padding 4; Normalize{} = x/255.
        const int id = int(std::lround(b.images[i * 3072 + 16 * 32 + 16] * 255));
        seen.insert(id);
        order.push_back(id);
        CHECK(b.labels[i] == id % 10);
      }
    }
    CHECK(seen.size() == 50);
    CHECK(std::set<int>(seen.begin(), seen.end()).size() == 50);  // no duplicates
    CHECK(*seen.begin() == 0);
    CHECK(*seen.rbegin() == 49);
    CHECK(!std::is_sorted(order.begin(), order.end()));  // shuffled
  }
  CHECK(orders[0] != orders[1]);  // a new order each epoch
}

TEST_CASE("cifar10: BatchLoader is deterministic per (seed, epoch) and resumable") {
  const Cifar10Split s = make_split(37);
  const Normalize n = Normalize::from(s);
  BatchLoader a(s, n, Augment{true, 4}, true, 7), b(s, n, Augment{true, 4}, true, 7);
  BatchLoader other_seed(s, n, Augment{true, 4}, true, 8);
  const auto a0 = epoch_batches(a, 0, 8), a1 = epoch_batches(a, 1, 8), a2 = epoch_batches(a, 2, 8);
  const auto b2 = epoch_batches(b, 2, 8);  // resume straight at epoch 2
  REQUIRE(a2.size() == 5);
  REQUIRE(b2.size() == 5);
  for (std::size_t i = 0; i < a2.size(); ++i) {
    CHECK(a2[i].images == b2[i].images);
    CHECK(a2[i].labels == b2[i].labels);
  }
  CHECK(a0[0].images != a1[0].images);
  CHECK(epoch_batches(other_seed, 2, 8)[0].images != a2[0].images);

  // Without shuffle or augmentation: order is the file order, the images unchanged.
  BatchLoader plain(s, n, Augment{}, false, 7);
  const auto p = epoch_batches(plain, 3, 37);
  REQUIRE(p.size() == 1);
  std::vector<float> want(3072);
  render_image(s.images.data() + 36 * 3072, n, false, 0, 0, 0, want.data());
  CHECK(std::vector<float>(p[0].images.end() - 3072, p[0].images.end()) == want);
  CHECK(p[0].labels[36] == s.labels[36]);
}

TEST_CASE("cifar10: BatchLoader flips about half the images, each exactly mirrored or not") {
  const Cifar10Split s = make_split(64);
  BatchLoader L(s, Normalize{}, Augment{true, 0}, false, 99);
  const auto batches = epoch_batches(L, 0, 64);
  REQUIRE(batches.size() == 1);
  int flipped = 0;
  std::vector<float> plain(3072), mirror(3072);
  for (int i = 0; i < 64; ++i) {
    render_image(s.images.data() + i * 3072, Normalize{}, false, 0, 0, 0, plain.data());
    render_image(s.images.data() + i * 3072, Normalize{}, true, 0, 0, 0, mirror.data());
    const std::vector<float> got(batches[0].images.begin() + i * 3072, batches[0].images.begin() + (i + 1) * 3072);
    CHECK((got == plain || got == mirror));
    flipped += got == mirror;
  }
  CHECK(flipped > 10);
  CHECK(flipped < 54);
}

TEST_CASE("cifar10: BatchLoader misuse and early destruction") {
  const Cifar10Split s = make_split(10);
  const Batch* b = nullptr;
  {
    BatchLoader L(s, Normalize{}, Augment{}, true, 1);
    CHECK_THROWS_AS(L.next(b), ctnn::Error);
    CHECK_THROWS_AS(L.start_epoch(0, 0), ctnn::Error);
    L.start_epoch(0, 3);
    REQUIRE(L.next(b));
    CHECK(b->size == 3);
    L.start_epoch(1, 4);  // restart mid-epoch
    REQUIRE(L.next(b));
    CHECK(b->size == 4);
  }  // destroyed mid-epoch with a batch in flight: must join, not hang or crash
  CHECK_THROWS_AS(BatchLoader(s, Normalize{{0, 0, 0}, {1, 0, 1}}, Augment{}, true, 1), ctnn::Error);
  CHECK_THROWS_AS(BatchLoader(s, Normalize{}, Augment{false, -1}, true, 1), ctnn::Error);
}

TEST_CASE("cifar10: real data, if present") {
  // CTNN_DATA, as the shell checks read it (CTNN_CIFAR10_DIR: its older name), else beside the repo
  const char* env = std::getenv("CTNN_DATA");
  if (!env || !*env) env = std::getenv("CTNN_CIFAR10_DIR");
  const fs::path dir = env && *env ? fs::path(env) : fs::path(CTNN_SOURCE_DIR) / ".." / "shared/data/cifar10";
  if (!fs::is_directory(dir)) {
    MESSAGE("CIFAR-10 not found at " << dir << " (set CTNN_DATA); skipping");
    return;
  }
  const Cifar10 d = Cifar10::load(dir, 10, 0);
  REQUIRE(d.train.size() == 10);
  REQUIRE(d.test.size() == 10000);
  CHECK(d.test.images.size() == 10000u * 3072u);
  int counts[10] = {};
  for (std::uint8_t l : d.test.labels) ++counts[l];
  for (int c = 0; c < 10; ++c) CHECK(counts[c] == 1000);
  // The well-known first training labels: frog truck truck deer automobile automobile bird
  // horse ship cat.
  CHECK(d.train.labels == std::vector<std::uint8_t>{6, 9, 9, 4, 1, 1, 2, 7, 8, 3});
  const Normalize n = Normalize::from(d.test);  // README: test mean (0.4941, 0.4851, 0.4504)
  CHECK(n.mean[0] == doctest::Approx(0.4941).epsilon(2e-3));
  CHECK(n.std[2] == doctest::Approx(0.2606).epsilon(2e-3));
}
