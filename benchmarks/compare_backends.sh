#!/usr/bin/env bash
# CPU backends side by side: ctnn_step_timer's train step and inference images/s of the seed
# AlexNet (fp32) for each backend, at batch 32, 128 and 256, in alternating rounds (so that every
# backend sees the same machine load), each measurement in its own process. Prints every result
# line, then a Markdown table of the medians with each backend's ratio to the first one.
#   benchmarks/compare_backends.sh [timer ...]     (default: build-bench/benchmarks/ctnn_step_timer)
# Each TIMER may be "path" or "path@backend[,backend...]" (default backends: onednn,eigen), or
# "torch" for PyTorch as installed (benchmarks/torch_step.py, same protocol); e.g.
#   benchmarks/compare_backends.sh build/benchmarks/ctnn_step_timer@onednn,eigen \
#                                  build-native/benchmarks/ctnn_step_timer@eigen torch
# Environment: ROUNDS (2), ITERS (2), WARMUP (1), BATCHES ("32 128 256"), MODES ("train infer"),
# OMP_NUM_THREADS (2).
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
ROUNDS=${ROUNDS:-2} ITERS=${ITERS:-2} WARMUP=${WARMUP:-1}
BATCHES=${BATCHES:-"32 128 256"} MODES=${MODES:-"train infer"}
[ $# -gt 0 ] || set -- build-bench/benchmarks/ctnn_step_timer
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(getconf _NPROCESSORS_ONLN) CPUs; OMP_NUM_THREADS=$OMP_NUM_THREADS;" \
  "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
  for batch in $BATCHES; do
    for mode in $MODES; do
      for spec in "$@"; do
        if [ "$spec" = torch ]; then
          line=$(/usr/bin/python3 benchmarks/torch_step.py --mode "$mode" --batch "$batch" --iters "$ITERS" \
            --warmup "$WARMUP" --threads "$OMP_NUM_THREADS" || true)
          echo "round=$round timer=torch_step.py backend=PyTorch $line" | tee -a "$log"
          continue
        fi
        timer=${spec%@*}
        backends=onednn,eigen
        [ "$spec" != "$timer" ] && backends=${spec#*@}
        for b in ${backends//,/ }; do
          line=$("$timer" --backend "$b" --mode "$mode" --batch "$batch" --iters "$ITERS" --warmup "$WARMUP" || true)
          echo "round=$round timer=$timer $line" | tee -a "$log"
        done
      done
    done
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$log" <<'PY'
import re, statistics, sys
rows = {}
order = []
for line in open(sys.argv[1]):
    kv = dict(re.findall(r"(\w+)=(\S+)", line))
    if "images_per_s" not in kv:
        continue
    parts = kv["timer"].split("/")  # .../<build dir>/benchmarks/ctnn_step_timer: name the build dir
    col = kv["backend"] + (f" [{parts[-3]}]" if len(parts) >= 3 else "")
    if col not in order:
        order.append(col)
    rows.setdefault((kv["mode"], int(kv["batch"])), {}).setdefault(col, []).append(float(kv["images_per_s"]))
print("\n| mode | batch | " + " | ".join(order) + " | " + " | ".join(f"{c} ÷ {order[0]}" for c in order[1:]) + " |")
print("|---|---:|" + "---:|" * (2 * len(order) - 1))
for (mode, batch), cols in sorted(rows.items()):
    med = {c: statistics.median(v) for c, v in cols.items()}
    base = med.get(order[0])
    cells = [f"{med[c]:.1f}" if c in med else "—" for c in order]
    ratios = [f"{med[c] / base:.2f}" if c in med and base else "—" for c in order[1:]]
    print(f"| {mode} | {batch} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
PY
