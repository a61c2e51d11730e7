#!/usr/bin/env bash
# ctnn's train step vs the careful chain of oneDNN primitives (../shared/bench/onednn_chain), the
# ceiling a framework on oneDNN can reach, on the same machine, alternating the two programs round
# by round at batch 32/128/256, f32 and bf16 (issue 10).
#
#   bash benchmarks/compare_chain.sh
#   ROUNDS=5 ITERS=7 bash benchmarks/compare_chain.sh
#
# Like for like: ctnn runs with --conv direct (the chain has only direct convolutions), both keep
# only steps during which no other process used the CPU (the chain's rule; ctnn_step_timer
# --clean) and report the median step. Then:
#   * Winograd: ctnn --conv auto, f32, batch 128, against the chain's direct median;
#   * busy core: ctnn f32 batch 128 with one core held by a spinning shell, with --threads auto
#     (ThreadTuner) and with a fixed 2 threads, against ctnn with 2 threads on the free machine.
# The last lines are
#   chain_ratio_f32_b32=… … chain_ratio_bf16_b256=…   (ctnn ÷ chain, medians over rounds)
#   winograd_ratio_f32_b128=…   busy_core_ratio=…   busy_core_ratio_fixed=…
# bf16 is skipped (with a line saying so) on CPUs without AVX-512 bf16 support in oneDNN 2.6.
#
# Environment: ROUNDS (3), ITERS (5 kept steps per process), WARMUP (2), CLEAN_S (120: longest wait
# for uncontended steps per process), OMP_NUM_THREADS (default nproc), BUILD_DIR (build-bench),
# CHAIN_DIR (../shared/bench/onednn_chain).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
build=${BUILD_DIR:-$root/build-bench}
chain_dir=${CHAIN_DIR:-$root/../shared/bench/onednn_chain}
ROUNDS=${ROUNDS:-3} ITERS=${ITERS:-5} WARMUP=${WARMUP:-2} CLEAN_S=${CLEAN_S:-120}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)}

if [[ ! -f $chain_dir/train_step.cpp ]]; then
  echo "error: $chain_dir/train_step.cpp not found (set CHAIN_DIR)" >&2
  exit 2
fi
if [[ ! -f $build/CMakeCache.txt ]]; then
  gen=()
  command -v ninja >/dev/null && gen=(-G Ninja)
  cmake -S "$root" -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCTNN_BUILD_TESTS=OFF -DCTNN_BUILD_EXAMPLES=OFF -DCTNN_BUILD_BENCHMARKS=ON >&2
fi
cmake --build "$build" --target ctnn_step_timer -j"$(nproc)" >&2
timer=$build/benchmarks/ctnn_step_timer
chain=$build/benchmarks/onednn_chain_train_step
if [[ ! -x $chain || $chain_dir/train_step.cpp -nt $chain ]]; then
  g++ -O2 -march=native -std=c++17 -fopenmp "$chain_dir/train_step.cpp" -o "$chain" -ldnnl
fi

isa=$(ONEDNN_VERBOSE=1 "$timer" --mode infer --batch 2 --iters 1 --warmup 0 2>&1 | grep -m1 'info,cpu,isa' |
  sed 's/^onednn_verbose,info,cpu,isa://') || true
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, oneDNN isa: ${isa:-?};" \
  "OMP_NUM_THREADS=$OMP_NUM_THREADS; load average $(cut -d' ' -f1-3 /proc/loadavg)"
