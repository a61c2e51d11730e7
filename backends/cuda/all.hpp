#pragma once
// Every layer of the CUDA backend (ctnn::cuda), plus its device-side utilities (cross-entropy,
// horizontal flip). Plain C++ headers: include them from .cpp or .cu files alike; link the CMake
// target ctnn::cuda, which carries the kernels (library ctnn_cuda_kernels), CUDA and cuDNN.
#include "backends/cuda/activation.hpp"
#include "backends/cuda/augment.hpp"
#include "backends/cuda/batchnorm.hpp"
#include "backends/cuda/conv2d.hpp"
#include "backends/cuda/dropout.hpp"
#include "backends/cuda/flatten.hpp"
#include "backends/cuda/linear.hpp"
#include "backends/cuda/loss.hpp"
#include "backends/cuda/maxpool2d.hpp"
#include "backends/cuda/pooling.hpp"
#include "backends/cuda/residual.hpp"
