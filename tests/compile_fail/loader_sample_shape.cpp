// Must NOT compile: train::fit gets a loader of 3×32×32 samples (CIFAR-sized) for a net that takes
// 1×28×28. The first error must be the static_assert of sample_shape_mismatch naming both shapes:
// got<Shape<3, 32, 32>> (the loader's) and expected<Shape<1, 28, 28>> (the net's).
// With -DCTNN_COMPILE_FAIL_CONTROL the loader yields 1×28×28 samples and the file must compile.
#include "backends/reference/all.hpp"
#include "ctnn/data/in_memory.hpp"
#include "ctnn/layers.hpp"
#include "ctnn/loss.hpp"
#include "ctnn/model.hpp"
#include "ctnn/optim/sgd.hpp"
#include "ctnn/train/fit.hpp"

using namespace ctnn;
using In = Shape<1, 28, 28>;
#ifdef CTNN_COMPILE_FAIL_CONTROL
using Sample = Shape<1, 28, 28>;
#else
using Sample = Shape<3, 32, 32>;
#endif
using Net = Sequential<Conv2d<1, 8, 3, 1, 1>, ReLU, MaxPool2d<2, 2>, Flatten, Linear<8 * 14 * 14, 10>>;

int main() {
  Model<Net, In, reference> model;
  data::InMemory<Sample> loader({}, {});
  return train::fit(model, loader, CrossEntropyLoss{}, SGD(0.1f), {}).epoch;
}
