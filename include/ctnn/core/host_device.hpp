#pragma once
// CTNN_HOST_DEVICE marks the formulas of include/ctnn/core/ as callable from host code and from
// CUDA kernels (backends/cuda/kernels/*.cu include them): one definition for every backend.
#if defined(__CUDACC__)
#define CTNN_HOST_DEVICE __host__ __device__
#else
#define CTNN_HOST_DEVICE
#endif
