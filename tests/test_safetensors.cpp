// Tests for ctnn/io/safetensors.hpp: round trips, a hand-built file checked against the spec
// independently of the writer, one test per malformed-input class, and the atomic save.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstring>
#include <ctnn/io/safetensors.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "error_of.hpp"

namespace fs = std::filesystem;
using ctnn::io::parse_safetensors;
using ctnn::io::SafetensorsFile;
using ctnn::io::TensorRecord;

namespace {

std::vector<std::byte> to_bytes(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int b : v) out.push_back(static_cast<std::byte>(b));
  return out;
}

// A file built by hand: u64 LE length, the header text as given, then `data`.
std::vector<std::byte> raw_file(const std::string& header, const std::vector<std::byte>& data) {
  std::vector<std::byte> out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::byte>((header.size() >> (8 * i)) & 0xff));
  for (char c : header) out.push_back(static_cast<std::byte>(c));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

using ctnn_test::error_of;

std::string parse_error(const std::vector<std::byte>& bytes) {
  return error_of([&] { parse_safetensors(bytes, "ckpt.safetensors"); });
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

template <class T>
TensorRecord record(std::string name, std::string dtype, std::vector<std::int64_t> shape, std::vector<T> values) {
  TensorRecord r{std::move(name), std::move(dtype), std::move(shape), {}};
  auto b = std::as_bytes(std::span<const T>(values));
  r.data.assign(b.begin(), b.end());
  return r;
}

// A fresh empty folder under the system temp dir, removed at scope exit.
struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() / ("ctnn_st_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path, ec);
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(path)) out.push_back(e.path().filename().string());
    return out;
  }
};

SafetensorsFile sample() {
  SafetensorsFile f;
  f.metadata = {{"format", "pt"}, {"epoch", "3"}, {"note", "héllo \"quoted\""}};
  const std::vector<float> w = {1.5f, -2.f, 0.f, 3.25f, 1e-7f, -1e30f};
  f.tensors.push_back(TensorRecord::from_floats("conv1.weight", {2, 3}, w));
  f.tensors.push_back(record<double>("a.f64", "F64", {2}, {3.141592653589793, -0.5}));
  f.tensors.push_back(record<std::int64_t>("step", "I64", {}, {-42}));
  f.tensors.push_back(record<std::int32_t>("empty", "I32", {0, 4}, {}));
  f.tensors.push_back(record<std::uint8_t>("labels", "U8", {5}, {0, 9, 255, 7, 1}));
  f.tensors.push_back(record<std::uint16_t>("bf", "BF16", {2, 2}, {0x3f80, 0xbf80, 0x0000, 0x7f80}));
  return f;
}

void check_equal(const SafetensorsFile& a, const SafetensorsFile& b) {
  CHECK(a.metadata == b.metadata);
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (std::size_t i = 0; i < a.tensors.size(); ++i) {
    CAPTURE(a.tensors[i].name);
    CHECK(a.tensors[i].name == b.tensors[i].name);
    CHECK(a.tensors[i].dtype == b.tensors[i].dtype);
    CHECK(a.tensors[i].shape == b.tensors[i].shape);
    CHECK(a.tensors[i].data == b.tensors[i].data);
  }
}

}  // namespace

TEST_CASE("safetensors: round trip keeps order, dtypes, shapes, bytes and metadata") {
  const auto f = sample();
  const auto bytes = ctnn::io::serialize_safetensors(f);
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  CHECK(n % 8 == 0);  // data section starts 8-byte aligned
  const auto back = parse_safetensors(bytes);
  check_equal(f, back);
  CHECK(back.at("conv1.weight").to_floats() == std::vector<float>{1.5f, -2.f, 0.f, 3.25f, 1e-7f, -1e30f});
  CHECK(back.at("step").numel() == 1);
  CHECK(back.at("empty").numel() == 0);
  CHECK(ctnn::io::serialize_safetensors(back) == bytes);  // stable: re-serializing is byte-identical
}

