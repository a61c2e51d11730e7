#!/usr/bin/env bash
# The test command (README; .ci/run calls exactly this). From a fresh clone on Debian:
# installs packages, builds everything in Release, runs the unit tests, the learning check on
# real CIFAR-10, the consumer project both ways, and the hardening checks (sanitizers, fuzzing,
# kill-and-resume, bad inputs) where their scripts are present.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/install-deps
jobs=$(nproc)
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$jobs}

echo "== build (Release)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$jobs"

echo "== tests"
ctest --test-dir build --output-on-failure

echo "== consumer project: add_subdirectory and find_package"
rm -rf build/consumer
cmake -S tests/consumer -B build/consumer/sub -G Ninja -DCTNN_CONSUMER_MODE=subdirectory >/dev/null
cmake --build build/consumer/sub >/dev/null && build/consumer/sub/consumer | tail -n 1
cmake --install build --prefix build/consumer/prefix >/dev/null
cmake -S tests/consumer -B build/consumer/pkg -G Ninja -DCTNN_CONSUMER_MODE=package \
  -DCMAKE_PREFIX_PATH="$PWD/build/consumer/prefix" >/dev/null
cmake --build build/consumer/pkg >/dev/null && build/consumer/pkg/consumer | tail -n 1

echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCTNN_SANITIZE=ON \
  -DCTNN_BUILD_EXAMPLES=OFF -DCTNN_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ctest --test-dir build-asan -L unit -LE slow --output-on-failure

echo "== fuzzing: each libFuzzer target for 60 s"
bash tests/fuzz/run.sh 60

echo "== kill -9 during training and during checkpoint writes, resume, compare with an uninterrupted run"
LIMIT_TRAIN=500 bash tests/kill_resume.sh build/examples/alexnet_cifar10 build/tests/compare_checkpoints

echo "== bad inputs: clear message, exit code 2"
bash tests/bad_inputs.sh build/examples/alexnet_cifar10
echo "== all checks passed"
