#pragma once
// ctnn::data — CIFAR-10, all of it (umbrella header):
//   data/cifar10/format.hpp      the binary files: reader, writer, Cifar10 (train/test splits)
//   data/cifar10/transforms.hpp  Normalize, Augment, render_image, normalize_metadata
//   data/cifar10/loader.hpp      BatchLoader: shuffled, augmented batches prepared on a thread
#include "ctnn/data/batch.hpp"
#include "ctnn/data/cifar10/format.hpp"
#include "ctnn/data/cifar10/loader.hpp"
#include "ctnn/data/cifar10/transforms.hpp"
