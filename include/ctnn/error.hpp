#pragma once
// ctnn::Error — the one exception type the library throws.
// The message says what went wrong, where, and what was expected, so a user can act on it
// without a debugger (e.g. "cifar10: data_batch_3.bin: record 17: label byte 12, expected 0..9").
#include <stdexcept>
#include <string>

namespace ctnn {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace ctnn
