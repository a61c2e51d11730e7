#pragma once
// ctnn umbrella header: layers, Sequential, Model, loss, optimizers and the backends this build
// has (CTNN_WITH_ONEDNN and CTNN_WITH_EIGEN are defined by the CMake target ctnn::ctnn,
// CTNN_WITH_CUDA by ctnn::cuda).
#include "backends/reference/all.hpp"
#include "ctnn/layers.hpp"
#include "ctnn/loss.hpp"
#include "ctnn/model.hpp"
#include "ctnn/models/alexnet_cifar.hpp"
#include "ctnn/optim/adam.hpp"
#include "ctnn/optim/schedule.hpp"
#include "ctnn/optim/sgd.hpp"
#include "ctnn/sequential.hpp"
#include "ctnn/summary.hpp"
#include "ctnn/thread_tuner.hpp"
#include "ctnn/threads.hpp"
#if CTNN_WITH_ONEDNN
#include "backends/onednn/all.hpp"
#endif
#if CTNN_WITH_EIGEN
#include "backends/eigen/all.hpp"
#endif
#if CTNN_WITH_CUDA
#include "backends/cuda/all.hpp"
#endif
