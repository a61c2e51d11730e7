#pragma once
// Test helper shared by the test files: the message of the ctnn::Error a callable throws.
#include <string>

#include "ctnn/error.hpp"

namespace ctnn_test {

/// The what() of the ctnn::Error `f` throws, or a marker that fails every substring check when
/// it throws nothing (any other exception escapes and fails the test case).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const ctnn::Error& e) {
    return e.what();
  }
  return "<did not throw ctnn::Error>";
}

}  // namespace ctnn_test
