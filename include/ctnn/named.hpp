#pragma once
// Named<"features", Sequential<...>>: a named part of a net. Inside a Sequential it contributes
// its layers to the flat pack and its name to their module paths ("features.3"), which is how
// PyTorch names the modules of nested nn.Sequential blocks (and so the keys of their state_dict).
// Layers outside any named part are named by their position in the whole net ("5").
#include <algorithm>
#include <cstddef>
#include <string_view>

namespace ctnn {

/// A string usable as a template argument (C++20 class-type NTTP).
template <std::size_t N>
struct fixed_string {
  char chars[N]{};
  constexpr fixed_string(const char (&s)[N]) { std::copy_n(s, N, chars); }
  constexpr std::string_view view() const { return {chars, N - 1}; }
};

template <fixed_string Name, class Net>
struct Named {
  static constexpr std::string_view name = Name.view();
  using net = Net;
};

}  // namespace ctnn
