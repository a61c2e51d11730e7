#!/usr/bin/env bash
# GPU check of the CUDA backend in one command: build (or take prebuilt binaries), the CUDA tests,
# a compute-sanitizer pass, train-step timings, then the results-table presets at full length in
# priority order until the time budget is spent.
#
#   benchmarks/gpu_check.sh DATA_DIR OUT_DIR [STEP...]   STEP: build test memcheck bench train torch
#                                                        (default: the first five)
# OUT_DIR receives summary.txt (one line per step: name, seconds, status), gpu.txt, build.log,
# tests.log, memcheck.log, gpu_step.txt and one folder per preset (train.log, metrics.csv,
# checkpoint.safetensors, curves.png if gnuplot or matplotlib is there).
# Environment:
#   BIN_DIR      prebuilt binaries (test_cuda, test_cuda_nvcc, test_cuda_pytorch,
#                test_cuda_layers2_pytorch, test_cuda_residual_pytorch, gpu_step, alexnet_cifar10): skips build
#   BUILD_DIR    build folder (default build-gpu); CUDA_ARCHS (default "native")
#   BUDGET_S     seconds this script may run (default 540): each preset gets what is left minus
#                a margin and is stopped cleanly (its metrics.csv keeps the finished epochs)
#   PRESETS      order of the training runs (default: best fast pure bn dropout augment multibatch max)
#   EPOCHS_SCALE (default 1: full length), LIMIT_TRAIN (default 0: all), EXTRA_TRAIN_ARGS
#   TORCH_RUNS   step torch: "preset:bn_momentum ..." runs of the lab's PyTorch net on the same data
#                (gpu/torch_lab.py; default "best:0.9 best:0.1"), into OUT_DIR/torch-<preset>-<m>
set -uo pipefail
if [[ $# -lt 2 ]]; then
  sed -n '2,19p' "$0" >&2
  exit 2
fi
start=$SECONDS
data=$(realpath "$1")
out=$(mkdir -p "$2" && realpath "$2")
shift 2
steps=${*:-build test memcheck bench train}  # torch only when asked
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build-gpu}
budget=${BUDGET_S:-540}
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
summary=$out/summary.txt
left() { echo $((budget - (SECONDS - start))); }

if [[ -n ${BIN_DIR:-} ]]; then
  bin() { echo "$BIN_DIR/$1"; }
  steps=${steps//build/}
else
  bin() {
    case $1 in
      test_cuda*) echo "$build/tests/cuda/$1" ;;
      gpu_step) echo "$build/benchmarks/cuda/$1" ;;
      *) echo "$build/examples/$1" ;;
    esac
  }
fi

timed() {  # timed NAME LIMIT command...: runs it under `timeout LIMIT`, appends "NAME <s> s <status>"
  local name=$1 limit=$2 t0=$SECONDS status=ok rc
  shift 2
  # timeout runs programs, not functions: the step functions and their variables are exported.
  timeout --signal=INT --kill-after=10 "$limit" bash -c '"$@"' step "$@"
  rc=$?
  ((rc == 124)) && status="STOPPED at the time limit (${limit} s)"
  ((rc != 0 && rc != 124)) && status="FAILED ($rc)"
  echo "$name $((SECONDS - t0)) s $status" | tee -a "$summary"
  [[ $status == ok ]]
}

