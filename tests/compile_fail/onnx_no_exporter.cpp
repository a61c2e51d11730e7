// Must NOT compile: exporting a net with a layer that has no ctnn::onnx::Exporter. The first error
// must be emit_net's static_assert, naming no_onnx_exporter<layer_index<1>, MyScale>. With
// -DCTNN_COMPILE_FAIL_CONTROL the net uses ReLU instead and the file must compile.
#define ONNX_ML 1  // what CMake's onnx_proto target defines (target ctnn::onnx)
#define ONNX_NAMESPACE onnx
#include <string>

#include "ctnn/onnx/layers.hpp"

using namespace ctnn;

struct MyScale : ShapePreserving {
  static constexpr const char* name = "MyScale";
};

#ifdef CTNN_COMPILE_FAIL_CONTROL
using Net = Sequential<Linear<3, 4>, ReLU>;
#else
using Net = Sequential<Linear<3, 4>, MyScale>;
#endif

std::string export_it(ctnn::onnx::Graph& g) { return ctnn::onnx::emit_net<Net, Shape<3>>(g, "input"); }

int main() {}
