#!/usr/bin/env bash
# The consumer project (tests/consumer) against a configured ctnn build folder, as a user would:
#   1. add_subdirectory(ctnn)
#   2. find_package(ctnn) after `cmake --install BUILD --prefix ...` — also with the CUDA toolkit
#      hidden (CUDAToolkit_ROOT=/nonexistent, no nvcc on PATH): ctnn::ctnn must not need CUDA
#   3. find_package(ctnn COMPONENTS cuda) when BUILD has the CUDA backend (configure and build;
#      running it needs a GPU)
# Each builds `consumer` (runs it: a few training steps, loss must fall) and `readme_sample` (the
# README's code sample, compiled as written; package mode only: it takes a while).
#   bash tests/consumer/run.sh [BUILD]        (default: build)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=$(cd "${1:-build}" && pwd)
out=$build/consumer
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
rm -rf "$out"

echo "-- consumer: add_subdirectory"
cmake -S tests/consumer -B "$out/sub" "${gen[@]}" -DCTNN_CONSUMER_MODE=subdirectory -DCTNN_CONSUMER_README=OFF \
  -DCTNN_WITH_CUDA=OFF >"$out.sub.log" 2>&1 || { cat "$out.sub.log"; exit 1; }
cmake --build "$out/sub" >>"$out.sub.log" 2>&1 || { cat "$out.sub.log"; exit 1; }
"$out/sub/consumer" | tail -n 1

echo "-- consumer: find_package(ctnn), CUDA toolkit hidden"
cmake --install "$build" --prefix "$out/prefix" >/dev/null
if grep -rq "/usr/local/cuda" "$out/prefix/lib/cmake/ctnn"; then
  echo "error: installed package files name an absolute CUDA path:"; grep -rn "/usr/local/cuda" "$out/prefix/lib/cmake/ctnn"; exit 1
fi
nocuda_path=$(printf '%s' "$PATH" | tr ':' '\n' | grep -v cuda | paste -sd: -)
PATH=$nocuda_path CUDACXX= CUDA_PATH= cmake -S tests/consumer -B "$out/pkg" "${gen[@]}" -DCTNN_CONSUMER_MODE=package \
  -DCMAKE_PREFIX_PATH="$out/prefix" -DCUDAToolkit_ROOT=/nonexistent >"$out.pkg.log" 2>&1 ||
  { cat "$out.pkg.log"; exit 1; }
cmake --build "$out/pkg" -j"$(nproc)" >>"$out.pkg.log" 2>&1 || { cat "$out.pkg.log"; exit 1; }
"$out/pkg/consumer" | tail -n 1
echo "readme_sample: compiled from README.md ($(wc -c <"$out/pkg/readme_sample.cpp") bytes of C++)"

if [ -f "$out/prefix/lib/cmake/ctnn/ctnnCudaTargets.cmake" ]; then
  echo "-- consumer: find_package(ctnn COMPONENTS cuda)"
  cmake -S tests/consumer -B "$out/cuda" "${gen[@]}" -DCTNN_CONSUMER_MODE=package -DCTNN_CONSUMER_CUDA=ON \
    -DCTNN_CONSUMER_README=OFF -DCMAKE_PREFIX_PATH="$out/prefix" >"$out.cuda.log" 2>&1 ||
    { cat "$out.cuda.log"; exit 1; }
  cmake --build "$out/cuda" >>"$out.cuda.log" 2>&1 || { cat "$out.cuda.log"; exit 1; }
  echo "consumer with ctnn::cuda: configured and built (running it needs a GPU)"
fi