TEST_CASE("safetensors: empty tensors sharing an offset come back in a stable order") {
  SafetensorsFile f;
  for (const char* name : {"e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9"})
    f.tensors.push_back(record<float>(name, "F32", {0}, {}));
  f.tensors.push_back(record<float>("w", "F32", {1}, {2.f}));
  const auto back = parse_safetensors(ctnn::io::serialize_safetensors(f));
  check_equal(f, back);
  check_equal(parse_safetensors(ctnn::io::serialize_safetensors(back)), f);
}

TEST_CASE("safetensors: empty file (no tensors, no metadata) round trips") {
  const auto back = parse_safetensors(ctnn::io::serialize_safetensors({}));
  CHECK(back.tensors.empty());
  CHECK(back.metadata.empty());
}

TEST_CASE("safetensors: hand-built file per the spec parses to the expected values") {
  // Keys deliberately out of offset order and the header padded with spaces: tensors must
  // come back in data order (z, then a, then b), not JSON key order.
  const std::string header = R"({"a":{"dtype":"I64","shape":[1],"data_offsets":[4,12]},)"
                             R"("__metadata__":{"format":"pt"},)"
                             R"("b":{"dtype":"BF16","shape":[1,1],"data_offsets":[12,14]},)"
                             R"("z":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}   )";
  const auto data = to_bytes({0x00, 0x00, 0x80, 0x3f,                          // F32 1.0
                              0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // I64 -2
                              0x80, 0x3f});                                    // BF16 1.0
  const auto f = parse_safetensors(raw_file(header, data));
  CHECK(f.metadata == std::map<std::string, std::string>{{"format", "pt"}});
  REQUIRE(f.tensors.size() == 3);
  CHECK(f.tensors[0].name == "z");
  CHECK(f.tensors[1].name == "a");
  CHECK(f.tensors[2].name == "b");
  CHECK(f.at("z").shape.empty());
  CHECK(f.at("z").to_floats() == std::vector<float>{1.0f});
  std::int64_t v = 0;
  REQUIRE(f.at("a").data.size() == 8);
  std::memcpy(&v, f.at("a").data.data(), 8);
  CHECK(v == -2);
  CHECK(f.at("b").shape == std::vector<std::int64_t>{1, 1});
  CHECK(f.at("b").data == to_bytes({0x80, 0x3f}));
}

