#!/usr/bin/env bash
# Builds the libFuzzer targets with clang++-14 (-fsanitize=fuzzer,address,undefined) and runs
# each for SECONDS on a copy of its seed corpus (new inputs never land in the repo). Fails if any
# target crashes, hits a sanitizer report or a trap; the reproducer is kept and its path printed.
#   tests/fuzz/run.sh 60                 # 60 s per target
#   CXX=clang++-15 BUILD=/tmp/fz tests/fuzz/run.sh 600
#   TARGETS=cifar10 tests/fuzz/run.sh 600   # one target only
# Prints one line per target: executions, new corpus size, result.
set -u
SECONDS_PER_TARGET=${1:-60}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CXX=${CXX:-clang++-14}
BUILD=${BUILD:-$ROOT/build-fuzz}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ctnn_fuzz.XXXXXX")
FLAGS="-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
command -v "$CXX" >/dev/null || { echo "run.sh: $CXX not found (set CXX)"; exit 2; }
mkdir -p "$BUILD"
status=0
for target in ${TARGETS:-safetensors cifar10}; do
  bin=$BUILD/fuzz_$target
  src=$ROOT/tests/fuzz/fuzz_$target.cpp
  if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ] || [ -n "$(find "$ROOT/include" -newer "$bin" -name '*.hpp' | head -1)" ]; then
    echo "building $bin"
    $CXX $FLAGS -I"$ROOT/include" "$src" -o "$bin" -lz || { echo "run.sh: build of fuzz_$target failed"; exit 2; }
  fi
  corpus=$WORK/corpus_$target
  artifacts=$WORK/artifacts_$target
  mkdir -p "$corpus" "$artifacts"
  cp "$ROOT/tests/fuzz/corpus/$target/"* "$corpus/"
  maxlen=8192  # CIFAR-10 plain input needs >= 3073 bytes per record; room for 2 records
  log=$WORK/fuzz_$target.log
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ASAN_OPTIONS=detect_leaks=1 \
    "$bin" -max_total_time="$SECONDS_PER_TARGET" -max_len=$maxlen -timeout=20 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  [ -z "$execs" ] && execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
  ncorpus=$(ls "$corpus" | wc -l)
  crashes=$(ls "$artifacts" | wc -l)
  if [ $rc -ne 0 ] || [ "$crashes" -ne 0 ]; then
    echo "fuzz_$target: FAILED (exit $rc) after ${execs:-?} executions; reproducer(s): $(ls -d "$artifacts"/* 2>/dev/null | tr '\n' ' ')"
    grep -m5 -E 'ERROR|runtime error|deadly signal|SUMMARY' "$log"
    echo "full log: $log"
    status=1
  else
    echo "fuzz_$target: ok: ${execs:-?} executions in ${SECONDS_PER_TARGET} s, corpus $ncorpus inputs, 0 crashes"
  fi
done
[ $status -eq 0 ] && rm -rf "$WORK"
exit $status
