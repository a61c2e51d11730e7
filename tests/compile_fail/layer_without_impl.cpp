// Must NOT compile: a user's layer with a shape rule but no Impl on the backend it runs on. The
// first error must be the primary Impl's static_assert ("has no implementation on this backend"),
// naming Impl<MyScale, Shape<4, 1, 1>, reference>. With -DCTNN_COMPILE_FAIL_CONTROL the net
// uses ReLU instead and the file must compile.
#include "backends/reference/all.hpp"
#include "ctnn/layers.hpp"
#include "ctnn/model.hpp"

using namespace ctnn;

struct MyScale : ShapePreserving {
  static constexpr const char* name = "MyScale";
};

#ifdef CTNN_COMPILE_FAIL_CONTROL
using Net = Sequential<Linear<3, 4>, ReLU>;
#else
using Net = Sequential<Linear<3, 4>, MyScale>;
#endif

int main() {
  Model<Net, Shape<3>, reference> model;
  return int(model.parameters().size());
}
