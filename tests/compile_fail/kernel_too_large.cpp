// Must NOT compile: a 7×7 kernel without padding on a 4×4 input. The error must name
// layer_index<0>, the layer, got<Shape<3, 4, 4>> and expected<Shape<3, 7, 7>>.
// With -DCTNN_COMPILE_FAIL_CONTROL the kernel is 3×3 and the file must compile.
#include "backends/reference/all.hpp"
#include "ctnn/layers.hpp"
#include "ctnn/model.hpp"

using namespace ctnn;
#ifdef CTNN_COMPILE_FAIL_CONTROL
using Net = Sequential<Conv2d<3, 8, 3>, ReLU>;
#else
using Net = Sequential<Conv2d<3, 8, 7>, ReLU>;
#endif

int main() {
  Model<Net, Shape<3, 4, 4>, reference> model;
  return int(model.parameters().size() == 0);
}
