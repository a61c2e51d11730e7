#pragma once
// The seed lab's AlexNet for 32×32 CIFAR-10 images, and the two ablations of its results table.
//   AlexNetCifar      5 conv + 3 FC with BatchNorm and Dropout: 2,091,274 parameters
//   AlexNetCifarBN    the same without Dropout                  (preset "bn")
//   AlexNetCifarPure  conv-pool-activation and FC-activation only (preset "pure")
// Layer order follows the lab's PyTorch module: Named parts "features" and "classifier" with
// torch.flatten between them, so checkpoint names match its state_dict. Momentum is a template
// argument of BatchNorm (PyTorch's meaning: running = (1 − m)·running + m·batch);
// AlexNetCifarM<0.9_r> is the lab's momentum=0.9.
#include "ctnn/layers.hpp"
#include "ctnn/sequential.hpp"
#include "ctnn/shape.hpp"

namespace ctnn::models {

using CifarImage = Shape<3, 32, 32>;

// One block of the net per line (clang-format would refill the lists).
// clang-format off
/// The convolutional part (PyTorch: `features`), 3×32×32 → 128×6×6.
template <Ratio BnMomentum = 0.1_r>
using AlexNetFeatures = Sequential<
    Conv2d<3, 96, 3, 1, 1>, BatchNorm<2, BnMomentum>, ReLU, MaxPool2d<2, 2>,
    Conv2d<96, 128, 5, 1, 2>, BatchNorm<2, BnMomentum>, ReLU, MaxPool2d<2, 1>,
    Conv2d<128, 256, 3>, BatchNorm<2, BnMomentum>, ReLU,
    Conv2d<256, 256, 3, 1, 1>, BatchNorm<2, BnMomentum>, ReLU,
    Conv2d<256, 128, 3, 1, 1>, BatchNorm<2, BnMomentum>, ReLU, MaxPool2d<3, 2>>;

template <Ratio BnMomentum = 0.1_r>
using AlexNetCifarM = concat_t<Named<"features", AlexNetFeatures<BnMomentum>>, Sequential<Flatten>,
                               Named<"classifier", Sequential<Linear<4608, 128>, BatchNorm1d, ReLU, Dropout,
                                                              Linear<128, 64>, BatchNorm1d, ReLU, Dropout,
                                                              Linear<64, 10>>>>;

template <Ratio BnMomentum = 0.1_r>
using AlexNetCifarBNM = concat_t<Named<"features", AlexNetFeatures<BnMomentum>>, Sequential<Flatten>,
                                 Named<"classifier", Sequential<Linear<4608, 128>, BatchNorm1d, ReLU,
                                                                Linear<128, 64>, BatchNorm1d, ReLU, Linear<64, 10>>>>;

using AlexNetCifarPure = concat_t<
    Named<"features", Sequential<Conv2d<3, 96, 3, 1, 1>, ReLU, MaxPool2d<2, 2>,
                                 Conv2d<96, 128, 5, 1, 2>, ReLU, MaxPool2d<2, 1>,
                                 Conv2d<128, 256, 3>, ReLU,
                                 Conv2d<256, 256, 3, 1, 1>, ReLU,
                                 Conv2d<256, 128, 3, 1, 1>, ReLU, MaxPool2d<3, 2>>>,
    Sequential<Flatten>,
    Named<"classifier", Sequential<Linear<4608, 128>, ReLU, Linear<128, 64>, ReLU, Linear<64, 10>>>>;

// clang-format on
using AlexNetCifar = AlexNetCifarM<>;  ///< PyTorch's default BatchNorm momentum 0.1
using AlexNetCifarBN = AlexNetCifarBNM<>;

}  // namespace ctnn::models
