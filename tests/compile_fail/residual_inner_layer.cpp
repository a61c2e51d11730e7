// Must NOT compile: inside the residual block (layer 3), the body's second convolution (its
// layer_index<3>) expects 128 channels but gets 64. The error must be one shape_mismatch_in_block
// naming block_index<3>, layer_index<3>, the layer, got<Shape<64, 8, 8>> and expected<Shape<128, 8, 8>>.
// With -DCTNN_COMPILE_FAIL_CONTROL the convolution takes 64 channels and the file must compile.
#include "backends/reference/all.hpp"
#include "ctnn/layers.hpp"
#include "ctnn/model.hpp"

using namespace ctnn;
#ifdef CTNN_COMPILE_FAIL_CONTROL
constexpr int kIn = 64;
#else
constexpr int kIn = 128;
#endif
using Block = Residual<
    Sequential<Conv2d<64, 64, 3, 1, 1, false>, BatchNorm2d, ReLU, Conv2d<kIn, 64, 3, 1, 1, false>, BatchNorm2d>>;
using Net =
    Sequential<Conv2d<3, 64, 3, 1, 1, false>, BatchNorm2d, ReLU, Block, AdaptiveMaxPool2d<1>, Flatten, Linear<64, 10>>;

int main() {
  Model<Net, Shape<3, 8, 8>, reference> model;
  return int(model.parameters().size() == 0);
}
