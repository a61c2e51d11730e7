#!/usr/bin/env bash
# Kill-and-resume check of the example's training (builds nothing):
#   1. an uninterrupted run: preset bn, a small slice, 3 epochs, 1 thread, seed 7;
#   2. the same run SIGKILLed in the middle of epoch 2, then continued with --resume: the final
#      checkpoint must equal the uninterrupted one within 1e-6 and metrics.csv must hold epochs
#      1..3 once each, with the same losses and accuracies;
#   3. a "kill storm": the run is SIGKILLed again and again (at a random moment, while the
#      checkpoint is being written, and right after it was written) and resumed each time; after
#      every kill checkpoint.safetensors must load, and the final checkpoint must again equal the
#      uninterrupted one.
# Usage: tests/kill_resume.sh [EXAMPLE_BIN] [COMPARE_BIN]
#   EXAMPLE_BIN  default build/examples/alexnet_cifar10
#   COMPARE_BIN  default build/tests/compare_checkpoints (tests/tools/compare_checkpoints.cpp);
#                if it is missing, a python3+numpy reader of the safetensors format is used.
# Environment: CTNN_DATA (default <repo>/../shared/data/cifar10), LIMIT_TRAIN (1000),
#   LIMIT_TEST (200), KEEP=1 keeps the work folder. Exit 0 pass, 1 fail, 2 usage, 77 no data.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$ROOT/build/examples/alexnet_cifar10}
CMP=${2:-$ROOT/build/tests/compare_checkpoints}
DATA=${CTNN_DATA:-$ROOT/../shared/data/cifar10}
[ -x "$BIN" ] || { echo "kill_resume: no executable at $BIN"; exit 2; }
if [ ! -e "$DATA/data_batch_1.bin" ] && [ ! -e "$DATA/data_batch_1.bin.gz" ]; then
  echo "kill_resume: SKIP: no CIFAR-10 in $DATA (set CTNN_DATA)"; exit 77
fi
ARGS=(--data "$DATA" --preset bn --limit-train "${LIMIT_TRAIN:-1000}" --limit-test "${LIMIT_TEST:-200}"
      --epochs-scale 0.06 --threads 1 --seed 7)
EPOCHS=3
W=$(mktemp -d "${TMPDIR:-/tmp}/ctnn_kill_resume.XXXXXX")
[ "${KEEP:-0}" = 1 ] && echo "work folder: $W" || trap 'kill -9 $PID 2>/dev/null; rm -rf "$W"' EXIT
PID=
FAILS=0
fail() { echo "kill_resume: FAIL: $*"; FAILS=$((FAILS + 1)); }

# --- checkpoint reading: the C++ tool, or python3 + numpy ------------------------------------
if [ ! -x "$CMP" ]; then
  command -v python3 >/dev/null || { echo "kill_resume: neither $CMP nor python3"; exit 2; }
  CMP="python3 $W/compare.py"
  cat >"$W/compare.py" <<'PY'
import json, struct, sys
import numpy as np
def load(p):
    b = open(p, 'rb').read()
    if len(b) < 8: raise SystemExit(f"{p}: truncated ({len(b)} bytes)")
    n = struct.unpack('<Q', b[:8])[0]
    if n > len(b) - 8: raise SystemExit(f"{p}: header length {n} beyond the file")
    h = json.loads(b[8:8 + n]); meta = h.pop('__metadata__', {}); data = b[8 + n:]
    end = max([v['data_offsets'][1] for v in h.values()] + [0])
    if end != len(data): raise SystemExit(f"{p}: truncated or trailing bytes: header says {end}, file holds {len(data)}")
    dt = {'F32': '<f4', 'I64': '<i8'}
    return meta, {k: np.frombuffer(data[v['data_offsets'][0]:v['data_offsets'][1]], dt[v['dtype']]).reshape(v['shape'])
                  for k, v in h.items()}
ma, ta = load(sys.argv[1])
if len(sys.argv) == 2:
    print(f"{sys.argv[1]}: ok: {len(ta)} tensors, epochs_done={ma.get('ctnn.epochs_done')} step={ma.get('ctnn.step')}"); sys.exit(0)
