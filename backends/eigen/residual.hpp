#pragma once
// Eigen Residual (contract in ctnn/residual.hpp): the reference backend's fan-out and sum, run
// on Eigen's tensors with both branches as Chains of Eigen Impls. The add is memory-bound and a
// small share of a residual net's step; the branches' convolutions are where Eigen's GEMMs work.
#include "backends/eigen/context.hpp"
#include "backends/reference/residual.hpp"

namespace ctnn {

template <class Body, class Projection, class In>
struct Impl<Residual<Body, Projection>, In, eigen> : host_loops::Residual<eigen, Body, Projection, In> {};

}  // namespace ctnn
