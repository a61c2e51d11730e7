#pragma once
// ResNet-9 for 32×32 CIFAR-10 images: the well-known fast CIFAR-10 ResNet (David Page, "How to
// train your ResNet", 2018), 6,573,120 parameters.
//   prep    conv-BN-ReLU 3→64
//   layer1  conv-BN-ReLU 64→128, MaxPool 2, Residual(conv-BN-ReLU 128→128, conv-BN-ReLU 128→128)
//   layer2  conv-BN-ReLU 128→256, MaxPool 2
//   layer3  conv-BN-ReLU 256→512, MaxPool 2, Residual(conv-BN-ReLU 512→512, conv-BN-ReLU 512→512)
//   head    AdaptiveMaxPool2d(1), Flatten, Linear(512, 10, bias=False), × 0.125
// Every convolution is 3×3, padding 1, without bias. One flat Sequential, so the checkpoint names
// are those of the PyTorch nn.Sequential in tests/tools/resnet9_torch.py ("0.weight", ...,
// "7.body.0.weight" for the first residual block's first convolution, "19.weight" for the Linear).
#include "ctnn/layers.hpp"
#include "ctnn/models/alexnet_cifar.hpp"  // CifarImage
#include "ctnn/residual.hpp"
#include "ctnn/sequential.hpp"

namespace ctnn::models {

/// Conv2d 3×3 (padding 1, no bias), BatchNorm2d, ReLU.
template <int In, int Out>
using ConvBnRelu = Sequential<Conv2d<In, Out, 3, 1, 1, false>, BatchNorm2d, ReLU>;

// clang-format off
using ResNet9 = concat_t<
    ConvBnRelu<3, 64>,
    ConvBnRelu<64, 128>, Sequential<MaxPool2d<2>, Residual<concat_t<ConvBnRelu<128, 128>, ConvBnRelu<128, 128>>>>,
    ConvBnRelu<128, 256>, Sequential<MaxPool2d<2>>,
    ConvBnRelu<256, 512>, Sequential<MaxPool2d<2>, Residual<concat_t<ConvBnRelu<512, 512>, ConvBnRelu<512, 512>>>,
                                     AdaptiveMaxPool2d<1>, Flatten, Linear<512, 10, false>, Scale<0.125_r>>>;
// clang-format on

}  // namespace ctnn::models
