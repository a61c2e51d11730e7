#!/usr/bin/env bash
# Builds ctnn_bench if needed (build-bench/, Release) and runs every benchmark once, writing
# benchmarks/results.json (Google Benchmark JSON) and the console table to stdout.
#
#   benchmarks/run.sh                                  # everything
#   benchmarks/run.sh --benchmark_filter='net/'        # extra arguments go to ctnn_bench
#   MIN_TIME=2 OMP_NUM_THREADS=2 benchmarks/run.sh     # longer runs, explicit thread count
#
# Environment: OMP_NUM_THREADS (default: nproc), MIN_TIME (seconds per benchmark, default 0.5;
# an iteration longer than that runs once), BUILD_DIR (default: build-bench), OUT (JSON path).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
build=${BUILD_DIR:-$root/build-bench}
out=${OUT:-$here/results.json}

if [[ ! -f $build/CMakeCache.txt ]]; then
  gen=()
  command -v ninja >/dev/null && gen=(-G Ninja)
  cmake -S "$root" -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCTNN_BUILD_TESTS=OFF -DCTNN_BUILD_EXAMPLES=OFF -DCTNN_BUILD_BENCHMARKS=ON
fi
cmake --build "$build" --target ctnn_bench -j"$(nproc)"

export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)}
echo "OMP_NUM_THREADS=$OMP_NUM_THREADS  load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$build/benchmarks/ctnn_bench" --benchmark_out="$out" --benchmark_out_format=json \
  --benchmark_min_time="${MIN_TIME:-0.5}" "$@"
echo "wrote $out" >&2
