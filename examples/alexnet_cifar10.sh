#!/usr/bin/env bash
# The train command (README): installs packages, builds the example in Release, trains.
#   bash examples/alexnet_cifar10.sh --preset best [--epochs-scale 0.1] [--data DIR] ...
# Every argument is passed to alexnet_cifar10 (see --help); relative paths in them (--data, --out)
# are read from the directory it was started in, as with any command.
set -euo pipefail
here=$PWD
cd "$(dirname "$0")/.."
root=$PWD
bash .ci/install-deps
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target alexnet_cifar10 -j"$(nproc)"
cd "$here"
exec "$root/build/examples/alexnet_cifar10" "$@"
