#!/usr/bin/env bash
# Learning check on the real CIFAR-10: one short training run of the example (preset bn, 5000
# train / 2000 test images, 1 epoch) must reach test accuracy >= MIN_ACC (default 35 %).
#   tests/learning_check.sh [path/to/alexnet_cifar10]      (default build/examples/alexnet_cifar10)
# Environment: CTNN_DATA (default <repo>/../shared/data/cifar10), MIN_ACC, THREADS (default 2).
# Exit 0 pass, 1 fail, 77 skipped (no data), 2 usage (binary missing).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$ROOT/build/examples/alexnet_cifar10}
DATA=${CTNN_DATA:-$ROOT/../shared/data/cifar10}
MIN_ACC=${MIN_ACC:-35}
[ -x "$BIN" ] || { echo "learning_check: no executable at $BIN (build the example first)"; exit 2; }
if [ ! -e "$DATA/data_batch_1.bin" ] && [ ! -e "$DATA/data_batch_1.bin.gz" ]; then
  echo "learning_check: SKIP: no CIFAR-10 in $DATA (set CTNN_DATA)"; exit 77
fi
OUT=$(mktemp -d "${TMPDIR:-/tmp}/ctnn_learning.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
"$BIN" --data "$DATA" --preset bn --limit-train 5000 --limit-test 2000 --epochs-scale 0.02 --seed 1 \
  --threads "${THREADS:-2}" --out "$OUT/run" >"$OUT/log" 2>&1
rc=$?
tail -n 3 "$OUT/log"
[ $rc -eq 0 ] || { echo "learning_check: FAIL: the example exited with $rc"; cat "$OUT/log"; exit 1; }
last=$(tail -n 1 "$OUT/log")
acc=$(printf '%s\n' "$last" | sed -n 's/^final test_acc=\([0-9.]*\) .*/\1/p')
[ -n "$acc" ] || { echo "learning_check: FAIL: last line is not 'final test_acc=...': $last"; exit 1; }
if awk -v a="$acc" -v m="$MIN_ACC" 'BEGIN { exit !(a >= m) }'; then
  echo "learning_check: PASS: test_acc=$acc% >= $MIN_ACC%"
else
  echo "learning_check: FAIL: test_acc=$acc% < $MIN_ACC% (preset bn, 5000 images, 1 epoch)"
  exit 1
fi
