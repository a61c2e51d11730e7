// resnet9_cifar10: trains ResNet-9 (include/ctnn/models/resnet9.hpp, 6,573,120 parameters) on
// CIFAR-10 with a one-cycle recipe.
//
//   resnet9_cifar10                              # preset fast: 10 epochs
//   resnet9_cifar10 --epochs-scale 0.1 --limit-train 5000 --limit-test 2000   # a short check
//   resnet9_cifar10 --summary                    # the torchsummary table, then exit
//
// Preset fast: 10 epochs at batch 512; one-cycle lr (OneCycleLR per optimizer step: peak 0.2,
// 25 % linear warmup from peak/25, linear decay to peak/25/1e3); SGD Nesterov, momentum 0.9;
// weight decay 5e-4 on Conv2d/Linear weights only; label smoothing 0.1; reflect-padded crop 4 and
// horizontal flip; flip TTA at evaluation (test_acc_tta). A starting recipe after the usual fast
// CIFAR-10 ResNet-9 runs, not tuned here (tune with --val-split, never on the test set).
// Options, checkpoints (PyTorch names: tests/tools/torch_eval_checkpoint.py loads them into
// tests/tools/resnet9_torch.py's module, strictly), bad-input handling and the last line
// ("final test_acc=... test_loss=... epochs=... seconds=... test_acc_tta=...") are those of
// alexnet_cifar10 (examples/cifar_example.hpp).
#include "cifar_example.hpp"
#include "ctnn/models/resnet9.hpp"

using namespace ctnn;
using cifar_example::Args;

train::TrainerOptions recipe(const Args& a) {
  train::TrainerOptions o;
  o.stages = cifar_example::scaled({{10, 512, 0.2f}}, a);  // lr: the one-cycle peak
  o.nesterov = true;
  o.momentum = 0.9f;
  o.weight_decay = 5e-4f;
  o.decay_weights_only = true;
  o.one_cycle =
      OneCycleLR{.pct_start = 0.25, .anneal = OneCycleLR::Anneal::linear, .div_factor = 25, .final_div_factor = 1e3};
  o.label_smoothing = 0.1f;
  o.augment = {.hflip = true, .crop_padding = 4, .crop_reflect = true};
  o.tta_flip = true;
  o.metadata = {{"model", "resnet9"}};
  return o;
}

int main(int argc, char** argv) {
  Args a;
  a.data = cifar_example::default_data_dir();
  a.preset = "fast";
  a.out = "runs/resnet9";
  CLI::App app{"Train ResNet-9 on CIFAR-10 with ctnn"};
  app.add_option("--preset", a.preset, "training recipe")->check(CLI::IsMember({"fast"}));
  cifar_example::add_common_options(app, a);
  if (const int rc = cifar_example::parse(app, argc, argv); rc >= 0) return rc;
  if (a.summary) {
    std::cout << summary<models::ResNet9, models::CifarImage>();
    return 0;
  }
  return cifar_example::run(a, argc, argv, [&]<class Backend>(cifar_example::Group& g) {
    return cifar_example::train_net<models::ResNet9, Backend>(a, "resnet9_cifar10", recipe(a), g);
  });
}
