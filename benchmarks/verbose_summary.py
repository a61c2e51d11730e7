#!/usr/bin/env python3
"""Summarises an ONEDNN_VERBOSE=1 log of ctnn_step_timer --mark: time per primitive per step.

    ONEDNN_VERBOSE=1 build-bench/benchmarks/ctnn_step_timer --mode train --batch 128 \\
        --iters 2 --warmup 1 --mark > verbose.log
    python3 benchmarks/verbose_summary.py verbose.log [--iters 2] [--top 30]

Only the exec lines between "ctnn_step_timer: timed iterations begin/end" are counted (the
whole log when the markers are missing); --iters divides the totals into per-step figures
(default: read from the ctnn_step_timer line). Prints the primitives grouped by kind and
direction, then every distinct (primitive, implementation, direction, problem) sorted by
time, then the reorders per step.
"""
import argparse
import collections
import re
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("--iters", type=int, default=0)
    ap.add_argument("--top", type=int, default=40)
    a = ap.parse_args()

    lines = open(a.log, errors="replace").read().splitlines()
    iters = a.iters
    if not iters:
        for ln in lines:
            m = re.search(r"ctnn mode=\S+ batch=\d+ precision=\S+ iters=(\d+)", ln)
            if m:
                iters = int(m.group(1))
    iters = iters or 1
    if any("timed iterations begin" in ln for ln in lines):
        b = next(i for i, ln in enumerate(lines) if "timed iterations begin" in ln)
        e = next((i for i, ln in enumerate(lines) if "timed iterations end" in ln), len(lines))
        lines = lines[b:e]
    rows = []
    for ln in lines:
        if not ln.startswith("onednn_verbose,exec,cpu,"):
            continue
        f = ln.split(",")
        rows.append(dict(prim=f[3], impl=f[4], prop=f[5], mds=f[6], shape=f[-2], ms=float(f[-1])))
    if not rows:
        sys.exit("no onednn_verbose exec lines found")
    total = sum(r["ms"] for r in rows) / iters
    print(f"{len(rows) // iters} primitive executions per step, {total:.1f} ms per step inside oneDNN "
          f"({iters} timed step(s))")

    by_kind = collections.defaultdict(lambda: [0.0, 0])
    for r in rows:
        k = by_kind[(r["prim"], r["prop"])]
        k[0] += r["ms"] / iters
        k[1] += 1
    print("\nby primitive and direction (ms per step, share, executions per step):")
    for (p, d), (ms, n) in sorted(by_kind.items(), key=lambda kv: -kv[1][0]):
        print(f"  {p:20s} {d:17s} {ms:9.1f} ms {100 * ms / total:5.1f} %  x{n // iters}")

    by_op = collections.defaultdict(lambda: [0.0, 0])
    for r in rows:
        k = by_op[(r["prim"], r["impl"], r["prop"], r["shape"])]
        k[0] += r["ms"] / iters
        k[1] += 1
    print(f"\ntop {a.top} (primitive, implementation, direction, problem), ms per step:")
    for (p, impl, d, shape), (ms, n) in sorted(by_op.items(), key=lambda kv: -kv[1][0])[: a.top]:
        print(f"  {ms:9.1f} ms  {p:20s} {impl:18s} {d:17s} {shape}" + (f"  x{n // iters}" if n > iters else ""))

    impls = collections.Counter((r["prim"], r["impl"]) for r in rows)
    print("\nimplementations:", ", ".join(f"{p}={i} (x{n // iters})" for (p, i), n in sorted(impls.items())))

    re_rows = [r for r in rows if r["prim"] == "reorder"]
    print(f"\nreorders per step: {len(re_rows) // iters}, {sum(r['ms'] for r in re_rows) / iters:.1f} ms")
    fmt = re.compile(r"src_(\w+)::blocked:(\w+):\S* dst_(\w+)::blocked:(\w+):")
    seen = collections.defaultdict(lambda: [0.0, 0])
    for r in re_rows:
        m = fmt.search(r["mds"])
        key = (r["shape"], f"{m.group(2)}->{m.group(4)}" if m else r["mds"])
        seen[key][0] += r["ms"] / iters
        seen[key][1] += 1
    for (shape, what), (ms, n) in sorted(seen.items(), key=lambda kv: -kv[1][0]):
        print(f"  {ms:8.2f} ms  {shape:18s} {what}" + (f"  x{n // iters}" if n > iters else ""))


if __name__ == "__main__":
    main()
