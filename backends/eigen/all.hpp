#pragma once
// Every layer of the Eigen CPU backend (ctnn::eigen).
#include "backends/eigen/batchnorm.hpp"
#include "backends/eigen/conv2d.hpp"
#include "backends/eigen/elementwise.hpp"
#include "backends/eigen/linear.hpp"
#include "backends/eigen/pooling.hpp"
#include "backends/eigen/residual.hpp"
