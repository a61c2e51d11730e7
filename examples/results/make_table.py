#!/usr/bin/env python3
"""Builds examples/results/README.md — the results table — from the runs' own files.

    python3 examples/results/make_table.py            # rewrites README.md, test_accuracy.png,
                                                      # and the table in the top-level README.md

Every run is a folder examples/results/<machine>/<preset>/ holding the metrics.csv that
alexnet_cifar10 wrote (one row per finished epoch) and optionally run.json ({"command", "commit",
"precision", "cpu" or "gpu", "note"}) and train.log. Nothing in the table is typed by hand: the
final-epoch and best-epoch test accuracy, flip-TTA accuracy, epochs and wall time (the sum of the
epochs' seconds) come from metrics.csv. A run with fewer epochs than its preset plans is shown as
incomplete with its latest epoch, never as a final figure. Further seeds of a preset live in
<preset>-seed<k>/ beside it; with two or more finished, the cell gives each seed's final accuracy,
their mean and sample standard deviation and the first epoch reaching the lab's best (89.49 %).
Folders of other nets (e.g. resnet9/) get their own table; folders ending in -check are learning
checks and are skipped. peer-<name>/<run>/ holds a PyTorch run on the same files and schedule as
the ctnn run its run.json names ("compare_with"), compared epoch by epoch. The top-level README's
table sits between the markers <!-- results-table:begin --> and <!-- results-table:end -->.
"""
import csv
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# The seed lab's PyTorch results (50 epochs) and each preset's change and planned epochs.
PRESETS = [
    ("pure", "conv-pool-ReLU, FC-ReLU", 75.56, 50),
    ("bn", "+ BatchNorm", 80.30, 50),
    ("dropout", "+ Dropout", 82.95, 50),
    ("augment", "+ horizontal flip", 86.01, 50),
    ("multibatch", "+ batches 32 → 128 → 256", 88.63, 50),
    ("best", "+ lr 0.05 → 0.005 → 0.0005", 89.49, 50),
    ("fast", "one-cycle, Nesterov, wd, smoothing, crop (issue 11)", None, 15),
    ("max", "one-cycle (cos), batch 256, smoothing 0.15, crop 4, EMA (issue 11)", None, 50),
]
MACHINES = {  # folder -> column title
    "gpu-h200": "GPU: NVIDIA H200, fp32 (TF32)",
    "cpu-zen5-bf16": "CPU: AMD EPYC Zen 5, 2 vCPUs, bf16",
}


def read_run(folder):
    with open(os.path.join(folder, "metrics.csv")) as f:
        rows = list(csv.DictReader(f))
    meta = {}
    if os.path.exists(os.path.join(folder, "run.json")):
        with open(os.path.join(folder, "run.json")) as f:
            meta = json.load(f)
    return rows, meta


def hours(seconds):
    if seconds < 600:
        return f"{seconds:.0f} s"
    m = int(round(seconds / 60))
    return f"{m // 60} h {m % 60:02d} min" if m >= 60 else f"{m} min"


def tta_of(row):
    """The row's flip-TTA accuracy, or None where the preset has no TTA."""
    tta = row.get("test_acc_tta")
    return float(tta) if tta not in (None, "", "nan") else None


def is_seed_of(folder, name):
    """Seed 1 of a preset lives in <preset>/, further seeds in <preset>-seed<k>/."""
    return folder == name or folder.startswith(name + "-seed")


def cell(rows, meta, planned):
    if not rows:
        return "—"
    acc = [float(r["test_acc"]) for r in rows]
    best = max(range(len(acc)), key=lambda i: acc[i])
    secs = sum(float(r["seconds"]) for r in rows)
    tta = tta_of(rows[-1])
    epochs = int(rows[-1]["epoch"])
    planned = int(meta.get("epochs", planned))
    extra = f"; TTA {tta:.2f}" if tta is not None else ""
    if epochs < planned:  # time to finish: the epochs left at the median epoch time so far
        left = (planned - epochs) * statistics.median(float(r["seconds"]) for r in rows)
        return (f"incomplete: {epochs} of {planned} epochs, latest {acc[-1]:.2f} (best {acc[best]:.2f} at epoch "
                f"{best + 1}; {hours(secs)} so far, ≈ {hours(left)} to finish)"
                f"{'; ' + meta['note'] if meta.get('note') else ''}")
    return f"**{acc[-1]:.2f}** (best {acc[best]:.2f} at epoch {best + 1}{extra}; {hours(secs)})"


