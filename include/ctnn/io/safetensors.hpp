#pragma once
// Read and write the safetensors format (https://github.com/huggingface/safetensors):
//   u64 little-endian N | N bytes of UTF-8 JSON header | raw little-endian tensor data.
// The parser treats its input as hostile (it is fuzzed): every length and offset is checked
// against the bytes actually present before anything is copied, so a corrupt file costs at
// most one copy of its own size and always ends in a ctnn::Error that names the source.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "ctnn/error.hpp"

namespace ctnn::io {

// Raw bytes are copied as-is; the format is little-endian, so only such hosts read it correctly.
static_assert(std::endian::native == std::endian::little, "ctnn::io::safetensors assumes a little-endian host");

namespace detail {
// Bytes per element, or 0 for a dtype this library does not handle.
inline std::size_t dtype_size(std::string_view dtype) {
  if (dtype == "F64" || dtype == "I64") return 8;
  if (dtype == "F32" || dtype == "I32") return 4;
  if (dtype == "BF16") return 2;
  if (dtype == "U8") return 1;
  return 0;
}
// Element count of `shape`; throws on a negative dimension or a count that overflows int64.
inline std::int64_t checked_numel(std::span<const std::int64_t> shape, const std::string& where) {
  std::int64_t n = 1;
  for (std::int64_t d : shape) {
    if (d < 0) throw Error(where + ": negative dimension " + std::to_string(d) + " in shape");
    if (d != 0 && n > INT64_MAX / d) throw Error(where + ": shape has more than 2^63 elements");
    n *= d;
  }
  return n;
}
}  // namespace detail

/// One named tensor: dtype ("F32", "F64", "I64", "I32", "U8", "BF16"), shape in elements
/// (empty = scalar), and its raw little-endian bytes (numel * dtype size of them).
struct TensorRecord {
  std::string name;
  std::string dtype = "F32";
  std::vector<std::int64_t> shape;
  std::vector<std::byte> data;

  /// Number of elements (product of shape; 1 for a scalar). Throws ctnn::Error on a negative
  /// dimension or overflow.
  std::int64_t numel() const { return detail::checked_numel(shape, "tensor '" + name + "'"); }

  /// An F32 record holding a copy of `values`. Throws ctnn::Error if values.size() != numel(shape).
  static TensorRecord from_floats(std::string name, std::vector<std::int64_t> shape, std::span<const float> values) {
    TensorRecord r{std::move(name), "F32", std::move(shape), {}};
    if (r.numel() != static_cast<std::int64_t>(values.size()))
      throw Error("tensor '" + r.name + "': shape holds " + std::to_string(r.numel()) + " elements, got " +
                  std::to_string(values.size()) + " values");
    auto bytes = std::as_bytes(values);
    r.data.assign(bytes.begin(), bytes.end());
    return r;
  }

  /// The values of an F32 record. Throws ctnn::Error for any other dtype or a data size that
  /// does not match the shape.
  std::vector<float> to_floats() const {
    if (dtype != "F32") throw Error("tensor '" + name + "': to_floats needs dtype F32, tensor is " + dtype);
    if (data.size() != static_cast<std::uint64_t>(numel()) * sizeof(float))
      throw Error("tensor '" + name + "': holds " + std::to_string(data.size()) + " bytes, shape needs " +
                  std::to_string(numel() * 4));
    std::vector<float> out(data.size() / sizeof(float));
    if (!out.empty()) std::memcpy(out.data(), data.data(), data.size());
    return out;
  }
};

/// A whole safetensors file: string metadata plus tensors in file order.
struct SafetensorsFile {
  std::map<std::string, std::string> metadata;
  std::vector<TensorRecord> tensors;
  std::string source;  ///< where it was read from, used in messages only; never written.

