#!/usr/bin/env bash
# ONNX export check (CTest onnx_export, label onnx): deploy_fixture exports AlexNet and two nets
# with every other layer type (random weights, BatchNorm statistics from real images) and their
# logits on 16 CIFAR-10 test images (seeded random images without the data); check_onnx.py runs
# onnx.checker, OpenCV's DNN module (python3-opencv) and onnxruntime on the files and compares.
#   tests/deploy/onnx_check.sh FIXTURE OUT_DIR [CIFAR10_DIR]
# onnxruntime comes from PyPI into a virtual environment (with Debian's numpy, onnx and cv2
# visible), cached at $CTNN_ONNX_VENV (default OUT_DIR/../onnx-venv); its version is pinned by
# $CTNN_ONNXRUNTIME (default onnxruntime==1.32.0). Exit 0 pass, 1 fail, 77 skipped (python3-onnx,
# python3-opencv, python3-venv or the download missing: the checks that could run still print).
set -u
FIXTURE=$1 OUT=$2 DATA=${3:-}
PY=/usr/bin/python3  # Debian's: python3-onnx and python3-opencv live there, whatever `python3` is
HERE=$(cd "$(dirname "$0")" && pwd)
VENV=${CTNN_ONNX_VENV:-$OUT/../onnx-venv}
SPEC=${CTNN_ONNXRUNTIME:-onnxruntime==1.32.0}
"$PY" -c "import numpy" 2>/dev/null || { echo "onnx_check: SKIP: $PY cannot import numpy"; exit 77; }
rm -rf "$OUT" && mkdir -p "$OUT"
"$FIXTURE" "$OUT" "$DATA" || { echo "onnx_check: FAIL: deploy_fixture exited with $?"; exit 1; }

python=$PY
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import onnxruntime" 2>/dev/null; then
  python=$VENV/bin/python
else
  rm -rf "$VENV"
  if "$PY" -m venv --system-site-packages "$VENV" >"$OUT/venv.log" 2>&1 &&
     "$VENV/bin/pip" install --disable-pip-version-check -q "$SPEC" >>"$OUT/venv.log" 2>&1; then
    python=$VENV/bin/python
  else
    echo "onnx_check: could not set up onnxruntime ($SPEC) in $VENV (no python3-venv or no network?):"
    tail -n 3 "$OUT/venv.log"
    rm -rf "$VENV"
  fi
fi
exec "$python" "$HERE/check_onnx.py" "$OUT"
