// Residual blocks and grouped convolutions against PyTorch (tests/reference/residual.safetensors,
// written by tests/reference/make_residual_reference.py). ResidualNet is the script's
// residual_net(), layer for layer: its state_dict names must be ctnn's tensor names (so the PyTorch
// state loads by name), and forward, input gradient, every parameter gradient, the BatchNorm running
// statistics inside both branches, one Nesterov SGD step and the eval-mode forward after it must
// match within 1e-4 relative plus a 1e-5 absolute floor. Runs on every CTNN_TEST_BACKENDS.
#include <string>
#include <vector>

#include "ctnn/models/resnet9.hpp"
#include "helpers.hpp"

using namespace ctnn;
using namespace ctnn_test;

namespace {

constexpr double kRel = 1e-4;
constexpr double kAbs = 1e-5;

using ResidualNet = Sequential<
    Conv2d<3, 8, 3, 1, 1, false>, BatchNorm2d, ReLU,
    Residual<Sequential<Conv2d<8, 8, 3, 1, 1, false>, BatchNorm2d, ReLU, Conv2d<8, 8, 3, 1, 1, false, 4>, BatchNorm2d>>,
    ReLU,
    Residual<Sequential<Conv2d<8, 16, 3, 2, 1, false>, BatchNorm2d, ReLU, Conv2d<16, 16, 3, 1, 1, true, 16>>,
             Sequential<Conv2d<8, 16, 1, 2, 0, false>, BatchNorm2d>>,
    ReLU, AdaptiveAvgPool2d<1>, Flatten, Linear<16, 5>>;
using NetIn = Shape<3, 8, 8>;

template <class Conv, class In, class B>
void check_conv(const std::string& key, int n, const std::string& config) {
  const auto ref = load_reference("residual.safetensors");
  REQUIRE(ref.metadata.at(key + ".config") == config);
  Model<Sequential<Conv>, In, B> model;
  if constexpr (requires { model.context().allow_tf32; }) model.context().allow_tf32 = false;
  set_tensor(model, "0.weight", get(ref, key + ".weight"));
  if constexpr (Conv::bias) set_tensor(model, "0.bias", get(ref, key + ".bias"));
  const auto x = get(ref, key + ".x");
  check_close(model.forward(x, n), get(ref, key + ".y"), kRel, kAbs, key + ": y");
  std::vector<float> dx(x.size(), -1.f);
  model.backward(get(ref, key + ".dy"), dx);
  check_close(dx, get(ref, key + ".dx"), kRel, kAbs, key + ": dx");
  check_close(grad(model, "0.weight"), get(ref, key + ".dweight"), kRel, kAbs, key + ": dweight");
  if constexpr (Conv::bias) check_close(grad(model, "0.bias"), get(ref, key + ".dbias"), kRel, kAbs, key + ": dbias");
}

}  // namespace

TEST_CASE_TEMPLATE("Conv2d groups=2 matches PyTorch", B, CTNN_TEST_BACKENDS) {
  check_conv<Conv2d<4, 6, 3, 1, 1, true, 2>, Shape<4, 5, 5>, B>("g2", 2, "4,6,3,1,1,1,2");
}

TEST_CASE_TEMPLATE("depthwise Conv2d (groups = channels, no bias, stride 2) matches PyTorch", B, CTNN_TEST_BACKENDS) {
  check_conv<Conv2d<6, 6, 3, 2, 1, false, 6>, Shape<6, 7, 7>, B>("dw", 2, "6,6,3,2,1,0,6");
}

TEST_CASE_TEMPLATE("Residual net: names, forward, gradients, running stats, SGD step, eval match PyTorch", B,
                   CTNN_TEST_BACKENDS) {
  const auto ref = load_reference("residual.safetensors");
  Model<ResidualNet, NetIn, B> model(7);
  if constexpr (requires { model.context().allow_tf32; }) model.context().allow_tf32 = false;

  // The names are PyTorch's state_dict keys, in state_dict order.
  std::string names;
  for (const auto& t : model.named_tensors()) names += (names.empty() ? "" : ",") + t.name;
  CHECK(names == ref.metadata.at("net.names"));
  CHECK(std::to_string(Model<ResidualNet, NetIn, B>::num_parameters) == ref.metadata.at("net.num_params"));
  for (const auto& t : model.named_tensors()) set_tensor(model, t.name, get(ref, "net.state." + t.name));

  model.train();
  const auto x = get(ref, "net.x");
  const auto labels = get_labels(ref, "net.labels");
  const auto logits = model.forward(x, 4);
  check_close(logits, get(ref, "net.logits"), kRel, kAbs, "logits");
  std::vector<float> dlogits(logits.size()), dx(x.size());
  const double loss = CrossEntropyLoss{}(logits, labels, 5, dlogits).loss;
  CHECK(loss == doctest::Approx(get(ref, "net.loss")[0]).epsilon(1e-5));
  model.backward(dlogits, dx);
  check_close(dx, get(ref, "net.dx"), kRel, kAbs, "dx");
  for (const auto& t : model.named_tensors()) {
    if (t.trainable)
      check_close(grad(model, t.name), get(ref, "net.grad." + t.name), kRel, kAbs, "grad " + t.name);
    else
      check_close(t.data, get(ref, "net.after_forward." + t.name), kRel, kAbs, "buffer " + t.name);
  }

  SGD opt(0.1f, 0.9f, 0.f, 5e-4f, true);
  opt.step(model.parameters(), model.gradients());
  for (const auto& t : model.named_tensors())
    if (t.trainable) check_close(t.data, get(ref, "net.after_step." + t.name), kRel, kAbs, "after step " + t.name);

  model.eval();
  check_close(model.forward(x, 4), get(ref, "net.eval_logits"), kRel, kAbs, "eval logits");
}

TEST_CASE("ResNet9: tensor names, shapes and parameter count are those of the PyTorch module") {
  // tests/tools/resnet9_torch.py's make_resnet9(), recorded by make_residual_reference.py.
  const auto ref = load_reference("residual.safetensors");
  Model<models::ResNet9, models::CifarImage, reference> model;
  std::string names, shapes;
  for (const auto& t : model.named_tensors()) {
    names += (names.empty() ? "" : ",") + t.name;
    std::string shape;
    for (auto d : t.shape) shape += (shape.empty() ? "" : "x") + std::to_string(d);
    shapes += (shapes.empty() ? "" : ";") + shape;
  }
  CHECK(names == ref.metadata.at("resnet9.names"));
  CHECK(shapes == ref.metadata.at("resnet9.shapes"));
  CHECK(std::to_string(model.num_parameters) == ref.metadata.at("resnet9.num_params"));
  CHECK(model.num_parameters == 6573120);
}
