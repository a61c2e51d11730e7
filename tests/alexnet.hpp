#pragma once
// The seed lab's AlexNet for 32×32 CIFAR-10 images (tests/reference/make_reference.py, class
// AlexNet), and the deterministic parameter formula the PyTorch reference uses instead of
// storing weights (tests/reference/README.md).
#include <cmath>
#include <set>
#include <string>

#include "ctnn/ctnn.hpp"

namespace ctnn_test {

// Module names match PyTorch's: layers 0..17 are features.0..17, layer 18 is the Flatten
// (torch.flatten in forward()), layers 19..27 are classifier.0..8.
using AlexNetCifar =
    ctnn::Sequential<ctnn::Conv2d<3, 96, 3, 1, 1>, ctnn::BatchNorm2d, ctnn::ReLU, ctnn::MaxPool2d<2, 2>,    //
                     ctnn::Conv2d<96, 128, 5, 1, 2>, ctnn::BatchNorm2d, ctnn::ReLU, ctnn::MaxPool2d<2, 1>,  //
                     ctnn::Conv2d<128, 256, 3>, ctnn::BatchNorm2d, ctnn::ReLU,                              //
                     ctnn::Conv2d<256, 256, 3, 1, 1>, ctnn::BatchNorm2d, ctnn::ReLU,                        //
                     ctnn::Conv2d<256, 128, 3, 1, 1>, ctnn::BatchNorm2d, ctnn::ReLU, ctnn::MaxPool2d<3, 2>, //
                     ctnn::Flatten,                                                                         //
                     ctnn::Linear<4608, 128>, ctnn::BatchNorm1d, ctnn::ReLU, ctnn::Dropout,                 //
                     ctnn::Linear<128, 64>, ctnn::BatchNorm1d, ctnn::ReLU, ctnn::Dropout,                   //
                     ctnn::Linear<64, 10>>;
using AlexNetInput = ctnn::Shape<3, 32, 32>;

/// Sets every parameter and buffer of `model` by the reference formula: walking the tensors in
/// state_dict order, t counts weight/bias tensors (0..29); element i of tensor t gets
/// s = sin(0.37·i + 0.11·t) in double, then Conv/Linear weight s/√fan_in, bias 0.1·s,
/// BatchNorm weight 1 + 0.1·s, bias 0.1·s; running_mean 0, running_var 1; rounded to float.
/// Returns the number of weight/bias tensors visited (30 for AlexNetCifar).
template <class M>
int set_formula_parameters(M& model) {
  auto tensors = model.named_tensors();
  std::set<std::string> batchnorms;  // modules with running statistics
  for (const auto& t : tensors) {
    const auto dot = t.name.rfind('.');
    if (t.name.substr(dot + 1) == "running_mean") batchnorms.insert(t.name.substr(0, dot));
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
    const double fan_in = double(nt.data.size()) / double(nt.shape.at(0));
    for (std::size_t i = 0; i < nt.data.size(); ++i) {
      const double s = std::sin(0.37 * double(i) + 0.11 * t);
      double v;
      if (leaf == "weight") v = bn ? 1 + 0.1 * s : s / std::sqrt(fan_in);
      else v = 0.1 * s;
      nt.data[i] = float(v);
    }
    ++t;
  }
  return t;
}

}  // namespace ctnn_test
