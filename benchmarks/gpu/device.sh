#!/usr/bin/env bash
# Runs on the lent GPU machine (after benchmarks/gpu/stage.sh here), as the device tool's one
# command, with .gpubin (and .gpud1, .gpud2 when training) carried:
#   bash benchmarks/gpu/device.sh [STEP...]     (steps of benchmarks/gpu_check.sh; default all)
# Finds cuDNN/cuBLAS there (toolkit or the Python wheels), unpacks the CIFAR-10 packs present
# (a missing training batch is an empty file and training is limited to the batches present),
# runs gpu_check.sh with BIN_DIR=.gpubin, and leaves one archive in $OUT (the tool returns at
# most 8 files).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${OUT:-$root/gpu-out}
work=/tmp/ctnn-gpu
mkdir -p "$work/res"
libdirs=$root/.gpubin/lib
for lib in libcudnn.so.9 libcublas.so.13 libcudart.so.13; do
  d=$(find /usr/local/cuda/ /usr/local/cuda/lib64/ /usr/lib/x86_64-linux-gnu/ /opt /usr/local/lib -name "$lib" 2>/dev/null | head -1)
  [[ -n $d ]] && libdirs+=:$(dirname "$d") || echo "device.sh: $lib not found"
done
export LD_LIBRARY_PATH=$libdirs:${LD_LIBRARY_PATH:-}
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
ldd "$root/.gpubin/alexnet_cifar10" | grep -E "not found|cudnn|cublas" 
data=$work/cifar10
mkdir -p "$data"
for pack in "$root/.gpud1" "$root/.gpud2"; do
  [[ -d $pack ]] && python3 "$root/benchmarks/gpu/cifar_webp.py" unpack "$pack" "$data" >/dev/null
done
if [[ ! -s $data/test_batch.bin && " $* " == *" train "* ]]; then
  echo "device.sh: no test_batch here (carry .gpud1, or run it in the same warm machine first)"
  exit 3
fi
have=0
for i in 1 2 3 4 5; do
  if [[ -s $data/data_batch_$i.bin ]]; then have=$((have + 1)); else : >"$data/data_batch_$i.bin"; fi
done
((have < 5)) && export LIMIT_TRAIN=$((have * 10000))
echo "training batches present: $have"
BIN_DIR=$root/.gpubin bash "$root/benchmarks/gpu_check.sh" "$data" "$work/res" "$@"
rc=$?
cp "$work/res/summary.txt" "$out/" 2>/dev/null
tar -C "$work" -czf "$out/results.tar.gz" --exclude='*.safetensors' res
exit $rc
