#pragma once
// The seed lab's AlexNet for 32×32 CIFAR-10 images (tests/reference/make_reference.py, class
// AlexNet), and the deterministic pseudo-random parameter formula the PyTorch reference uses
// instead of storing weights (tests/reference/README.md).
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "ctnn/ctnn.hpp"

namespace ctnn_test {

// Module names match PyTorch's: layers 0..17 are features.0..17, layer 18 is the Flatten
// (torch.flatten in forward(), no module), layers 19..27 are classifier.0..8.
// One block of the net per line (clang-format would refill the lists).
// clang-format off
using AlexNetCifar = ctnn::concat_t<
    ctnn::Named<"features",
                ctnn::Sequential<ctnn::Conv2d<3, 96, 3, 1, 1>, ctnn::BatchNorm2d, ctnn::ReLU, ctnn::MaxPool2d<2, 2>,    //
                                 ctnn::Conv2d<96, 128, 5, 1, 2>, ctnn::BatchNorm2d, ctnn::ReLU, ctnn::MaxPool2d<2, 1>,  //
                                 ctnn::Conv2d<128, 256, 3>, ctnn::BatchNorm2d, ctnn::ReLU,                              //
                                 ctnn::Conv2d<256, 256, 3, 1, 1>, ctnn::BatchNorm2d, ctnn::ReLU,                        //
                                 ctnn::Conv2d<256, 128, 3, 1, 1>, ctnn::BatchNorm2d, ctnn::ReLU, ctnn::MaxPool2d<3, 2>>>,
    ctnn::Sequential<ctnn::Flatten>,
    ctnn::Named<"classifier",
                ctnn::Sequential<ctnn::Linear<4608, 128>, ctnn::BatchNorm1d, ctnn::ReLU, ctnn::Dropout,  //
                                 ctnn::Linear<128, 64>, ctnn::BatchNorm1d, ctnn::ReLU, ctnn::Dropout,    //
                                 ctnn::Linear<64, 10>>>>;
// clang-format on
using AlexNetInput = ctnn::Shape<3, 32, 32>;

/// splitmix64 (Steele, Lea, Flood 2014), as in tests/reference/make_reference.py.
constexpr std::uint64_t formula_splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  std::uint64_t z = x;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static_assert(formula_splitmix64(0) == 0xE220A8397B1DCDAFull);  // the well-known first output

/// Element i of weight/bias tensor t of the reference formula, before scaling: a pseudo-random
/// v = 2·r − 1 in [−1, 1), r = (u >> 40)/2²⁴, u = splitmix64(0x9E3779B97F4A7C15·(t+1) + i) (mod 2⁶⁴).
/// Exact in double (a 24-bit fraction).
constexpr double formula_value(int t, std::uint64_t i) {
  const std::uint64_t u = formula_splitmix64(0x9E3779B97F4A7C15ull * std::uint64_t(t + 1) + i);
  return 2.0 * (double(u >> 40) * 0x1.0p-24) - 1.0;
}

/// Sets every parameter and buffer of `model` by the reference formula (tests/reference/README.md):
/// walking the tensors in state_dict order, t counts weight/bias tensors (0..29); element i of
/// tensor t gets v = formula_value(t, i), then, in double, Conv/Linear weight and bias v/√fan_in
/// (fan_in of the layer's weight: in_channels·kh·kw or in_features), BatchNorm weight 1 + 0.1·v,
/// bias 0.1·v, rounded once to float; running_mean 0, running_var 1.
/// Returns the number of weight/bias tensors visited (30 for AlexNetCifar).
template <class M>
int set_formula_parameters(M& model) {
  auto tensors = model.named_tensors();
  std::set<std::string> batchnorms;      // modules with running statistics
  std::map<std::string, double> fan_in;  // module -> fan_in of its weight
  for (const auto& t : tensors) {
    const auto dot = t.name.rfind('.');
    const std::string module = t.name.substr(0, dot), leaf = t.name.substr(dot + 1);
    if (leaf == "running_mean") batchnorms.insert(module);
    if (leaf == "weight") fan_in[module] = double(t.data.size()) / double(t.shape.at(0));
  }
  int t = 0;
  for (auto& nt : tensors) {
    const auto dot = nt.name.rfind('.');
    const std::string module = nt.name.substr(0, dot), leaf = nt.name.substr(dot + 1);
    if (leaf == "running_mean" || leaf == "running_var") {
      for (float& v : nt.data) v = leaf == "running_var" ? 1.f : 0.f;
      continue;
    }
    const bool bn = batchnorms.count(module) > 0;
    const double sqrt_fan_in = bn ? 1.0 : std::sqrt(fan_in.at(module));
    for (std::size_t i = 0; i < nt.data.size(); ++i) {
      const double v = formula_value(t, i);
      // Each a correctly rounded double operation, as in numpy, then one rounding to float.
      double value;
      if (!bn)
        value = v / sqrt_fan_in;
      else if (leaf == "weight")
        value = 1.0 + 0.1 * v;
      else
        value = 0.1 * v;
      nt.data[i] = float(value);
    }
    ++t;
  }
  return t;
}

}  // namespace ctnn_test
