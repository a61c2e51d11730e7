#!/usr/bin/env bash
# An exception on one rank must end every rank (MPI_Abort) with its message, not hang the others
# in an all-reduce (the test's TIMEOUT catches a hang).
set -uo pipefail
mpirun=$1 prog=$2
out=$("$mpirun" --oversubscribe --timeout 60 -np 3 "$prog" --throw-on-rank 1 2>&1)
rc=$?
echo "$out" | tail -5
[ "$rc" -ne 0 ] || { echo "expected a non-zero exit code"; exit 1; }
grep -q "error (rank 1 of 3): deliberate failure on rank 1" <<<"$out" || { echo "message missing"; exit 1; }
echo "aborted with exit code $rc and the message"
