// Must NOT compile: the first convolution makes 16 channels, the second expects 8. The error must
// name layer_index<2> (Conv2d, ReLU, Conv2d), the layer, got<Shape<16, 6, 6>> and
// expected<Shape<8, 6, 6>>.
// With -DCTNN_COMPILE_FAIL_CONTROL the second convolution takes 16 channels and the file must compile.
#include "backends/reference/all.hpp"
#include "ctnn/layers.hpp"
#include "ctnn/model.hpp"

using namespace ctnn;
#ifdef CTNN_COMPILE_FAIL_CONTROL
using Net = Sequential<Conv2d<3, 16, 3>, ReLU, Conv2d<16, 16, 3>>;
#else
using Net = Sequential<Conv2d<3, 16, 3>, ReLU, Conv2d<8, 16, 3>>;
#endif

int main() {
  Model<Net, Shape<3, 8, 8>, reference> model;
  return int(model.parameters().size() == 0);
}
