#!/usr/bin/env python3
"""Markdown tables from benchmarks/results.json (ctnn_bench's Google Benchmark JSON).

    python3 benchmarks/summarize_results.py [benchmarks/results.json] [--batch 128]

Prints (1) the per-layer table at one batch size: forward and backward wall time, their share
of the sum over layers, images/s and GFLOP/s; (2) the conv/linear layers at every batch size
with GFLOP/s over wall time and over the process's CPU time (GFLOP per CPU-second: the
throughput while the threads actually ran — less sensitive to other load on the machine, but
oneDNN/OpenMP threads spinning at barriers count as CPU time too); (3) the whole-net rows.
"""
import argparse
import collections
import json
import re


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("json", nargs="?", default="benchmarks/results.json")
    ap.add_argument("--batch", type=int, default=128)
    a = ap.parse_args()
    d = json.load(open(a.json))
    rows = {}
    for b in d["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        m = re.match(r"(layer_fwd|layer_bwd|net)/([^/]+)/batch:(\d+)", b["name"])
        if not m:
            continue
        scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b["time_unit"]]
        rows[(m.group(1), m.group(2), int(m.group(3)))] = dict(
            ms=b["real_time"] * scale, cpu_ms=b["cpu_time"] * scale, ips=b.get("images_per_s", 0),
            gflops=b.get("GFLOP_per_s", 0), iters=b["iterations"])
    ctx = d["context"]
    print(f"<!-- {a.json}: {ctx['date']}, load average {ctx.get('load_avg')}, "
          f"OMP_NUM_THREADS={ctx.get('OMP_NUM_THREADS')}, oneDNN {ctx.get('onednn')} -->")

    units = list(dict.fromkeys(u for (k, u, _) in rows if k != "net"))
    B = a.batch
    tot = sum(rows[(k, u, B)]["ms"] for u in units for k in ("layer_fwd", "layer_bwd") if (k, u, B) in rows)
    print(f"\nPer layer in isolation, batch {B} (wall ms; share of the sum of all rows, {tot:.0f} ms):\n")
    print("| layer | forward ms | backward ms | share | fwd img/s | fwd GFLOP/s | bwd GFLOP/s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for u in units:
        f, b = rows.get(("layer_fwd", u, B)), rows.get(("layer_bwd", u, B))
        if not f or not b:
            continue
        g = lambda r: f"{r['gflops']:.1f}" if r["gflops"] else "–"
        print(f"| {u} | {f['ms']:.1f} | {b['ms']:.1f} | {100 * (f['ms'] + b['ms']) / tot:.1f} % | "
              f"{f['ips']:.0f} | {g(f)} | {g(b)} |")

    print("\nConv and linear layers, every batch (GFLOP/s over wall time / per CPU-second of the process):\n")
    batches = sorted({bb for (_, _, bb) in rows})
    print("| layer | dir | " + " | ".join(f"b{bb}" for bb in batches) + " |")
    print("|---|---|" + "---:|" * len(batches))
    for u in units:
        for k in ("layer_fwd", "layer_bwd"):
            rs = [rows.get((k, u, bb)) for bb in batches]
            if not any(r and r["gflops"] for r in rs):
                continue
            cells = [f"{r['gflops']:.1f} / {r['gflops'] * r['ms'] / r['cpu_ms']:.1f}" if r else "–" for r in rs]
            print(f"| {u} | {k[6:]} | " + " | ".join(cells) + " |")

    print("\nWhole net:\n")
    print("| benchmark | batch | wall ms | process CPU ms | images/s | GFLOP/s |")
    print("|---|---:|---:|---:|---:|---:|")
    for (k, u, bb), r in rows.items():
        if k == "net":
            print(f"| net/{u} | {bb} | {r['ms']:.0f} | {r['cpu_ms']:.0f} | {r['ips']:.1f} | {r['gflops']:.1f} |")


if __name__ == "__main__":
    main()
