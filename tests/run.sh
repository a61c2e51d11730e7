#!/usr/bin/env bash
# The test command (README; .ci/run runs tests/fresh_machine.sh, then this). From a fresh clone on Debian:
# installs packages, builds everything in Release with GCC, runs the unit tests, the learning check
# on real CIFAR-10, the parity suites and the learning check without oneDNN (Eigen backend), the
# consumer project (add_subdirectory, find_package with the CUDA toolkit hidden, the README's code sample), the unit tests built with Clang 14, and the hardening checks
# (sanitizers, fuzzing, kill-and-resume, bad inputs). .ci/run also runs tests/fresh_machine.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/install-deps --tests
jobs=$(nproc)
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$jobs}

echo "== build (Release)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$jobs"

echo "== tests (including label mpi: data parallelism under mpirun -np 1/2/3, TCP, resume, abort)"
ctest --test-dir build --output-on-failure

echo "== without oneDNN: the parity suites and the learning check on the Eigen backend (ctnn::cpu = Eigen)"
# Only the suites whose backend list changes (and the example for the learning check), to keep it short.
cmake -S . -B build-eigen -G Ninja -DCMAKE_BUILD_TYPE=Release -DCTNN_WITH_ONEDNN=OFF -DCTNN_WITH_CUDA=OFF \
  -DCTNN_BUILD_BENCHMARKS=OFF >/dev/null
eigen_tests="test_layers_pytorch test_layers2_pytorch test_alexnet_pytorch test_finite_differences test_fit test_trainer test_ratio_threads"
# shellcheck disable=SC2086
cmake --build build-eigen -j"$jobs" --target $eigen_tests alexnet_cifar10
ctest --test-dir build-eigen -R "^($(echo $eigen_tests | tr ' ' '|')|learning_check)\$" -E test_alexnet_pytorch \
  --output-on-failure
build-eigen/tests/test_alexnet_pytorch -tc='*<ctnn::eigen>*'  # the reference half ran in build/ already
build-eigen/examples/alexnet_cifar10 --summary >/dev/null

echo "== consumer project: add_subdirectory, find_package (CUDA toolkit hidden), README sample"
bash tests/consumer/run.sh build

echo "== Clang 14: unit tests, compile-fail tests and the example (Release; sanitizers stay on GCC below)"
cmake -S . -B build-clang -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCTNN_BUILD_EXAMPLES=ON -DCTNN_BUILD_BENCHMARKS=OFF -DCTNN_WITH_CUDA=OFF >/dev/null
cmake --build build-clang -j"$jobs"
ctest --test-dir build-clang -L "unit|compile_fail" --output-on-failure
build-clang/examples/alexnet_cifar10 --summary | grep "Total params"

echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCTNN_SANITIZE=ON \
  -DCTNN_BUILD_EXAMPLES=OFF -DCTNN_BUILD_BENCHMARKS=OFF -DCTNN_WITH_CUDA=OFF >/dev/null
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