def first_epoch_at(rows, target):
    """The first epoch whose test accuracy (or flip-TTA accuracy) reaches target, or None."""
    for r in rows:
        if max(float(r["test_acc"]), tta_of(r) or 0.0) >= target:
            return int(r["epoch"])
    return None


def seeds_cell(runs_, planned, target):
    """Several seeds of one preset (folders <preset>, <preset>-seed2, ...): each seed's final
    accuracy, their mean and sample standard deviation, and the first epoch reaching the lab's best."""
    done = [(name, rows) for name, rows, meta in runs_ if rows and int(rows[-1]["epoch"]) >= planned]
    if len(done) < 2:
        return None
    finals = [float(rows[-1]["test_acc"]) for _, rows in done]
    ttas = [tta_of(rows[-1]) for _, rows in done if tta_of(rows[-1]) is not None]
    mean = sum(finals) / len(finals)
    sd = (sum((x - mean) ** 2 for x in finals) / (len(finals) - 1)) ** 0.5
    text = f"**{mean:.2f} ± {sd:.2f}** over {len(done)} seeds ({', '.join(f'{x:.2f}' for x in finals)})"
    if len(ttas) == len(finals):
        tm = sum(ttas) / len(ttas)
        text += f"; TTA {tm:.2f} ({', '.join(f'{x:.2f}' for x in ttas)})"
    firsts = [first_epoch_at(rows, target) for _, rows in done]
    text += "; first epoch ≥ " + f"{target:.2f}: " + ", ".join(str(e) if e else "never" for e in firsts)
    secs = [sum(float(r["seconds"]) for r in rows) for _, rows in done]
    text += f"; {', '.join(hours(s) for s in secs)}"
    running = [name for name, rows, meta in runs_ if rows and int(rows[-1]["epoch"]) < planned]
    return text + (f"; running: {', '.join(running)}" if running else "")


def run_folders(top):
    """(name, folder) of each subfolder of `top` that holds a metrics.csv, sorted by name."""
    if not os.path.isdir(top):
        return []
    return [(name, os.path.join(top, name)) for name in sorted(os.listdir(top))
            if os.path.exists(os.path.join(top, name, "metrics.csv"))]


def runs():
    found = {}
    for machine in sorted(os.listdir(HERE)):
        if machine == "tuning":  # validation-split runs: their own section, not the test-accuracy figure
            continue
        for preset, folder in run_folders(os.path.join(HERE, machine)):
            if not preset.endswith("-check"):  # a short learning check, not a run (the README cites it)
                found[(machine, preset)] = read_run(folder)
    return found


def seed_runs(found, machine, name):
    """Every seed's run of preset `name` on `machine`: (folder, rows, meta)."""
    return [(f, rows, meta) for (m, f), (rows, meta) in sorted(found.items()) if m == machine and is_seed_of(f, name)]


def table(found):
    names = {p[0] for p in PRESETS}
    machines = sorted({m for m, f in found if m in MACHINES}, key=lambda m: list(MACHINES).index(m))
    head = "| preset | change | lab (PyTorch, 50 epochs) | " + " | ".join(MACHINES[m] for m in machines) + " |"
    lines = [head, "|" + "---|" * 3 + "---|" * len(machines)]
    lab_best = max(p[2] for p in PRESETS if p[2] is not None)
    for name, change, lab, planned in PRESETS:
        cells = []
        for m in machines:
            many = seeds_cell(seed_runs(found, m, name), planned, lab_best)
            cells.append(many or cell(*found.get((m, name), ([], {})), planned))
        lab_s = f"{lab:.2f}" if lab is not None else "—"
        lines.append(f"| `{name}` | {change} | {lab_s} | " + " | ".join(cells) + " |")
    others = sorted((m, f) for m, f in found if m in MACHINES and not any(is_seed_of(f, n) for n in names))
    if others:
        lines += ["", "Other nets and runs:", "", "| run | machine | test accuracy |", "|---|---|---|"]
        for m, f in others:
            rows, meta = found[(m, f)]
            lines.append(f"| `{f}` | {MACHINES[m]} | {cell(rows, meta, 0)} |")  # planned: run.json "epochs"
    return "\n".join(lines), machines