precisions=(f32 bf16)
if ! "$timer" --mode infer --batch 2 --iters 1 --precision bf16 >/dev/null 2>&1; then
  echo "bf16: not available on this CPU (oneDNN 2.6 has no bf16 convolution without AVX-512): f32 only"
  precisions=(f32)
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# One line per process into the log: "<what> <precision> <batch> <images/s median>".
ctnn() {  # ctnn WHAT PREC BATCH ARGS...
  local what=$1 prec=$2 b=$3 line ips
  shift 3
  line=$("$timer" --mode train --batch "$b" --precision "$prec" --iters "$ITERS" --warmup "$WARMUP" "$@" | tail -n 1) || true
  ips=$(sed -n 's/.*images_per_s_median=\([0-9.]*\).*/\1/p' <<<"$line")
  echo "$what $prec $b ${ips:-nan}" | tee -a "$log"
  echo "    $line"
}
chain_run() {  # chain_run PREC BATCH
  local prec=$1 b=$2 line ips
  line=$("$chain" "$prec" "$b" "$ITERS" chain fused ss "$WARMUP" nhwc "$CLEAN_S" | grep '^RESULT' || true)
  ips=$(sed -n 's/.*= \([0-9.]*\) img\/s.*/\1/p' <<<"$line")
  echo "chain $prec $b ${ips:-nan}" | tee -a "$log"
  echo "    ${line:-no RESULT line}"
}

start=$SECONDS
for ((r = 1; r <= ROUNDS; r++)); do
  echo "round $r"
  for prec in "${precisions[@]}"; do
    for b in 32 128 256; do
      chain_run "$prec" "$b"
      ctnn ctnn_direct "$prec" "$b" --conv direct --clean "$CLEAN_S" --threads "$OMP_NUM_THREADS"
    done
  done
  ctnn ctnn_auto f32 128 --conv auto --clean "$CLEAN_S" --threads "$OMP_NUM_THREADS"
done

# Busy core: a spinning shell holds one core while ctnn trains (no --clean: the load is the point).
echo "busy core (f32, batch 128, conv auto; one core held by a spinning shell)"
spinner=""
stop_spinner() { [[ -n $spinner ]] && { kill "$spinner" 2>/dev/null || true; wait "$spinner" 2>/dev/null || true; }; spinner=""; }
trap 'stop_spinner; rm -f "$log"' EXIT
for ((r = 1; r <= ROUNDS; r++)); do
  ctnn idle_fixed f32 128 --conv auto --clean "$CLEAN_S" --threads "$OMP_NUM_THREADS"
  timeout 900 sh -c 'while :; do :; done' &
  spinner=$!
  sleep 1
  ctnn busy_auto f32 128 --conv auto --threads auto --warmup 14  # the tuner settles during the warm-up
  ctnn busy_fixed f32 128 --conv auto --threads "$OMP_NUM_THREADS"
  stop_spinner
done
echo "elapsed: $((SECONDS - start)) s; load average now $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$log" "${precisions[*]}" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if len(l.split()) == 4]
def med(what, prec, b):
    v = [float(r[3]) for r in rows if r[0] == what and r[1] == prec and r[2] == str(b) and r[3] != "nan"]
    return statistics.median(v) if v else float("nan")
print("\nmedians, images/s (train step):")
for prec in sys.argv[2].split():
    for b in (32, 128, 256):
        print(f"  {prec} b{b:<3}  chain {med('chain', prec, b):7.1f}   ctnn direct {med('ctnn_direct', prec, b):7.1f}")
print(f"  f32 b128  ctnn conv auto {med('ctnn_auto', 'f32', 128):7.1f}")
idle, busy, fixed = med('idle_fixed', 'f32', 128), med('busy_auto', 'f32', 128), med('busy_fixed', 'f32', 128)
print(f"  busy core: idle fixed threads {idle:.1f}, busy auto {busy:.1f}, busy fixed {fixed:.1f}")
for prec in sys.argv[2].split():
    for b in (32, 128, 256):
        print(f"chain_ratio_{prec}_b{b}={med('ctnn_direct', prec, b) / med('chain', prec, b):.3f}")
print(f"winograd_ratio_f32_b128={med('ctnn_auto', 'f32', 128) / med('chain', 'f32', 128):.3f}")
print(f"busy_core_ratio={busy / idle:.3f}")
print(f"busy_core_ratio_fixed={fixed / idle:.3f}")
EOF
