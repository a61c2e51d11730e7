// Must NOT compile: the residual block (layer 3) doubles the channels in its body (64 -> 128) but
// its skip branch is the identity (64 channels), so x + body(x) cannot be formed. The error must be
// one residual_mismatch naming block_index<3>, the body's last layer (layer_index<4>), the body's
// output Shape<128, 8, 8> and the skip's Shape<64, 8, 8>.
// With -DCTNN_COMPILE_FAIL_CONTROL the body keeps 64 channels and the file must compile.
#include "backends/reference/all.hpp"
#include "ctnn/layers.hpp"
#include "ctnn/model.hpp"

using namespace ctnn;
#ifdef CTNN_COMPILE_FAIL_CONTROL
using Block = Residual<
    Sequential<Conv2d<64, 64, 3, 1, 1, false>, BatchNorm2d, ReLU, Conv2d<64, 64, 3, 1, 1, false>, BatchNorm2d>>;
#else
using Block = Residual<
    Sequential<Conv2d<64, 128, 3, 1, 1, false>, BatchNorm2d, ReLU, Conv2d<128, 128, 3, 1, 1, false>, BatchNorm2d>>;
#endif
using Net =
    Sequential<Conv2d<3, 64, 3, 1, 1, false>, BatchNorm2d, ReLU, Block, AdaptiveMaxPool2d<1>, Flatten, Linear<64, 10>>;

int main() {
  Model<Net, Shape<3, 8, 8>, reference> model;
  return int(model.parameters().size() == 0);
}