def peer_section():
    """peer-*/<run>/: PyTorch on the same data files and schedule as the ctnn runs that its
    run.json names ("compare_with": "<machine>/<run>" or a list of them), epoch by epoch: the
    experiment that tells whether a gap to the lab's table comes from ctnn or from the data."""
    out = []
    for peer in sorted(d for d in os.listdir(HERE) if d.startswith("peer-") and os.path.isdir(os.path.join(HERE, d))):
        for run, folder in run_folders(os.path.join(HERE, peer)):
            rows, meta = read_run(folder)
            others = meta.get("compare_with", [])
            others = [others] if isinstance(others, str) else others
            theirs = [read_run(os.path.join(HERE, o))[0] for o in others]
            planned = int(meta.get("epochs", 0))
            status = (f" **Incomplete: {len(rows)} of {planned} epochs so far.**"
                      if planned and len(rows) < planned else "")
            out += [f"### `{peer}/{run}`", "", f"`{meta.get('command', '')}` ({meta.get('cpu', '')}, "
                    f"{meta.get('precision', '')}). {meta.get('note', '')}{status}", "",
                    "Test accuracy (train accuracy in brackets) after each epoch, and ctnn minus PyTorch:", "",
                    "| epoch | PyTorch | " + " | ".join(f"ctnn `{o}` | ctnn − PyTorch" for o in others) + " |",
                    "|---:|---:|" + "---:|---:|" * len(others)]
            last = int(rows[-1]["epoch"]) if rows else 0
            for r in rows:
                e, p_, pt = int(r["epoch"]), float(r["test_acc"]), float(r["train_acc"])
                if last > 20 and not (e == 1 or e % 5 == 0 or e == last):
                    continue  # a long run: every 5th epoch, the first and the last
                cells = []
                for t in theirs:
                    c = next((x for x in t if int(x["epoch"]) == e), None)
                    cells += ([f"{float(c['test_acc']):.2f} ({float(c['train_acc']):.2f})",
                               f"{float(c['test_acc']) - p_:+.2f} ({float(c['train_acc']) - pt:+.2f})"]
                              if c else ["—", "—"])
                out.append(f"| {e} | {p_:.2f} ({pt:.2f}) | " + " | ".join(cells) + " |")
            if rows and tta_of(rows[-1]) is not None:  # flip TTA of the last epoch, where the run has it
                cells = []
                for t in theirs:
                    c = next((x for x in t if int(x["epoch"]) == last), None)
                    cells += ([f"{tta_of(c):.2f}", f"{tta_of(c) - tta_of(rows[-1]):+.2f}"]
                              if c and tta_of(c) is not None else ["—", "—"])
                out.append(f"| {last}, flip TTA | {tta_of(rows[-1]):.2f} | " + " | ".join(cells) + " |")
            if last > 20:  # the mean over the last 10 epochs: one epoch alone is noisy
                tail = [float(r["test_acc"]) for r in rows[-10:]]
                cells = []
                for t in theirs:
                    c = [float(x["test_acc"]) for x in t if last - 10 < int(x["epoch"]) <= last]
                    cells += ([f"{sum(c) / len(c):.2f}", f"{sum(c) / len(c) - sum(tail) / len(tail):+.2f}"]
                              if len(c) == 10 else ["—", "—"])
                out.append(f"| mean of epochs {last - 9}–{last} | {sum(tail) / len(tail):.2f} | " + " | ".join(cells) + " |")
            out.append("")
    return "\n".join(out)


def figure(found):
    """test_accuracy.png: test accuracy per epoch of every run (gnuplot, as the example's curves)."""
    plots = []
    for (machine, preset), _ in sorted(found.items()):
        path = os.path.join(HERE, machine, preset, "metrics.csv")
        plots.append(f"'{path}' using 1:8 with lines lw 2 title '{machine} {preset}'")
    script = ("set datafile separator ','\nset terminal pngcairo size 1100,600 noenhanced\n"
              f"set output '{os.path.join(HERE, 'test_accuracy.png')}'\nset key bottom right\nset grid\n"
              "set xlabel 'epoch'\nset ylabel 'test accuracy (%)'\nset yrange [50:95]\n"
              "plot " + ", \\\n     ".join(plots) + "\n")
    try:
        subprocess.run(["gnuplot"], input=script, text=True, check=True)
        return True
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"warning: gnuplot failed ({e}): test_accuracy.png not drawn", file=sys.stderr)
        return False


