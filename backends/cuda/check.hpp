#pragma once
// CTNN_CUDA_CHECK(call): runs a CUDA runtime, cuDNN or cuBLAS call and throws ctnn::Error naming
// the call, the file and line, and the library's own description of the status, e.g.
//   cuda backend: cudnnConvolutionForward(...) failed at backends/cuda/conv2d.hpp:71: CUDNN_STATUS_BAD_PARAM
// Kernels report asynchronously: an error raised by a kernel surfaces at the next synchronising
// call (download, pull); run with CUDA_LAUNCH_BLOCKING=1 to pin it to its launch.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <string>

#include "ctnn/error.hpp"

namespace ctnn::gpu {

inline std::string status_text(cudaError_t s) {
  return std::string(cudaGetErrorName(s)) + " (" + cudaGetErrorString(s) + ")";
}
inline std::string status_text(cudnnStatus_t s) { return cudnnGetErrorString(s); }
inline std::string status_text(cublasStatus_t s) { return cublasGetStatusString(s); }
inline bool ok(cudaError_t s) { return s == cudaSuccess; }
inline bool ok(cudnnStatus_t s) { return s == CUDNN_STATUS_SUCCESS; }
inline bool ok(cublasStatus_t s) { return s == CUBLAS_STATUS_SUCCESS; }

template <class Status>
void check(Status s, const char* call, const char* file, int line) {
  if (!ok(s))
    throw Error(std::string("cuda backend: ") + call + " failed at " + file + ":" + std::to_string(line) + ": " +
                status_text(s));
}

}  // namespace ctnn::gpu

#define CTNN_CUDA_CHECK(call) ::ctnn::gpu::check((call), #call, __FILE__, __LINE__)
