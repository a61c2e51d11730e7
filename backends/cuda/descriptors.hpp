#pragma once
// cuDNN descriptors as owning objects (created on first use, destroyed with the layer), NCHW
// float32 throughout — the same layout as Model's host data, so no transposes anywhere.
#include "backends/cuda/check.hpp"

namespace ctnn::gpu {

template <class T, cudnnStatus_t (*Create)(T*), cudnnStatus_t (*Destroy)(T)>
class Descriptor {
 public:
  Descriptor() = default;
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  ~Descriptor() {
    if (d_) Destroy(d_);
  }
  T get() {
    if (!d_) CTNN_CUDA_CHECK(Create(&d_));
    return d_;
  }
  operator T() { return get(); }

 private:
  T d_{};
};

struct TensorDesc : Descriptor<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor> {
  void set(int n, int c, int h, int w) {
    CTNN_CUDA_CHECK(cudnnSetTensor4dDescriptor(get(), CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, c, h, w));
  }
};

struct FilterDesc : Descriptor<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor> {
  void set(int out, int in, int kh, int kw) {
    CTNN_CUDA_CHECK(cudnnSetFilter4dDescriptor(get(), CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, out, in, kh, kw));
  }
};

struct ConvDesc
    : Descriptor<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor, cudnnDestroyConvolutionDescriptor> {
  void set(int pad, int stride, cudnnMathType_t math, int groups = 1) {
    CTNN_CUDA_CHECK(cudnnSetConvolution2dDescriptor(get(), pad, pad, stride, stride, 1, 1, CUDNN_CROSS_CORRELATION,
                                                    CUDNN_DATA_FLOAT));
    CTNN_CUDA_CHECK(cudnnSetConvolutionGroupCount(get(), groups));
    math_type(math);
  }
  void math_type(cudnnMathType_t math) { CTNN_CUDA_CHECK(cudnnSetConvolutionMathType(get(), math)); }
};

}  // namespace ctnn::gpu