TEST_CASE("safetensors: malformed input throws ctnn::Error naming the source and the problem") {
  const auto four = to_bytes({0, 0, 0x80, 0x3f});
  auto one = [](const std::string& dtype, const std::string& shape, const std::string& offsets) {
    return R"({"t":{"dtype":")" + dtype + R"(","shape":)" + shape + R"(,"data_offsets":)" + offsets + "}}";
  };
  SUBCASE("shorter than the length field") {
    const auto e = parse_error(to_bytes({1, 0, 0}));
    CHECK(has(e, "ckpt.safetensors"));
    CHECK(has(e, "truncated"));
  }
  SUBCASE("header length larger than the file") {
    auto bytes = raw_file(one("F32", "[1]", "[0,4]"), four);
    bytes[0] = std::byte{0xff};
    bytes[7] = std::byte{0xff};  // ~2^64: must not overflow into "fits"
    CHECK(has(parse_error(bytes), "exceeds"));
  }
  SUBCASE("tensor data cut short") {
    const auto e = parse_error(raw_file(one("F32", "[4]", "[0,16]"), four));
    CHECK(has(e, "truncated: header says 16 bytes of tensor data, file holds 4"));
  }
  SUBCASE("bad JSON") { CHECK(has(parse_error(raw_file(R"({"t":{"dtype":)", {})), "invalid JSON")); }
  SUBCASE("header is not an object") { CHECK(has(parse_error(raw_file("[1,2]", {})), "expected a JSON object")); }
  SUBCASE("offsets out of range") {
    CHECK(has(parse_error(raw_file(one("F32", "[1]", "[1000,1004]"), four)), "out of range"));
  }
  SUBCASE("offsets begin > end") {
    CHECK(has(parse_error(raw_file(one("F32", "[0]", "[4,0]"), four)), "begin <= end"));
  }
  SUBCASE("offsets not two unsigned integers") {
    CHECK(has(parse_error(raw_file(one("F32", "[1]", "[-4,0]"), four)), "data_offsets must be"));
    CHECK(has(parse_error(raw_file(one("F32", "[1]", "[0]"), four)), "data_offsets must be"));
  }
  SUBCASE("shape does not match the byte range") {
    CHECK(has(parse_error(raw_file(one("F32", "[2]", "[0,4]"), four)), "size mismatch"));
  }
  SUBCASE("shape product overflows") {
    CHECK(has(parse_error(raw_file(one("F32", "[4294967296,4294967296]", "[0,4]"), four)), "2^63"));
    // 2^62 * 8 bytes wraps to 0 in 64 bits; an empty range must not "match" it.
    CHECK(has(parse_error(raw_file(one("F64", "[4611686018427387904]", "[0,0]"), {})), "more than 2^64"));
  }
  SUBCASE("negative or non-integer dimension") {
    CHECK(has(parse_error(raw_file(one("F32", "[-1]", "[0,4]"), four)), "non-negative integers"));
    CHECK(has(parse_error(raw_file(one("F32", "[1.0]", "[0,4]"), four)), "non-negative integers"));
  }
  SUBCASE("unknown dtype") {
    CHECK(has(parse_error(raw_file(one("F17", "[1]", "[0,4]"), four)), "unknown dtype \"F17\""));
  }
  SUBCASE("missing field") {
    CHECK(has(parse_error(raw_file(R"({"t":{"dtype":"F32","shape":[1]}})", four)), "data_offsets"));
  }
  SUBCASE("overlapping tensors") {
    const std::string h = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                          R"("b":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})";
    CHECK(has(parse_error(raw_file(h, four)), "overlaps"));
  }
  SUBCASE("gap between tensors") {
    const std::string h = R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                          R"("b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})";
    CHECK(has(parse_error(raw_file(h, four)), "gap"));
  }
  SUBCASE("trailing bytes") { CHECK(has(parse_error(raw_file(one("U8", "[2]", "[0,2]"), four)), "trailing")); }
  SUBCASE("duplicate tensor name") {
    const std::string h = R"({"t":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                          R"("t":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})";
    CHECK(has(parse_error(raw_file(h, four)), "appears twice"));
  }
  SUBCASE("non-string metadata") {
    CHECK(has(parse_error(raw_file(R"({"__metadata__":{"epoch":3}})", {})), "expected a string"));
    CHECK(has(parse_error(raw_file(R"({"__metadata__":[1]})", {})), "__metadata__"));
  }
  SUBCASE("deeply nested JSON is refused, not recursed into") {
    const std::string h = "{\"t\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
    CHECK(has(parse_error(raw_file(h, {})), "nested"));
  }
}

TEST_CASE("safetensors: record helpers and lookup") {
  const auto f = parse_safetensors(ctnn::io::serialize_safetensors(sample()), "model.safetensors");
  CHECK(f.find("labels") != nullptr);
  CHECK(f.find("nope") == nullptr);
  const auto e = error_of([&] { (void)f.at("fc.weight"); });
  CHECK(has(e, "model.safetensors"));
  CHECK(has(e, "'fc.weight'"));
  CHECK(has(error_of([&] { (void)f.at("labels").to_floats(); }), "needs dtype F32"));
  const std::vector<float> three = {1, 2, 3};
  CHECK(has(error_of([&] { TensorRecord::from_floats("x", {2, 2}, three); }), "holds 4 elements, got 3"));
}

