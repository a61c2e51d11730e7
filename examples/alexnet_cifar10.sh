#!/usr/bin/env bash
# The train command (README): installs packages, builds the example in Release, trains.
#   bash examples/alexnet_cifar10.sh --preset best [--epochs-scale 0.1] [--data DIR] ...
# Every argument is passed to alexnet_cifar10 (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/install-deps
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target alexnet_cifar10 -j"$(nproc)"
exec build/examples/alexnet_cifar10 "$@"
