#!/usr/bin/env bash
# ctnn vs PyTorch on the seed AlexNet (CIFAR-10 32×32), same machine, same thread count,
# alternating the two frameworks round by round so that a change of load hits both.
#
#   benchmarks/compare_pytorch.sh
#   ROUNDS=5 ITERS=3 OMP_NUM_THREADS=2 benchmarks/compare_pytorch.sh
#
# Each round runs, each in its own process (so peak RSS belongs to one workload):
#   ctnn  train step  batch 128 f32     PyTorch train step batch 128 f32
#   ctnn  inference   batch 256 f32     PyTorch inference  batch 256 f32
# A train step is forward + CrossEntropyLoss + backward + SGD(momentum 0.9); inference is eval
# mode (PyTorch: under no_grad). Every process does WARMUP untimed iterations, then ITERS timed.
# bf16 (ctnn: Precision::bf16; PyTorch: torch.autocast('cpu', bfloat16)) is tried once for
# ctnn; PyTorch bf16 is timed only when ctnn bf16 runs (the ratio needs both) or TORCH_BF16=1 —
# on a CPU without AVX512-BF16/AMX its kernels are emulated and one step takes minutes.
#
# Prints every measurement, then medians and min–max, and as its last five lines:
#   train_step_ratio=…  inference_ratio=…  bf16_images_per_s=…  bf16_vs_pytorch_bf16_ratio=…
#   peak_rss_ratio=…    (ratios are ctnn ÷ PyTorch of the medians; RSS: training, batch 128)
#
# The current PyTorch (2.x from PyPI, what `pip install torch` gives a user today) is measured
# beside Debian's 1.13 in every round, from a virtual environment under the build folder that
# this script creates (TORCH2=0 skips it), with channels_last as PyTorch's performance guide
# recommends for CNNs on CPU; its version and torch.__config__.show() go to
# <build>/torch2-config.txt. After the five lines above it prints
#   train_step_ratio_torch2=…  inference_ratio_torch2=…  bf16_ratio_torch2=…
#
# Environment: OMP_NUM_THREADS (default nproc; PyTorch gets torch.set_num_threads of it),
# ROUNDS (3), ITERS (2), WARMUP (1), TRAIN_BATCH (128), INFER_BATCH (256), BUDGET_S (480: no
# new round starts when the rounds so far predict it would end later), BUILD_DIR (build-bench).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
build=${BUILD_DIR:-$root/build-bench}
PY=/usr/bin/python3  # Debian's python with python3-torch (the PATH python3 may be a pyenv)

if ! $PY -c "import torch" 2>/dev/null; then
  echo "installing Debian's python3-torch" >&2
  apt-get update && apt-get install -y python3-torch
fi

if [[ ! -f $build/CMakeCache.txt ]]; then
  gen=()
  command -v ninja >/dev/null && gen=(-G Ninja)
  cmake -S "$root" -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCTNN_BUILD_TESTS=OFF -DCTNN_BUILD_EXAMPLES=OFF -DCTNN_BUILD_BENCHMARKS=ON >&2
fi
cmake --build "$build" --target ctnn_step_timer -j"$(nproc)" >&2
timer=$build/benchmarks/ctnn_step_timer

PY2=""
if [[ ${TORCH2:-1} != 0 ]]; then
  venv=$build/torch2-venv
  if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
    echo "installing the current PyTorch from PyPI into $venv (once; several GB with its CUDA libraries)" >&2
    python3 -m venv "$venv" >&2 && "$venv/bin/pip" install -q torch numpy >&2 || echo "PyTorch 2.x: install failed" >&2
  fi
  if "$venv/bin/python" -c "import torch" 2>/dev/null; then
    PY2=$venv/bin/python
    "$PY2" -c 'import torch; print("torch", torch.__version__); print(torch.__config__.show())' >"$build/torch2-config.txt"
  fi
fi

