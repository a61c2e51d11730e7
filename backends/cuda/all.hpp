#pragma once
// Every layer of the CUDA backend (ctnn::cuda), plus its device-side utilities (cross-entropy,
// horizontal flip). Plain C++ headers: include them from .cpp or .cu files alike; link
// ctnn::ctnn, which carries the kernels (library ctnn_cuda) when CTNN_WITH_CUDA is on.
#include "backends/cuda/activation.hpp"
#include "backends/cuda/augment.hpp"
#include "backends/cuda/batchnorm.hpp"
#include "backends/cuda/conv2d.hpp"
#include "backends/cuda/dropout.hpp"
#include "backends/cuda/flatten.hpp"
#include "backends/cuda/linear.hpp"
#include "backends/cuda/loss.hpp"
#include "backends/cuda/maxpool2d.hpp"
