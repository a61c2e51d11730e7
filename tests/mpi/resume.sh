#!/usr/bin/env bash
# Checkpoint written by 2 ranks, resumed by 1 and by 3: each must equal an uninterrupted run.
set -euo pipefail
mpirun=$1 prog=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$mpirun" --oversubscribe --timeout 60 -np 2 "$prog" --resume-part first "$dir/run"
test -f "$dir/run/checkpoint.safetensors"
for n in 1 3; do
  rm -rf "$dir/run$n" && cp -r "$dir/run" "$dir/run$n"
  "$mpirun" --oversubscribe --timeout 60 -np "$n" "$prog" --resume-part second "$dir/run$n"
done
