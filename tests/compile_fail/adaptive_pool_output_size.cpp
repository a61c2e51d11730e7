// Must NOT compile: AdaptiveAvgPool2d<2> (only global pooling, output size 1, is implemented).
// The first error must be the static_assert of GlobalPool2d<2> saying so. With
// -DCTNN_COMPILE_FAIL_CONTROL the output size is 1 and the file must compile.
#include "backends/reference/all.hpp"
#include "ctnn/layers.hpp"
#include "ctnn/model.hpp"

using namespace ctnn;
#ifdef CTNN_COMPILE_FAIL_CONTROL
using Net = Sequential<Conv2d<3, 4, 3>, AdaptiveAvgPool2d<1>, Flatten, Linear<4, 2>>;
#else
using Net = Sequential<Conv2d<3, 4, 3>, AdaptiveAvgPool2d<2>, Flatten, Linear<16, 2>>;
#endif

int main() {
  Model<Net, Shape<3, 6, 6>, reference> model;
  return int(model.parameters().size() == 0);
}
