#!/usr/bin/env bash
# examples/classify against PyTorch (CTest classify_cli): deploy_fixture writes an AlexNet
# checkpoint (random weights, BatchNorm statistics from real images) and CIFAR-10 test images
# (seeded random images without the data); classify_check.py writes them as PNG, runs classify and
# compares its top-5 with PyTorch's forward of the same weights, then checks the bad-input errors.
#   tests/deploy/classify_check.sh FIXTURE CLASSIFY OUT_DIR [CIFAR10_DIR]
# Exit 0 pass, 1 fail, 77 skipped (Debian's python3 without torch, numpy or cv2).
set -u
FIXTURE=$1 CLASSIFY=$2 OUT=$3 DATA=${4:-}
PY=/usr/bin/python3
if ! "$PY" -c "import torch, numpy, cv2" 2>/dev/null; then
  echo "classify_check: SKIP: $PY cannot import torch, numpy and cv2"; exit 77
fi
rm -rf "$OUT" && mkdir -p "$OUT"
"$FIXTURE" "$OUT" "$DATA" || { echo "classify_check: FAIL: deploy_fixture exited with $?"; exit 1; }
exec "$PY" "$(dirname "$0")/classify_check.py" "$OUT" "$CLASSIFY"
