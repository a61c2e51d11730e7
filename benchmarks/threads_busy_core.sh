#!/usr/bin/env bash
# The train step at 1 and 2 (or N) oneDNN threads, with the machine's cores free and with one
# core kept busy by another process (a shell spinning `while :; do :; done`), alternating the
# settings round by round. Prints one line per run and the median images/s of each setting.
#
#   bash benchmarks/threads_busy_core.sh [ROUNDS=3] [BATCH=128] [ITERS=4]
#
# Uses ctnn_step_timer (the train step of benchmarks/compare_pytorch.sh: seed AlexNet, batch 128,
# forward + loss + backward + SGD step) with --threads 1, N (all cores) and auto (ThreadTuner);
# the last line is busy_core_ratio=<busy auto / free N>. Also prints
# the CPU model (lscpu) and oneDNN's ISA line, which go with the figures (benchmarks/README.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3} batch=${2:-128} iters=${3:-4}
build=${BUILD:-$root/build-bench}
threads=(1 "$(nproc)" auto)  # auto: ctnn::ThreadTuner picks the count from the step times
[ "$(nproc)" -eq 1 ] && threads=(1)
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCTNN_WITH_CUDA=OFF -DCTNN_BUILD_TESTS=OFF \
  -DCTNN_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" --target ctnn_step_timer -j"$(nproc)" >/dev/null
timer=$build/benchmarks/ctnn_step_timer

cpu_field() { lscpu | sed -n "s/^$1:[[:space:]]*//p" | head -n 1; }
echo "cpu: $(cpu_field 'Model name') (family $(cpu_field 'CPU family') model $(cpu_field 'Model')), $(nproc) cores"
echo "onednn: $(ONEDNN_VERBOSE=1 OMP_NUM_THREADS=1 "$timer" --mode infer --batch 2 --iters 1 --warmup 0 2>&1 |
  grep -m1 'info,cpu,isa' | sed 's/^onednn_verbose,info,cpu,//')"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

spinner=""
stop_spinner() {
  if [ -n "$spinner" ]; then
    kill "$spinner" 2>/dev/null || true
    wait "$spinner" 2>/dev/null || true
  fi
  spinner=""
}
trap stop_spinner EXIT
results=$(mktemp)
for ((r = 1; r <= rounds; r++)); do
  for busy in 0 1; do
    for t in "${threads[@]}"; do
      if ((busy)); then
        timeout 600 sh -c 'while :; do :; done' &
        spinner=$!
        sleep 1
      fi
      warm=1
      [ "$t" = auto ] && warm=14  # the tuner tries the other count during the warm-up
      line=$(OMP_NUM_THREADS=$(nproc) "$timer" --threads "$t" --mode train --batch "$batch" --iters "$iters" \
        --warmup "$warm")
      stop_spinner
      ips=$(sed -n 's/.* images_per_s=\([0-9.]*\).*/\1/p' <<<"$line")
      echo "round $r busy_cores=$busy threads=$t images_per_s=$ips"
      echo "$busy $t $ips" >>"$results"
    done
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "medians (images/s, train step, batch $batch):"
for busy in 0 1; do
  for t in "${threads[@]}"; do
    med=$(awk -v b="$busy" -v t="$t" '$1 == b && $2 == t { print $3 }' "$results" | sort -g |
      awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
    echo "  busy_cores=$busy threads=$t median_images_per_s=$med"
  done
done
med_of() {
  awk -v b="$1" -v t="$2" '$1 == b && $2 == t { print $3 }' "$results" | sort -g |
    awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
if [ "${#threads[@]}" -eq 3 ]; then
  echo "busy_core_ratio=$(awk -v a="$(med_of 1 auto)" -v b="$(med_of 0 "$(nproc)")" 'BEGIN { printf "%.3f", a / b }')"
fi
rm -f "$results"
