#pragma once
// ONNX export of Residual<Body, Projection> (ctnn/residual.hpp, branch `residual`): y = Body(x) +
// Projection(x) (the identity skip: x itself) as the branches' nodes and one Add. The branches are
// the block's small nets named "body" and "shortcut" (or their Named names), so emit_net under the
// block's module path gives their nodes and tensors the checkpoint's names ("7.body.0.weight").
// Compiled only where ctnn/residual.hpp exists (save.hpp includes this header unconditionally).
#if __has_include("ctnn/residual.hpp")
#include <string>

#include "ctnn/onnx/layers.hpp"
#include "ctnn/residual.hpp"

namespace ctnn::onnx {

template <class Body, class Projection>
struct Exporter<Residual<Body, Projection>> {
  using R = Residual<Body, Projection>;
  template <class In>
  static std::string emit(Graph& g, const Site& at, const std::string& x) {
    const std::string y = emit_net<typename R::body_net, In>(g, x, at.module);
    const std::string skip = emit_net<typename R::skip_net, In>(g, x, at.module);  // Identity: x
    return g.op("Add", {y, skip}, at.module);
  }
};

}  // namespace ctnn::onnx
#endif
