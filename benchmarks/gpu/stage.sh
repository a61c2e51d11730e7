#!/usr/bin/env bash
# Prepares, on a CPU machine with the CUDA toolkit, what travels to a lent GPU machine whose
# transfers are limited (64 MiB a call) and which has no package registry: the four CUDA programs
# built here for sm_90 with -lineinfo (oneDNN off: the GPU machine has no libdnnl) and the two
# shared libraries it may lack, in .gpubin/; CIFAR-10 as lossless WebP packs in .gpud1/ (test
# set and batches 1-2) and .gpud2/ (batches 3-5). benchmarks/gpu/device.sh runs there.
#   benchmarks/gpu/stage.sh [DATA_DIR]        (default ../shared/data/cifar10)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
data=${1:-$root/../shared/data/cifar10}
build=${BUILD_DIR:-$root/../build-gpu}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCTNN_WITH_ONEDNN=OFF -DCTNN_WITH_CUDA=ON \
  -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_CUDA_FLAGS=-lineinfo \
  -DCTNN_BUILD_TESTS=ON -DCTNN_BUILD_EXAMPLES=ON -DCTNN_BUILD_BENCHMARKS=ON >/dev/null
cmake --build "$build" -j2 --target test_cuda test_cuda_nvcc test_cuda_pytorch test_cuda_layers2_pytorch test_cuda_residual_pytorch gpu_step alexnet_cifar10
rm -rf "$root/.gpubin" && mkdir -p "$root/.gpubin/lib"
cp "$build/tests/cuda/test_cuda" "$build/tests/cuda/test_cuda_nvcc" "$build/tests/cuda/test_cuda_pytorch" "$build/tests/cuda/test_cuda_layers2_pytorch" "$build/tests/cuda/test_cuda_residual_pytorch" "$build/benchmarks/cuda/gpu_step" \
  "$build/examples/alexnet_cifar10" "$root/.gpubin/"
for lib in libfmt.so.9 libgomp.so.1; do cp -L "$(ldconfig -p | awk -v l=$lib '$1 == l {print $NF; exit}')" "$root/.gpubin/lib/"; done
grep -qx '/.gpu\*/' "$root/.git/info/exclude" 2>/dev/null || echo '/.gpu*/' >>"$root/.git/info/exclude"
if [[ ! -f $root/.gpud2/data_batch_5.webp ]]; then
  python3 "$root/benchmarks/gpu/cifar_webp.py" pack "$data" "$root/.gpud1" test_batch data_batch_1 data_batch_2
  python3 "$root/benchmarks/gpu/cifar_webp.py" pack "$data" "$root/.gpud2" data_batch_3 data_batch_4 data_batch_5
fi
du -sh "$root"/.gpubin "$root"/.gpud1 "$root"/.gpud2