TEST_CASE("safetensors: serialize rejects records it could not read back") {
  SafetensorsFile f;
  f.tensors.push_back(record<std::uint8_t>("x", "F16", {2}, {1, 2}));
  CHECK(has(error_of([&] { ctnn::io::serialize_safetensors(f); }), "unknown dtype"));
  f.tensors[0].dtype = "F32";
  CHECK(has(error_of([&] { ctnn::io::serialize_safetensors(f); }), "shape and dtype need 8"));
  f.tensors[0] = TensorRecord::from_floats("x", {1}, std::vector<float>{1.f});
  f.tensors.push_back(f.tensors[0]);
  CHECK(has(error_of([&] { ctnn::io::serialize_safetensors(f); }), "used twice"));
  f.tensors.pop_back();
  f.tensors[0].name = "__metadata__";
  CHECK(has(error_of([&] { ctnn::io::serialize_safetensors(f); }), "reserved"));
}

TEST_CASE("safetensors: atomic save and load") {
  TempDir dir;
  const auto path = dir.path / "model.safetensors";
  ctnn::io::save_safetensors_atomic(path, sample());
  check_equal(ctnn::io::load_safetensors(path), sample());
  CHECK(ctnn::io::load_safetensors(path).source == path.string());

  SUBCASE("overwrites an existing file and leaves no temporary behind") {
    SafetensorsFile small;
    small.metadata["epoch"] = "4";
    small.tensors.push_back(TensorRecord::from_floats("w", {1}, std::vector<float>{7.f}));
    ctnn::io::save_safetensors_atomic(path, small);
    check_equal(ctnn::io::load_safetensors(path), small);
    CHECK(dir.names() == std::vector<std::string>{"model.safetensors"});
  }
  SUBCASE("a failed save leaves the old file intact and no temporary") {
    SafetensorsFile bad;
    bad.tensors.push_back(record<std::uint8_t>("x", "F32", {2}, {1}));
    CHECK_THROWS_AS(ctnn::io::save_safetensors_atomic(path, bad), ctnn::Error);
    check_equal(ctnn::io::load_safetensors(path), sample());
    CHECK(dir.names() == std::vector<std::string>{"model.safetensors"});
  }
  SUBCASE("a folder that does not exist is named in the error") {
    const auto e =
        error_of([&] { ctnn::io::save_safetensors_atomic(dir.path / "no_such_dir" / "m.safetensors", sample()); });
    CHECK(has(e, (dir.path / "no_such_dir").string()));
  }
  SUBCASE("a 'folder' that is a regular file is named in the error") {
    const auto e = error_of([&] { ctnn::io::save_safetensors_atomic(path / "m.safetensors", sample()); });
    CHECK(has(e, "folder '" + path.string() + "'"));
  }
  SUBCASE("a read-only folder is named in the error") {
    const auto ro = dir.path / "ro";
    fs::create_directory(ro);
    fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
    if (::access(ro.c_str(), W_OK) == 0) {
      MESSAGE("skipped: running with privileges that ignore folder permissions");
    } else {
      CHECK(has(error_of([&] { ctnn::io::save_safetensors_atomic(ro / "m.safetensors", sample()); }), ro.string()));
    }
  }
  SUBCASE("a missing file is named in the error") {
    const auto e = error_of([&] { ctnn::io::load_safetensors(dir.path / "absent.safetensors"); });
    CHECK(has(e, (dir.path / "absent.safetensors").string()));
    CHECK(has(e, "no such file"));
  }
  SUBCASE("a corrupt file's errors name the file") {
    { std::ofstream(dir.path / "broken.safetensors", std::ios::binary) << std::string("\x04\0\0\0\0\0\0\0{}", 10); }
    CHECK(has(error_of([&] { ctnn::io::load_safetensors(dir.path / "broken.safetensors"); }), "broken.safetensors"));
  }
}
