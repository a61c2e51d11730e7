#pragma once
// Every layer of the oneDNN CPU backend (ctnn::cpu).
#include "backends/onednn/batchnorm.hpp"
#include "backends/onednn/conv2d.hpp"
#include "backends/onednn/dropout.hpp"
#include "backends/onednn/eltwise.hpp"
#include "backends/onednn/flatten.hpp"
#include "backends/onednn/linear.hpp"
#include "backends/onednn/maxpool2d.hpp"
#include "backends/onednn/pooling.hpp"
#include "backends/onednn/residual.hpp"