do_build() {
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCTNN_WITH_ONEDNN=OFF -DCTNN_WITH_CUDA=ON \
    -DCMAKE_CUDA_COMPILER="$nvcc" -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCHS:-native}" -DCTNN_BUILD_TESTS=ON \
    -DCTNN_BUILD_EXAMPLES=ON -DCTNN_BUILD_BENCHMARKS=ON &&
    cmake --build "$build" -j"$(nproc)" --target test_cuda test_cuda_nvcc test_cuda_pytorch test_cuda_layers2_pytorch test_cuda_residual_pytorch gpu_step alexnet_cifar10
}
do_test() {  # all three run, whatever the first ones say
  local rc=0
  CTNN_ALEXNET_REPORT=1 "$(bin test_cuda_pytorch)" || rc=1
  "$(bin test_cuda_layers2_pytorch)" || rc=1
  "$(bin test_cuda_residual_pytorch)" || rc=1
  "$(bin test_cuda)" --duration=true || rc=1
  "$(bin test_cuda_nvcc)" || rc=1
  return $rc
}
do_memcheck() {  # out-of-bounds accesses and uninitialised reads in every layer's kernels
  local cs
  cs=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null) ||
    { echo "no compute-sanitizer"; return 0; }
  # The backend's own kernels (cuDNN's and cuBLAS's are checked by their vendor; under memcheck their
  # algorithm search takes minutes).
  "$cs" --tool memcheck --error-exitcode 3 "$(bin test_cuda)" -tc='*ReLU*,*MaxPool*,*Dropout*,*cross-entropy*,*hflip*,*update()*' &&
    "$cs" --tool initcheck --error-exitcode 3 "$(bin test_cuda_nvcc)"
}
do_bench() { "$(bin gpu_step)" 32 128 256 && "$(bin gpu_step)" --tf32 0 256; }
do_torch() {  # do_torch PRESET MOMENTUM: the lab's PyTorch net, same data and schedule
  local dir=$out/torch-$1-$2
  mkdir -p "$dir"
  python3 "$root/benchmarks/gpu/torch_lab.py" --data "$data" --out "$dir" --preset "$1" --bn-momentum "$2" \
    --epochs-scale "${EPOCHS_SCALE:-1}" --limit-train "${LIMIT_TRAIN:-0}" >"$dir/train.log" 2>&1
  local rc=$?
  tail -1 "$dir/train.log"
  return $rc
}
do_preset() {  # do_preset NAME: one full-length run into $out/NAME
  local dir=$out/$1
  mkdir -p "$dir"
  "$(bin alexnet_cifar10)" --device cuda --preset "$1" --data "$data" --out "$dir" \
    --epochs-scale "${EPOCHS_SCALE:-1}" --limit-train "${LIMIT_TRAIN:-0}" ${EXTRA_TRAIN_ARGS:-} >"$dir/train.log" 2>&1
  local rc=$?
  tail -2 "$dir/train.log"
  return $rc
}

export data out build nvcc BIN_DIR
export root
export -f bin do_build do_test do_memcheck do_bench do_preset do_torch
{
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader
  "$nvcc" --version | tail -1
} >"$out/gpu.txt" 2>&1
cat "$out/gpu.txt"
status=0
for step in $steps; do
  case $step in
    build) timed build 600 do_build >"$out/build.log" 2>&1 || status=1; tail -3 "$out/build.log" ;;
    test) timed test 240 do_test >"$out/tests.log" 2>&1 || status=1; grep -E "^\[doctest\] (test cases|assertions)|FAILED|ERROR" "$out/tests.log" | head -40 ;;
    memcheck) timed memcheck 150 do_memcheck >"$out/memcheck.log" 2>&1 || status=1; grep -E "ERROR SUMMARY|========= (Invalid|Uninit)" "$out/memcheck.log" | head -10 ;;
    bench) timed bench 120 do_bench >"$out/gpu_step.txt" 2>&1 || status=1; cat "$out/gpu_step.txt" ;;
    train)
      for preset in ${PRESETS:-best fast pure bn dropout augment multibatch max}; do
        limit=$(($(left) - 15))
        if ((limit < 30)); then
          echo "train-$preset 0 s not started: budget spent" | tee -a "$summary"
          continue
        fi
        timed "train-$preset" "$limit" do_preset "$preset" || status=1
      done
      ;;
    torch)
      for run in ${TORCH_RUNS:-best:0.9 best:0.1}; do
        limit=$(($(left) - 15))
        if ((limit < 30)); then
          echo "torch-$run 0 s not started: budget spent" | tee -a "$summary"
          continue
        fi
        timed "torch-$run" "$limit" do_torch "${run%%:*}" "${run##*:}" || status=1
      done
      ;;
    *) echo "unknown step '$step' (build, test, memcheck, bench, train, torch)" >&2; exit 2 ;;
  esac
done
cat "$summary"
exit $status