def tuning_section():
    """tuning/<preset>/<variant>/: runs with --val-split (the last 5,000 training images as the
    evaluation split, never the test set), one row per variant: the overrides of its run.json and
    its validation accuracy."""
    top = os.path.join(HERE, "tuning")
    if not os.path.isdir(top):
        return ""
    out = []
    for preset in sorted(os.listdir(top)):
        out += [f"### `{preset}`", "", "| variant | overrides | epochs | validation accuracy, last epoch | TTA | "
                "best (epoch) | train accuracy, last epoch |", "|---|---|---:|---:|---:|---:|---:|"]
        commands = []
        for variant, folder in run_folders(os.path.join(top, preset)):
            rows, meta = read_run(folder)
            if not rows:
                continue
            commands.append(meta.get("command", ""))
            acc = [float(r["test_acc"]) for r in rows]
            best = max(range(len(acc)), key=lambda i: acc[i])
            tta = tta_of(rows[-1])
            planned = int(meta.get("epochs", 0))
            epochs = f"{len(rows)}" + (f" of {planned} (incomplete)" if planned and len(rows) < planned else "")
            out.append(f"| `{variant}` | {meta.get('overrides', '')} | {epochs} | {acc[-1]:.2f} | "
                       f"{'' if tta is None else f'{tta:.2f}'} | {acc[best]:.2f} ({best + 1}) | "
                       f"{float(rows[-1]['train_acc']):.2f} |")
        out += ["", "Commands: " + "; ".join(f"`{c}`" for c in commands if c), ""]
    return "\n".join(out)


def describe(found, machines):
    out = []
    for m in machines:
        for (machine, preset), (rows, meta) in sorted(found.items()):
            if machine == m and meta:
                bits = [f"`{meta['command']}`" if meta.get("command") else "",
                        f"commit {meta['commit']}" if meta.get("commit") else "",
                        meta.get("cpu") or meta.get("gpu") or "", meta.get("precision", "")]
                out.append(f"- `{machine}/{preset}`: " + ", ".join(b for b in bits if b))
    return "\n".join(out)


def main():
    found = runs()
    tab, machines = table(found)
    drew = figure(found)
    with open(os.path.join(HERE, "README.md"), "w") as f:
        f.write("# Results: the seed lab's AlexNet on CIFAR-10\n\n"
                "Generated by `python3 examples/results/make_table.py` from the `metrics.csv` (and `run.json`) of each\n"
                "run folder `<machine>/<preset>/`; do not edit by hand. Test accuracy (%) of the last epoch, the best\n"
                "epoch, flip-TTA where the preset uses it, and the training time (the sum of metrics.csv's per-epoch\n"
                "seconds; evaluation not included). A run that has not\n"
                "finished its epochs is shown as incomplete with its latest epoch.\n\n" + tab + "\n")
        desc = describe(found, machines)
        if desc:
            f.write("\nRuns with a `run.json`:\n\n" + desc + "\n")
        peers = peer_section()
        if peers:
            f.write("\n## Same data, same schedule: PyTorch against ctnn\n\n" + peers)
        tuning = tuning_section()
        if tuning:
            f.write("\n## Tuning on the validation split (never the test set)\n\n" + tuning)
        if drew:
            f.write("\n![test accuracy per epoch of every run](test_accuracy.png)\n")
    readme = os.path.join(ROOT, "README.md")
    text = open(readme).read()
    begin, end = "<!-- results-table:begin -->", "<!-- results-table:end -->"
    if begin in text and end in text:
        a, b = text.index(begin) + len(begin), text.index(end)
        text = text[:a] + "\n" + tab + "\n" + text[b:]
        open(readme, "w").write(text)
    print(tab)


if __name__ == "__main__":
    main()
