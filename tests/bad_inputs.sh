#!/usr/bin/env bash
# Runs the example with each kind of bad input and checks that it fails cleanly: exit code 2, no
# "terminate called" / abort / sanitizer report / stack trace, and a message naming the problem.
# Uses small synthetic CIFAR-10 files (2 records each), so it takes seconds.
#   tests/bad_inputs.sh [EXAMPLE_BIN]        (default build/examples/alexnet_cifar10)
# Prints a markdown table | input | exit code | message |; MD=path also writes it there.
# Exit 0 if every case behaved, 1 otherwise, 2 usage.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$ROOT/build/examples/alexnet_cifar10}
[ -x "$BIN" ] || { echo "bad_inputs: no executable at $BIN"; exit 2; }
W=$(mktemp -d "${TMPDIR:-/tmp}/ctnn_bad_inputs.XXXXXX")
trap 'rm -rf "$W"' EXIT
FAILS=0
TABLE="| input | exit code | message |
|---|---|---|"

# A record: label byte $1, then 3072 random pixel bytes.
record() { printf "\\x$(printf %02x "$1")"; head -c 3072 /dev/urandom; }
# good_data DIR: the six files, 2 valid records each.
good_data() {
  mkdir -p "$1"
  for f in data_batch_1 data_batch_2 data_batch_3 data_batch_4 data_batch_5 test_batch; do
    { record 3; record 7; } >"$1/$f.bin"
  done
}
good_data "$W/good"

