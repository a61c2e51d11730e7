#pragma once
// Ratio: an exact fraction usable as a template argument, for the few layer hyper-parameters that
// are real numbers (BatchNorm momentum and eps, Dropout p). Why not float: Clang (14 at least)
// rejects floating-point non-type template parameters ("sorry, ... not yet supported"); a small
// class of two integers is accepted by GCC, Clang and nvcc alike.
//   BatchNorm<2, 0.9_r>     the literal: 0.9_r == Ratio{9, 10}; 1e-5_r == Ratio{1, 100000}
//   DropoutP<Ratio{3, 10}>  the same without the literal
// The literal is in ctnn::literals (an inline namespace: `using namespace ctnn;` brings it;
// elsewhere `using namespace ctnn::literals;`). It is exact: decimal digits and an optional
// exponent become numerator/denominator, reduced, so 0.9_r and 0.90_r are the same type.
#include <cstdint>
#include <numeric>

namespace ctnn {

struct Ratio {
  std::int64_t num = 0, den = 1;
  constexpr Ratio() = default;
  constexpr Ratio(std::int64_t n, std::int64_t d = 1) : num(n / std::gcd(n, d)), den(d / std::gcd(n, d)) {
    if (d <= 0) throw "ctnn::Ratio: denominator must be > 0";  // not a constant expression: a compile error
  }
  /// The nearest float (through double: exact for every ratio ctnn's layers use).
  constexpr operator float() const { return float(double(num) / double(den)); }
  constexpr double value() const { return double(num) / double(den); }
  friend constexpr bool operator==(const Ratio&, const Ratio&) = default;
};

namespace detail {
template <char... C>
constexpr Ratio parse_ratio() {
  constexpr char s[] = {C..., '\0'};
  std::int64_t num = 0, den = 1;
  int i = 0, exp = 0, digits = 0;
  bool fraction = false, negative_exp = false;
  for (; s[i] && s[i] != 'e' && s[i] != 'E'; ++i) {
    if (s[i] == '\'') continue;  // digit separator
    if (s[i] == '.') {
      if (fraction) throw "ctnn: _r literal: two decimal points";
      fraction = true;
      continue;
    }
    if (s[i] < '0' || s[i] > '9') throw "ctnn: _r literal: decimal digits only (no hex)";
    if (++digits > 17) throw "ctnn: _r literal: at most 17 digits";
    num = num * 10 + (s[i] - '0');
    if (fraction) den *= 10;
  }
  if (s[i]) {
    ++i;
    if (s[i] == '-' || s[i] == '+') negative_exp = s[i++] == '-';
    for (; s[i]; ++i) exp = exp * 10 + (s[i] - '0');
  }
  for (int k = 0; k < exp; ++k) (negative_exp ? den : num) *= 10;
  if (num < 0 || den <= 0) throw "ctnn: _r literal: out of range";
  return Ratio(num, den);
}
}  // namespace detail

inline namespace literals {
/// 0.9_r == Ratio{9, 10}: an exact decimal as a template argument.
template <char... C>
constexpr Ratio operator""_r() {
  return detail::parse_ratio<C...>();
}
}  // namespace literals

}  // namespace ctnn