  /// The tensor called `name`, or nullptr.
  const TensorRecord* find(std::string_view name) const {
    for (const auto& t : tensors)
      if (t.name == name) return &t;
    return nullptr;
  }
  /// The tensor called `name`. Throws ctnn::Error naming the tensor, the file and a few names it does hold.
  const TensorRecord& at(std::string_view name) const {
    if (const auto* t = find(name)) return *t;
    std::string msg = (source.empty() ? "safetensors" : source) + ": no tensor named '" + std::string(name) +
                      "' (file holds " + std::to_string(tensors.size()) + " tensors";
    for (std::size_t i = 0; i < tensors.size() && i < 5; ++i) msg += (i ? ", " : ": ") + tensors[i].name;
    throw Error(msg + (tensors.size() > 5 ? ", ...)" : ")"));
  }
};

/// The file's bytes. Tensors are laid out in the given order with no gaps; the header is padded
/// with spaces to a multiple of 8 bytes so the data stays aligned. Throws ctnn::Error on an unknown
/// dtype, data size != numel * dtype size, a duplicate or reserved name, or non-UTF-8 text.
inline std::vector<std::byte> serialize_safetensors(const SafetensorsFile& file) {
  nlohmann::json header = nlohmann::json::object();
  if (!file.metadata.empty()) header["__metadata__"] = file.metadata;
  std::uint64_t offset = 0;
  for (const auto& t : file.tensors) {
    const std::string where = "serialize_safetensors: tensor '" + t.name + "'";
    const std::size_t size = detail::dtype_size(t.dtype);
    if (size == 0) throw Error(where + ": unknown dtype '" + t.dtype + "', expected F32, F64, I64, I32, U8 or BF16");
    if (t.name == "__metadata__" || header.contains(t.name)) throw Error(where + ": name is reserved or used twice");
    const auto n = static_cast<std::uint64_t>(detail::checked_numel(t.shape, where));
    if (n > UINT64_MAX / size || t.data.size() != n * size)
      throw Error(where + ": holds " + std::to_string(t.data.size()) + " bytes, shape and dtype need " +
                  std::to_string(n * size));
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.data.size()}}};
    offset += t.data.size();
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("serialize_safetensors: name or metadata is not valid UTF-8: ") + e.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  std::vector<std::byte> out(8 + text.size());
  for (std::size_t i = 0; i < 8; ++i) out[i] = static_cast<std::byte>((text.size() >> (8 * i)) & 0xff);
  std::memcpy(out.data() + 8, text.data(), text.size());
  out.reserve(out.size() + offset);
  for (const auto& t : file.tensors) out.insert(out.end(), t.data.begin(), t.data.end());
  return out;
}

/// Parses a whole safetensors file held in memory; `source_name` prefixes every error message.
/// Throws ctnn::Error on any deviation from the format: short or truncated input, header length
/// beyond the file, invalid JSON, unknown dtype, shape not matching the byte range, offsets out
/// of range, overlapping or leaving gaps, duplicate names, or non-string metadata.
inline SafetensorsFile parse_safetensors(std::span<const std::byte> bytes, std::string_view source_name = "<memory>") {
  const std::string src(source_name);
  if (bytes.size() < 8)
    throw Error(src + ": truncated: " + std::to_string(bytes.size()) +
                " bytes, expected at least an 8-byte header length");
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < 8; ++i) n |= std::to_integer<std::uint64_t>(bytes[i]) << (8 * i);
  if (n > bytes.size() - 8)
    throw Error(src + ": header length " + std::to_string(n) + " bytes exceeds the " +
                std::to_string(bytes.size() - 8) + " bytes after the length field");
  const auto* text = reinterpret_cast<const char*>(bytes.data() + 8);
  const auto data = bytes.subspan(8 + n);

  // The valid schema is at most 3 levels deep ({name: {shape: [dim]}}); refusing anything deeper
  // bounds recursion on hostile input. nlohmann keeps the last of duplicate keys silently, so
  // track the keys of each open object to reject duplicates instead.
  std::vector<std::set<std::string>> open_keys;
  auto guard = [&](int depth, nlohmann::json::parse_event_t ev, nlohmann::json& v) {
    using E = nlohmann::json::parse_event_t;
    if ((ev == E::object_start || ev == E::array_start) && depth >= 3)
      throw Error(src + ": bad header: JSON nested deeper than {name: {field: [values]}}");
    if (ev == E::object_start) open_keys.emplace_back();
    if (ev == E::object_end) open_keys.pop_back();
    if (ev == E::key && !open_keys.back().insert(v.get<std::string>()).second)
      throw Error(src + ": bad header: key '" + v.get<std::string>() + "' appears twice");
    return true;
  };
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text, text + n, guard);
  } catch (const nlohmann::json::exception& e) {
    throw Error(src + ": bad header: invalid JSON: " + e.what());
  }
  if (!header.is_object()) throw Error(src + ": bad header: expected a JSON object, got " + header.type_name());

  struct Entry {
    std::uint64_t begin, end;
    TensorRecord rec;
  };
  SafetensorsFile file;
  file.source = src;
  std::vector<Entry> entries;
  for (const auto& [name, v] : header.items()) {
    const std::string where = src + ": tensor '" + name + "'";
    if (name == "__metadata__") {
      if (!v.is_object()) throw Error(src + ": __metadata__: expected an object of strings");
      for (const auto& [k, s] : v.items()) {
        if (!s.is_string())
          throw Error(src + ": __metadata__: value of '" + k + "' is " + s.type_name() + ", expected a string");
        file.metadata[k] = s.get<std::string>();
      }
      continue;
    }
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets"))
      throw Error(where + ": expected an object with dtype, shape and data_offsets");
    const auto &dt = v.at("dtype"), &sh = v.at("shape"), &off = v.at("data_offsets");
    const std::size_t size = dt.is_string() ? detail::dtype_size(dt.get<std::string>()) : 0;
    if (size == 0) throw Error(where + ": unknown dtype " + dt.dump() + ", expected F32, F64, I64, I32, U8 or BF16");
    if (!sh.is_array()) throw Error(where + ": shape must be an array of non-negative integers");
    TensorRecord rec{name, dt.get<std::string>(), {}, {}};
    for (const auto& d : sh) {
      if (!d.is_number_unsigned() || d.get<std::uint64_t>() > INT64_MAX)
        throw Error(where + ": shape must be an array of non-negative integers, got " + sh.dump());
      rec.shape.push_back(d.get<std::int64_t>());
    }
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned() ||
        off[0].get<std::uint64_t>() > off[1].get<std::uint64_t>())
      throw Error(where + ": data_offsets must be [begin, end] with 0 <= begin <= end, got " + off.dump());
    const auto begin = off[0].get<std::uint64_t>(), end = off[1].get<std::uint64_t>();
    const auto numel = static_cast<std::uint64_t>(detail::checked_numel(rec.shape, where));
    if (numel > UINT64_MAX / size || numel * size != end - begin)
      throw Error(where + ": size mismatch: shape " + sh.dump() + " of " + rec.dtype + " needs " +
                  (numel > UINT64_MAX / size ? "more than 2^64" : std::to_string(numel * size)) +
                  " bytes, data_offsets span " + std::to_string(end - begin));
    entries.push_back({begin, end, std::move(rec)});
  }

  // The spec requires the tensors to tile the data section exactly; sorting by offset both
  // checks that and restores the writer's order (JSON objects are unordered). Stable, so empty
  // tensors sharing an offset keep a deterministic (key) order and round trips are exact.
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return std::tie(a.begin, a.end) < std::tie(b.begin, b.end); });
  // A tiling that merely runs past the end is a truncated file; one with a hole that far is a bad offset.
  std::uint64_t cursor = 0;
  for (const auto& e : entries) {
    const std::string where = src + ": tensor '" + e.rec.name + "': data_offsets [" + std::to_string(e.begin) + ", " +
                              std::to_string(e.end) + "]";
    if (e.begin > cursor && e.begin > data.size())
      throw Error(where + ": offsets out of range of the " + std::to_string(data.size()) + "-byte data section");
    if (e.begin != cursor)
      throw Error(where + (e.begin < cursor ? ": overlaps the previous tensor" : ": leaves a gap") +
                  ", expected begin " + std::to_string(cursor));
    cursor = e.end;
  }
  if (cursor > data.size())
    throw Error(src + ": truncated: header says " + std::to_string(cursor) + " bytes of tensor data, file holds " +
                std::to_string(data.size()));
  if (cursor < data.size())
    throw Error(src + ": " + std::to_string(data.size() - cursor) + " trailing bytes after the " +
                std::to_string(cursor) + " bytes of tensor data the header describes");
  for (auto& e : entries) {
    const auto slice = data.subspan(e.begin, e.end - e.begin);
    e.rec.data.assign(slice.begin(), slice.end());
    file.tensors.push_back(std::move(e.rec));
  }
  return file;
}

