// Module names and layer-kind traits: what Model, checkpoints and the backends decide from types
// (never from comparing layer names).
#include <doctest/doctest.h>

#include "ctnn/ctnn.hpp"
#include "ctnn/models/alexnet_cifar.hpp"

using namespace ctnn;

TEST_CASE("module paths: Named parts give 'part.j', other layers their position, as nn.Sequential") {
  using Plain = Sequential<Conv2d<1, 4, 3>, ReLU, Flatten, Linear<4 * 26 * 26, 10>>;
  using In = Shape<1, 28, 28>;
  // A Flatten no longer turns a net into features/classifier: plain indices, as PyTorch's
  // nn.Sequential(conv, relu, flatten, linear) names them.
  CHECK(module_path<Plain, In>(0) == "0");
  CHECK(module_path<Plain, In>(3) == "3");

  using Parts = concat_t<Named<"body", Sequential<Conv2d<1, 4, 3>, ReLU>>, Sequential<Flatten>,
                         Named<"head", Sequential<Linear<4 * 26 * 26, 16>, ReLU, Linear<16, 10>>>>;
  static_assert(std::tuple_size_v<nodes_t<Parts, In>> == 6);  // the plan is one flat list of nodes
  static_assert(std::is_same_v<output_shape_t<Parts, In>, Shape<10>>);
  CHECK(module_path<Parts, In>(0) == "body.0");
  CHECK(module_path<Parts, In>(1) == "body.1");
  CHECK(module_path<Parts, In>(2) == "2");  // the Flatten between the parts: its own position
  CHECK(module_path<Parts, In>(3) == "head.0");
  CHECK(module_path<Parts, In>(5) == "head.2");

  Model<Parts, In, reference> m;
  std::vector<std::string> names;
  for (const auto& t : m.named_tensors()) names.push_back(t.name);
  CHECK(names == std::vector<std::string>{"body.0.weight", "body.0.bias", "head.0.weight", "head.0.bias",
                                          "head.2.weight", "head.2.bias"});
}

TEST_CASE("the seed AlexNet keeps PyTorch's features.i / classifier.j names") {
  using Net = models::AlexNetCifar;
  using In = models::CifarImage;
  CHECK(module_path<Net, In>(0) == "features.0");
  CHECK(module_path<Net, In>(17) == "features.17");
  CHECK(module_path<Net, In>(19) == "classifier.0");
  CHECK(module_path<Net, In>(27) == "classifier.8");
  CHECK(module_path<models::AlexNetCifarPure, In>(12) == "features.12");
  CHECK(module_path<models::AlexNetCifarPure, In>(14) == "classifier.0");
}

TEST_CASE("layer-kind traits and fusion are types, not names") {
  static_assert(is_relu_v<ReLU> && !is_relu_v<Sigmoid>);
  static_assert(is_batchnorm_v<BatchNorm2d> && is_batchnorm_v<BatchNorm<1, 0.9_r>> && !is_batchnorm_v<ReLU>);
  static_assert(is_flatten_v<Flatten> && !is_flatten_v<Linear<2, 2>>);
  // A user layer that happens to be called "ReLU" is not a ReLU.
  struct FakeReLU : ReLU {};
  static_assert(!is_relu_v<FakeReLU>);
  static_assert(!fuses_v<reference, BatchNorm2d, ReLU>);
#if CTNN_WITH_ONEDNN
  static_assert(fuses_v<cpu, BatchNorm2d, ReLU> && fuses_v<cpu, BatchNorm<1, 0.9_r>, ReLU>);
  static_assert(!fuses_v<cpu, BatchNorm2d, Sigmoid> && !fuses_v<cpu, BatchNorm2d, FakeReLU>);
#endif
  CHECK(true);
}
