#pragma once
// Every layer of the reference backend.
#include "backends/reference/batchnorm.hpp"
#include "backends/reference/conv2d.hpp"
#include "backends/reference/elementwise.hpp"
#include "backends/reference/linear.hpp"
#include "backends/reference/maxpool2d.hpp"
#include "backends/reference/pooling.hpp"
#include "backends/reference/residual.hpp"