/// Reads and parses the file at `path`. Throws ctnn::Error naming the path if it is missing,
/// unreadable or malformed.
inline SafetensorsFile load_safetensors(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw Error(path.string() + ": no such file, or not a regular file (load_safetensors)");
  std::ifstream in(path, std::ios::binary);
  const auto size = std::filesystem::file_size(path, ec);
  if (!in || ec) throw Error(path.string() + ": cannot open for reading");
  std::vector<std::byte> bytes(size);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size)))
    throw Error(path.string() + ": read failed after " + std::to_string(in.gcount()) + " of " + std::to_string(size) +
                " bytes");
  return parse_safetensors(bytes, path.string());
}

/// Writes `file` to `path` atomically: the bytes go to "<path>.tmp.<pid>" in the same folder, are
/// fsync'ed, then renamed over `path` and the folder is fsync'ed, so a crash at any moment leaves
/// the old file or the new one, never a torn one. Throws ctnn::Error naming the folder if it
/// cannot be written, or as serialize_safetensors does; the temporary file is removed on failure.
inline void save_safetensors_atomic(const std::filesystem::path& path, const SafetensorsFile& file) {
  const auto bytes = serialize_safetensors(file);  // first, so invalid input leaves nothing behind
  const auto folder = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  const auto tmp = std::filesystem::path(path.string() + ".tmp." + std::to_string(::getpid()));
  auto fail = [&](const std::string& what, int fd = -1) {
    const std::string reason = std::strerror(errno);  // before close/unlink can change errno
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    throw Error("save_safetensors_atomic: folder '" + folder.string() + "': " + what + ": " + reason);
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("cannot create " + tmp.filename().string());
  for (std::size_t done = 0; done < bytes.size();) {
    const auto w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) fail("write failed", fd);
    done += static_cast<std::size_t>(w);
  }
  if (::fsync(fd) != 0) fail("fsync failed", fd);
  if (::close(fd) != 0) fail("close failed");
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("cannot rename over " + path.filename().string());
  // Make the rename itself durable; a failure here leaves a complete file, so it is not an error.
  if (const int dfd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace ctnn::io