mb, tb = load(sys.argv[2]); tol = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-6
bad = [k for k in ('ctnn.architecture', 'ctnn.epochs_done', 'ctnn.step', 'optimizer.kind') if ma.get(k) != mb.get(k)]
if set(ta) != set(tb): bad.append('tensor names')
worst = max((float(np.max(np.abs(ta[k].astype(np.float64) - tb[k].astype(np.float64)), initial=0)) for k in ta if k in tb), default=0)
print(f"max |a-b| = {worst:.3g} over {len(ta)} tensors (tol {tol:.3g})")
if bad: print("differs:", ", ".join(bad), file=sys.stderr)
sys.exit(1 if bad or not worst <= tol else 0)
PY
fi
epochs_done() {  # epochs in <dir>/checkpoint.safetensors, 0 if none, "broken" if it does not load
  local f=$1/checkpoint.safetensors out
  [ -e "$f" ] || { echo 0; return; }
  out=$($CMP "$f" 2>&1) || { echo "broken: $out"; return; }
  sed -n 's/.*epochs_done=\([0-9]*\).*/\1/p' <<<"$out"
}
ckpt_is() { [ "$(epochs_done "$1")" = "$2" ]; }
ckpt_is_not() { [ "$(epochs_done "$1")" != "$2" ]; }
csv_rows() { [ -e "$1/metrics.csv" ] && echo $(($(wc -l <"$1/metrics.csv") - 1)) || echo 0; }
start() {  # start <out> <log> [--resume]: runs the example in the background, PID set
  "$BIN" "${ARGS[@]}" --out "$1" "${@:3}" >>"$2" 2>&1 &
  PID=$!
}
wait_until() {  # wait_until <seconds> <command...>: polls every 10 ms while the run is alive
  local deadline=$((SECONDS + $1)); shift
  while ! "$@"; do
    kill -0 "$PID" 2>/dev/null || return 1
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.01
  done
}
check_no_trace() {
  if grep -qE 'terminate called|Aborted|Segmentation|AddressSanitizer|runtime error' "$1"; then fail "crash output in $1"; fi
}
# The rows of metrics.csv without the timing columns (seconds, images_per_s).
csv_core() { cut -d, -f1-8 "$1/metrics.csv"; }

# --- 1. uninterrupted ---------------------------------------------------------------------------
echo "1. uninterrupted run (${ARGS[*]})"
t0=$SECONDS
"$BIN" "${ARGS[@]}" --out "$W/straight" >"$W/straight.log" 2>&1 || { cat "$W/straight.log"; fail "uninterrupted run exited $?"; exit 1; }
[ "$(csv_rows "$W/straight")" = $EPOCHS ] || { fail "uninterrupted run: metrics.csv has $(csv_rows "$W/straight") rows"; exit 1; }
EPOCH_S=$(awk -F, 'NR == 2 { printf "%d", $9 + 0.5 }' "$W/straight/metrics.csv")
[ "$EPOCH_S" -ge 1 ] || EPOCH_S=1
echo "   $(tail -n 1 "$W/straight.log")  ($((SECONDS - t0)) s, ${EPOCH_S} s per epoch)"

# --- 2. one kill in the middle of epoch 2, then --resume ---------------------------------------
echo "2. SIGKILL in the middle of epoch 2, then --resume"
start "$W/killed" "$W/killed.log"
wait_until 1800 ckpt_is "$W/killed" 1 || { fail "epoch 1 never checkpointed"; exit 1; }
sleep $(awk -v s="$EPOCH_S" 'BEGIN { print s / 2 }')
if kill -0 "$PID" 2>/dev/null; then
  kill -9 "$PID"; wait "$PID" 2>/dev/null
  echo "   killed after $(csv_rows "$W/killed") epoch(s) in metrics.csv; checkpoint: epochs_done=$(epochs_done "$W/killed")"
else
  fail "the run ended before the kill (epochs too short to kill mid-epoch)"
fi
[ "$(epochs_done "$W/killed")" = 1 ] || fail "checkpoint after the kill: $(epochs_done "$W/killed"), expected epochs_done=1"
"$BIN" "${ARGS[@]}" --out "$W/killed" --resume >"$W/resumed.log" 2>&1 || fail "resumed run exited $?"
grep -q "resumed from .* after epoch 1" "$W/resumed.log" || fail "resumed run did not say 'resumed from ... after epoch 1'"
check_no_trace "$W/killed.log"; check_no_trace "$W/resumed.log"
echo "   $($CMP "$W/straight/checkpoint.safetensors" "$W/killed/checkpoint.safetensors" 1e-6 2>&1 | tr '\n' ' ')"
$CMP "$W/straight/checkpoint.safetensors" "$W/killed/checkpoint.safetensors" 1e-6 >/dev/null 2>&1 ||
  fail "final checkpoint after kill + resume differs from the uninterrupted one"
cmp -s <(csv_core "$W/straight") <(csv_core "$W/killed") ||
  fail "metrics.csv after kill + resume differs: $(diff <(csv_core "$W/straight") <(csv_core "$W/killed") | tr '\n' ' ')"

