// libFuzzer target for ctnn::io::parse_safetensors. Any input must either parse or throw
// ctnn::Error; anything else (crash, sanitizer report, other exception, huge allocation) is a bug.
// Build and run (copy the corpus first so new inputs do not land in the repo):
//   clang++-14 -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
//     tests/fuzz/fuzz_safetensors.cpp -o /tmp/fz
//   cp -r tests/fuzz/corpus/safetensors /tmp/st_corpus && /tmp/fz -max_total_time=60 /tmp/st_corpus
#include <cstddef>
#include <cstdint>
#include <ctnn/io/safetensors.hpp>
#include <span>
#include <vector>

namespace {

void check(std::span<const std::byte> bytes) {
  ctnn::io::SafetensorsFile file;
  try {
    file = ctnn::io::parse_safetensors(bytes, "fuzz");
  } catch (const ctnn::Error&) {
    return;
  }
  // Whatever parses must serialize and parse back to the same thing; an Error here escapes
  // uncaught on purpose, so libFuzzer reports it.
  const auto again = ctnn::io::parse_safetensors(ctnn::io::serialize_safetensors(file), "fuzz-roundtrip");
  if (again.tensors.size() != file.tensors.size() || again.metadata != file.metadata) __builtin_trap();
  for (std::size_t i = 0; i < file.tensors.size(); ++i)
    if (again.tensors[i].name != file.tensors[i].name || again.tensors[i].dtype != file.tensors[i].dtype ||
        again.tensors[i].shape != file.tensors[i].shape || again.tensors[i].data != file.tensors[i].data)
      __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto bytes = std::as_bytes(std::span<const uint8_t>(data, size));
  check(bytes);
  // Random mutations rarely keep the length prefix in step with the JSON, which would leave the
  // checks past the JSON parser unexplored; so also try the input with the prefix rewritten to
  // end the header at its last '}'.
  if (size < 9) return 0;
  std::size_t end = size;
  while (end > 8 && data[end - 1] != '}') --end;
  if (end == 8) return 0;
  std::vector<std::byte> fixed(bytes.begin(), bytes.end());
  for (int i = 0; i < 8; ++i) fixed[i] = static_cast<std::byte>(((end - 8) >> (8 * i)) & 0xff);
  check(fixed);
  return 0;
}
