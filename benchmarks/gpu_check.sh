#!/usr/bin/env bash
# GPU check of the CUDA backend: build (Release, CUDA on), CUDA tests, train-step timing at batch
# 128 and 256, then `alexnet_cifar10 --preset best` (50 epochs) with --device cuda.
#
#   benchmarks/gpu_check.sh DATA_DIR OUT_DIR [STEP...]      STEP: build test bench train (default: all)
#
# OUT_DIR receives build.log, tests.log, gpu_step.txt, train.log, metrics.csv, curves.png,
# checkpoint.safetensors and summary.txt (wall time of every step). Steps can be run one by one
# (e.g. under a per-command time limit); later steps reuse the build in $BUILD_DIR (build-gpu).
# Environment: BUILD_DIR, CUDA_ARCHS (default "native": only this machine's GPU, fastest build),
# EPOCHS_SCALE (default 1: the full 50 epochs), EXTRA_TRAIN_ARGS.
set -euo pipefail
if [[ $# -lt 2 ]]; then
  sed -n '2,12p' "$0" >&2
  exit 2
fi
data=$(realpath "$1")
out=$(mkdir -p "$2" && realpath "$2")
shift 2
steps=${*:-build test bench train}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build-gpu}
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
summary=$out/summary.txt

timed() {  # timed NAME command...: runs it, appends "NAME <seconds> s <status>" to summary.txt
  local name=$1 t0=$SECONDS status=ok
  shift
  "$@" || status="FAILED ($?)"
  echo "$name $((SECONDS - t0)) s $status" | tee -a "$summary"
  [[ $status == ok ]]
}

do_build() {
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCTNN_WITH_CUDA=ON -DCMAKE_CUDA_COMPILER="$nvcc" \
    -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCHS:-native}" -DCTNN_BUILD_TESTS=ON -DCTNN_BUILD_EXAMPLES=ON \
    -DCTNN_BUILD_BENCHMARKS=ON &&
    cmake --build "$build" -j"$(nproc)" --target test_cuda test_cuda_nvcc gpu_step alexnet_cifar10
}
do_test() { ctest --test-dir "$build" -L cuda --output-on-failure -V; }
do_bench() { "$build/benchmarks/cuda/gpu_step" 128 256; }
do_train() {  # (functions run under `||`, where set -e is off: check each status)
  "$build/examples/alexnet_cifar10" --device cuda --preset best --data "$data" --out "$out" \
    --epochs-scale "${EPOCHS_SCALE:-1}" ${EXTRA_TRAIN_ARGS:-} || return
  # Trainer draws curves.png with gnuplot; without it, fall back to matplotlib if there is one.
  if [[ ! -f $out/curves.png ]] && python3 -c 'import matplotlib' 2>/dev/null; then
    python3 - "$out" <<'PY'
import csv, sys, matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
rows = list(csv.DictReader(open(f"{sys.argv[1]}/metrics.csv")))
e = [int(r["epoch"]) for r in rows]
fig, ax = plt.subplots(1, 2, figsize=(12, 4.5))
for a, k, t in ((ax[0], "loss", "loss"), (ax[1], "acc", "accuracy (%)")):
    for split in ("train", "test"):
        a.plot(e, [float(r[f"{split}_{k}"]) for r in rows], marker="o", label=f"{split} {k}")
    a.set_title(t), a.set_xlabel("epoch"), a.grid(True), a.legend()
fig.savefig(f"{sys.argv[1]}/curves.png", dpi=100)
PY
  fi
  return 0
}

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >"$out/gpu.txt" 2>&1 || true
status=0
for step in $steps; do
  case $step in
    build) timed build do_build >"$out/build.log" 2>&1 || status=1; tail -3 "$out/build.log" ;;
    test) timed test do_test >"$out/tests.log" 2>&1 || status=1; grep -E "tests passed|Skipped|Failed|\(Passed|\(Failed" "$out/tests.log" || true ;;
    bench) timed bench do_bench >"$out/gpu_step.txt" 2>&1 || status=1; cat "$out/gpu_step.txt" ;;
    train) timed train do_train >"$out/train.log" 2>&1 || status=1; tail -5 "$out/train.log" ;;
    *) echo "unknown step '$step' (build, test, bench, train)" >&2; exit 2 ;;
  esac
done
cat "$summary"
exit $status
