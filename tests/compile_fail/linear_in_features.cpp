// Must NOT compile: after the AlexNet features the flattened sample has 128·6·6 = 4608 values, but
// the first classifier layer is declared as Linear<4000, 128>. The first error must name
// layer_index<19>, the layer, got<Shape<4608, 1, 1>> and expected<Shape<4000, 1, 1>>.
// With -DCTNN_COMPILE_FAIL_CONTROL the layer is Linear<4608, 128> and the file must compile (this
// proves the file fails for the intended reason only, and that the harness rejects a success).
#include "backends/reference/all.hpp"
#include "ctnn/layers.hpp"
#include "ctnn/model.hpp"

using namespace ctnn;
#ifdef CTNN_COMPILE_FAIL_CONTROL
using FirstLinear = Linear<4608, 128>;
#else
using FirstLinear = Linear<4000, 128>;
#endif
using Net = Sequential<Conv2d<3, 96, 3, 1, 1>, BatchNorm2d, ReLU, MaxPool2d<2, 2>,     //
                       Conv2d<96, 128, 5, 1, 2>, BatchNorm2d, ReLU, MaxPool2d<2, 1>,   //
                       Conv2d<128, 256, 3>, BatchNorm2d, ReLU,                         //
                       Conv2d<256, 256, 3, 1, 1>, BatchNorm2d, ReLU,                   //
                       Conv2d<256, 128, 3, 1, 1>, BatchNorm2d, ReLU, MaxPool2d<3, 2>,  //
                       Flatten, FirstLinear, BatchNorm1d, ReLU, Dropout,               //
                       Linear<128, 64>, BatchNorm1d, ReLU, Dropout, Linear<64, 10>>;

int main() {
  Model<Net, Shape<3, 32, 32>, reference> model;
  return int(model.parameters().size() == 0);
}