export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)}
ROUNDS=${ROUNDS:-3} ITERS=${ITERS:-2} WARMUP=${WARMUP:-1}
TRAIN_BATCH=${TRAIN_BATCH:-128} INFER_BATCH=${INFER_BATCH:-256} BUDGET_S=${BUDGET_S:-480}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(getconf _NPROCESSORS_ONLN) CPUs; OMP_NUM_THREADS=$OMP_NUM_THREADS;" \
  "torch $($PY -c 'import torch; print(torch.__version__)'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "protocol: $ROUNDS rounds x {ctnn, PyTorch} x {train b$TRAIN_BATCH, inference b$INFER_BATCH}," \
  "$WARMUP warm-up + $ITERS timed iterations per process"

# measure ROUND FRAMEWORK ARGS... : one process, its key=value line appended to the log.
measure() {
  local round=$1 fw=$2 line
  shift 2
  if [[ $fw == ctnn ]]; then
    line=$("$timer" "$@" --iters "$ITERS" --warmup "$WARMUP" 2>/dev/null | tail -n 1) || true
  elif [[ $fw == torch2 ]]; then
    line=$("$PY2" "$here/torch_step.py" "$@" --channels-last --iters "$ITERS" --warmup "$WARMUP" 2>/dev/null |
      tail -n 1) || true
    line=${line/#torch /torch2 }
  else
    line=$($PY "$here/torch_step.py" "$@" --iters "$ITERS" --warmup "$WARMUP" 2>/dev/null | tail -n 1) || true
  fi
  [[ -n $line ]] || line="$fw $* status=failed"
  echo "round=$round $line" | tee -a "$log"
}

start=$SECONDS
done_rounds=0
for ((r = 1; r <= ROUNDS; r++)); do
  if ((done_rounds > 0)); then
    per=$(((SECONDS - start) / done_rounds))
    if ((SECONDS - start + per > BUDGET_S)); then
      echo "stopping after $done_rounds round(s): another would pass BUDGET_S=$BUDGET_S s (a round takes ~$per s)"
      break
    fi
  fi
  measure "$r" ctnn --mode train --batch "$TRAIN_BATCH" --precision f32
  measure "$r" torch --mode train --batch "$TRAIN_BATCH" --precision f32
  measure "$r" ctnn --mode infer --batch "$INFER_BATCH" --precision f32
  measure "$r" torch --mode infer --batch "$INFER_BATCH" --precision f32
  if [[ -n $PY2 ]]; then
    measure "$r" torch2 --mode train --batch "$TRAIN_BATCH" --precision f32
    measure "$r" torch2 --mode infer --batch "$INFER_BATCH" --precision f32
  fi
  done_rounds=$r
done

# bf16: ctnn once; PyTorch only when ctnn bf16 runs or when asked.
measure 1 ctnn --mode train --batch "$TRAIN_BATCH" --precision bf16
if ! grep -q "^round=1 ctnn mode=train batch=$TRAIN_BATCH precision=bf16 .*images_per_s=" "$log" &&
  [[ ${TORCH_BF16:-0} != 1 ]]; then
  echo "PyTorch bf16: not timed (ctnn bf16 unavailable here; set TORCH_BF16=1 to time it anyway)"
else
  measure 1 torch --mode train --batch "$TRAIN_BATCH" --precision bf16
  if [[ -n $PY2 ]]; then measure 1 torch2 --mode train --batch "$TRAIN_BATCH" --precision bf16; fi
fi
echo "elapsed: $((SECONDS - start)) s; load average now $(cut -d' ' -f1-3 /proc/loadavg)"

CPU_BF16=$(grep -qwE 'avx512_bf16|amx_bf16' /proc/cpuinfo && echo yes || echo no) \
  TRAIN_BATCH=$TRAIN_BATCH INFER_BATCH=$INFER_BATCH $PY - "$log" <<'EOF'
import os, re, statistics, sys

rows = []
for ln in open(sys.argv[1]):
    kv = dict(re.findall(r'(\w+)=("[^"]*"|\S+)', ln))
    kv["fw"] = ln.split()[1]
    rows.append(kv)

def pick(fw, mode, batch, prec, key="images_per_s"):
    return [float(r[key]) for r in rows
            if r["fw"] == fw and r.get("mode") == mode and r.get("batch") == str(batch)
            and r.get("precision") == prec and key in r]

def fmt(v, unit="img/s", scale=1.0):
    if not v:
        return "unavailable"
    v = [x * scale for x in v]
    return f"median {statistics.median(v):8.2f} {unit}  (min–max {min(v):.2f}–{max(v):.2f}, n={len(v)})"

tb, ib = os.environ["TRAIN_BATCH"], os.environ["INFER_BATCH"]
print("\nsummary (images/s, higher is better; peak RSS of the process, MiB)")
for fw in ("ctnn", "torch", "torch2"):
    name = {"ctnn": "ctnn     ", "torch": "PyTorch  ", "torch2": "PyTorch 2"}[fw]
    print(f"  {name} train step b{tb} f32  {fmt(pick(fw, 'train', tb, 'f32'))}")
    print(f"  {name} inference  b{ib} f32  {fmt(pick(fw, 'infer', ib, 'f32'))}")
    print(f"  {name} train step b{tb} bf16 {fmt(pick(fw, 'train', tb, 'bf16'))}")
    print(f"  {name} peak RSS train b{tb}   {fmt(pick(fw, 'train', tb, 'f32', 'peak_rss_kib'), 'MiB', 1 / 1024)}")

def ratio(a, b):
    return f"{statistics.median(a) / statistics.median(b):.3f}" if a and b else "unavailable"

cb, tb16 = pick("ctnn", "train", tb, "bf16"), pick("torch", "train", tb, "bf16")
why = ("no AVX512-BF16/AMX on this CPU" if os.environ["CPU_BF16"] == "no"
       else "ctnn bf16 failed on this CPU")
print(f"train_step_ratio={ratio(pick('ctnn', 'train', tb, 'f32'), pick('torch', 'train', tb, 'f32'))}")
print(f"inference_ratio={ratio(pick('ctnn', 'infer', ib, 'f32'), pick('torch', 'infer', ib, 'f32'))}")
print(f"bf16_images_per_s={statistics.median(cb):.2f}" if cb else f"bf16_images_per_s=unavailable ({why})")
print(f"bf16_vs_pytorch_bf16_ratio={ratio(cb, tb16)}")
print(f"peak_rss_ratio={ratio(pick('ctnn', 'train', tb, 'f32', 'peak_rss_kib'), pick('torch', 'train', tb, 'f32', 'peak_rss_kib'))}")
print(f"train_step_ratio_torch2={ratio(pick('ctnn', 'train', tb, 'f32'), pick('torch2', 'train', tb, 'f32'))}")
print(f"inference_ratio_torch2={ratio(pick('ctnn', 'infer', ib, 'f32'), pick('torch2', 'infer', ib, 'f32'))}")
print(f"bf16_ratio_torch2={ratio(cb, pick('torch2', 'train', tb, 'bf16'))}")
EOF