# --- 3. kill storm ------------------------------------------------------------------------------
# Per epoch boundary e (checkpoint holds e epochs): a kill at a random moment, a kill as soon as
# the temporary checkpoint file appears after epoch e+1's row reached metrics.csv (that is, while
# the checkpoint is being written), then a kill right after the new checkpoint is in place. After each kill the checkpoint must load and hold e or e+1 epochs.
echo "3. kill storm"
S=$W/storm
declare -A done_random done_write
kills=0 during_write=0 attempt=0
while :; do
  attempt=$((attempt + 1))
  [ $attempt -le 40 ] || { fail "kill storm: no end after 40 attempts"; break; }
  e=$(epochs_done "$S")
  case $e in broken*) fail "kill storm: checkpoint does not load: $e"; break ;; esac
  [ "$e" -lt $EPOCHS ] || break
  start "$S" "$W/storm.log" --resume
  if [ -z "${done_random[$e]:-}" ]; then
    done_random[$e]=1 mode=random
    # A random moment within the epoch (epochs may run faster than the first one did): wait
    # 0.5 s .. one epoch time in steps of 0.1 s, but no longer than until the epoch's row appears.
    steps=$(awk -v r=$RANDOM -v s="$EPOCH_S" 'BEGIN { srand(r); printf "%d", 5 + rand() * s * 10 }')
    while [ $steps -gt 0 ] && [ "$(csv_rows "$S")" -le "$e" ] && kill -0 "$PID" 2>/dev/null; do
      sleep 0.1; steps=$((steps - 1))
    done
  elif [ -z "${done_write[$e]:-}" ]; then
    done_write[$e]=1 mode=write
    # The row is appended just before the checkpoint is serialized and written to
    # checkpoint.safetensors.tmp.<pid>; then spin (no fork, no sleep) until that file appears.
    row_written() { [ "$(csv_rows "$S")" -gt "$e" ]; }
    wait_until 1800 row_written
    spin_until=$((SECONDS + 3))
    while [ ! -e "$S/checkpoint.safetensors.tmp.$PID" ] && [ $SECONDS -lt $spin_until ]; do :; done
  else
    mode=after-write
    wait_until 1800 ckpt_is_not "$S" "$e"
  fi
  if kill -9 "$PID" 2>/dev/null; then
    kills=$((kills + 1))
    wait "$PID" 2>/dev/null
    tmp=$(compgen -G "$S/checkpoint.safetensors.tmp.$PID" || true)
    [ -n "$tmp" ] && during_write=$((during_write + 1))
    now=$(epochs_done "$S")
    echo "   kill $kills ($mode, from epoch $e): checkpoint epochs_done=$now${tmp:+, torn temporary file left: $(basename "$tmp") ($(stat -c %s "$tmp") bytes)}"
    case $now in
      broken*) fail "checkpoint broken after kill $kills: $now"; break ;;
      "$e" | $((e + 1))) ;;
      *) fail "checkpoint after kill $kills holds $now epochs, expected $e or $((e + 1))" ;;
    esac
  else
    wait "$PID"; rc=$?
    [ $rc -eq 0 ] || { fail "storm run exited $rc"; tail -n 5 "$W/storm.log"; break; }
  fi
done
check_no_trace "$W/storm.log"
echo "   $kills kills, $during_write of them left a torn temporary checkpoint (the kill hit the write)"
"$BIN" "${ARGS[@]}" --out "$S" --resume >"$W/storm_final.log" 2>&1 || fail "final resume of the storm run exited $?"
echo "   $($CMP "$W/straight/checkpoint.safetensors" "$S/checkpoint.safetensors" 1e-6 2>&1 | tr '\n' ' ')"
$CMP "$W/straight/checkpoint.safetensors" "$S/checkpoint.safetensors" 1e-6 >/dev/null 2>&1 ||
  fail "final checkpoint after the kill storm differs from the uninterrupted one"
cmp -s <(csv_core "$W/straight") <(csv_core "$S") ||
  fail "metrics.csv after the kill storm differs: $(diff <(csv_core "$W/straight") <(csv_core "$S") | tr '\n' ' ')"
left=$(compgen -G "$S/checkpoint.safetensors.tmp.*" | wc -l)
[ "$left" -eq 0 ] || echo "   note: $left stale checkpoint.safetensors.tmp.<pid> file(s) remain in the output folder (never cleaned up)"

if [ $FAILS -eq 0 ]; then echo "kill_resume: PASS"; else echo "kill_resume: $FAILS failure(s)"; exit 1; fi