# case NAME SUBSTRING ARGS...: runs the example (fresh --out unless ARGS set one) and checks it.
case_() {
  local name=$1 want=$2; shift 2
  local out=$W/out_$RANDOM log=$W/log_$RANDOM rc
  local args=("$@")
  [[ " ${args[*]} " == *" --out "* ]] || args+=(--out "$out")
  timeout 300 "$BIN" "${args[@]}" >"$log" 2>"$log.err"
  rc=$?
  cat "$log.err" >>"$log"
  # What the user sees on stderr: its first line ("..." marks more lines), temp paths as <tmp>,
  # cut at 200 characters.
  local msg
  msg=$(head -n 1 "$log.err")
  [ "$(wc -l <"$log.err")" -gt 1 ] && msg+=" ..."
  msg=${msg//$W/<tmp>}
  msg=${msg//\`/\'}  # the message goes into a markdown code span
  [ ${#msg} -gt 200 ] && msg="${msg:0:200}..."
  msg=${msg//|/\\|}
  local problems=()
  [ $rc -eq 2 ] || problems+=("exit code $rc, expected 2")
  if grep -qE 'terminate called|Aborted|core dumped|Segmentation fault|AddressSanitizer|runtime error:|^#[0-9]+ ' "$log"; then
    problems+=("crash output")
  fi
  grep -qF -- "$want" "$log" || problems+=("no '$want' in the output")
  if [ ${#problems[@]} -eq 0 ]; then
    echo "ok    $name"
  else
    echo "FAIL  $name: ${problems[*]}"; sed 's/^/      /' "$log" | head -n 20
    FAILS=$((FAILS + 1))
  fi
  TABLE+="
| $name | $rc | \`$msg\` |"
}

# --- data ---
case_ "data folder missing" "folder does not exist" --data "$W/no_such_folder" --epochs-scale 0.02
mkdir -p "$W/empty"
case_ "data folder without CIFAR-10 files" "none of data_batch_1..5.bin" --data "$W/empty" --epochs-scale 0.02
cp -r "$W/good" "$W/missing" && rm "$W/missing/data_batch_3.bin"
case_ "one batch file missing (data_batch_3)" "missing data_batch_3.bin" --data "$W/missing" --epochs-scale 0.02
cp -r "$W/good" "$W/size" && { record 1; head -c 100 /dev/urandom; } >"$W/size/data_batch_2.bin"
case_ "file of the wrong size (3173 bytes)" "expected a multiple of 3073" --data "$W/size" --epochs-scale 0.02
cp -r "$W/good" "$W/zero" && : >"$W/zero/test_batch.bin"
case_ "empty file (0 bytes)" "size is 0 bytes" --data "$W/zero" --epochs-scale 0.02
cp -r "$W/good" "$W/label" && { record 4; record 12; } >"$W/label/data_batch_1.bin"
case_ "label byte >= 10 (12 in record 1)" "label byte 12, expected 0..9" --data "$W/label" --epochs-scale 0.02
cp -r "$W/good" "$W/gz" && rm "$W/gz/data_batch_1.bin" && gzip -c "$W/good/data_batch_1.bin" >"$W/gz.ok"
# Keep the gzip header, scramble the deflate data.
{ head -c 10 "$W/gz.ok"; head -c 4000 /dev/urandom; } >"$W/gz/data_batch_1.bin.gz"
case_ "gzip stream corrupt" "corrupt gzip stream" --data "$W/gz" --epochs-scale 0.02
cp -r "$W/good" "$W/gzcut" && rm "$W/gzcut/data_batch_1.bin" && head -c 1000 "$W/gz.ok" >"$W/gzcut/data_batch_1.bin.gz"
case_ "gzip file truncated" "corrupt gzip stream" --data "$W/gzcut" --epochs-scale 0.02

# --- checkpoints ---
if "$BIN" --data "$W/good" --preset pure --epochs-scale 0.02 --out "$W/pure" >"$W/pure.log" 2>&1; then
  case_ "checkpoint of another net (--preset pure checkpoint, --preset best --resume)" "another network" \
    --data "$W/good" --preset best --epochs-scale 0.02 --resume --out "$W/pure"
  mkdir -p "$W/cut"
  head -c $(($(stat -c %s "$W/pure/checkpoint.safetensors") / 2)) "$W/pure/checkpoint.safetensors" >"$W/cut/checkpoint.safetensors"
  case_ "checkpoint truncated (half the file)" "truncated" \
    --data "$W/good" --preset pure --epochs-scale 0.02 --resume --out "$W/cut"
  mkdir -p "$W/junk" && head -c 4096 /dev/urandom >"$W/junk/checkpoint.safetensors"
  case_ "checkpoint is random bytes" "checkpoint.safetensors" \
    --data "$W/good" --preset pure --epochs-scale 0.02 --resume --out "$W/junk"
  case_ "resume with another recipe override (checkpoint without, --resume --label-smoothing 0.1)" "overrides" \
    --data "$W/good" --preset pure --epochs-scale 0.02 --resume --label-smoothing 0.1 --out "$W/pure"
else
  echo "FAIL  could not write the --preset pure checkpoint the checkpoint cases need:"; tail -n 5 "$W/pure.log"
  FAILS=$((FAILS + 1))
fi

# --- options ---
case_ "--preset unknown" "--preset" --data "$W/good" --preset unknown
case_ "--epochs-scale 0" "--epochs-scale" --data "$W/good" --epochs-scale 0
case_ "--epochs-scale -1" "--epochs-scale" --data "$W/good" --epochs-scale -1
case_ "--label-smoothing 1.5" "--label-smoothing" --data "$W/good" --label-smoothing 1.5
case_ "--crop-padding -1" "--crop-padding" --data "$W/good" --crop-padding -1
case_ "--batch-size 0" "--batch-size" --data "$W/good" --batch-size 0
case_ "--batch-size on a staged preset (--preset best --batch-size 64)" "--batch-size" \
  --data "$W/good" --preset best --epochs-scale 0.02 --batch-size 64
case_ "--threads 0" "--threads" --data "$W/good" --epochs-scale 0.02 --threads 0
case_ "--out not writable (under a regular file)" "not writable" --data "$W/good" --epochs-scale 0.02 --out /etc/hostname/sub

echo
echo "$TABLE"
[ -n "${MD:-}" ] && echo "$TABLE" >"$MD"
if [ $FAILS -eq 0 ]; then echo; echo "bad_inputs: PASS"; else echo; echo "bad_inputs: $FAILS failure(s)"; exit 1; fi
