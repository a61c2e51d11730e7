// Must NOT compile: a 5×5 average-pooling window with padding 1 on a 2×2 input (2 + 2·1 < 5).
// The error must name layer_index<1>, the layer, got<Shape<4, 2, 2>> and expected<Shape<4, 3, 3>>
// (the smallest input a 5×5 window with padding 1 fits). With -DCTNN_COMPILE_FAIL_CONTROL the
// window is 3×3 and the file must compile.
#include "backends/reference/all.hpp"
#include "ctnn/layers.hpp"
#include "ctnn/model.hpp"

using namespace ctnn;
#ifdef CTNN_COMPILE_FAIL_CONTROL
using Net = Sequential<Conv2d<3, 4, 3>, AvgPool2d<3, 1, 1>, GELU>;
#else
using Net = Sequential<Conv2d<3, 4, 3>, AvgPool2d<5, 1, 1>, GELU>;
#endif

int main() {
  Model<Net, Shape<3, 4, 4>, reference> model;
  return int(model.parameters().size() == 0);
}
