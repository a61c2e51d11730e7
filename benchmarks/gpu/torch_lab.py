#!/usr/bin/env python3
"""The lab's PyTorch AlexNet trained with ctnn's presets on the same CIFAR-10 files: the peer run
that tells whether a gap between ctnn and the lab's table comes from the data copy or from ctnn.

    torch_lab.py --data DIR --out DIR [--preset best] [--bn-momentum M] [--epochs-scale 1]
                 [--limit-train N] [--limit-test N] [--seed 1] [--device cuda|cpu]
                 [--precision f32|bf16] [--resume]

Same net (tests/reference/make_reference.py's AlexNet), same schedule as examples/alexnet_cifar10
(`best`: 20/20/10 epochs at batch 32/128/256, lr 0.05/0.005/0.0005; other presets: 50 epochs at
batch 128, lr 0.001; SGD momentum 0.9, no weight decay), same input (per-channel mean/std of the
training split, random horizontal flip from `augment` on), BatchNorm2d momentum as given (default:
the lab's printout, 0.9; `fast`: PyTorch's default, 0.1, as ctnn's AlexNetCifar). Writes
OUT/metrics.csv with ctnn's columns and prints its last line as `final test_acc=... test_loss=... epochs=... seconds=...`.

--precision bf16 runs forward and backward under torch.autocast(bfloat16) with channels_last
tensors (fp32 master weights, BatchNorm and loss in fp32): on a CPU with AVX512-BF16 that is 2-2.5x
PyTorch's fp32 speed, which makes a 50-epoch peer run fit in a working session, and it is the same
precision class as ctnn's bf16 runs. OUT/checkpoint.pt is written after every epoch (model,
optimizer, both random generators, metrics so far); --resume continues from it bit for bit.

`fast` is ctnn's 15-epoch preset (examples/alexnet_cifar10.cpp's recipe()) written with PyTorch's
own parts: batch 512 for 15 epochs, torch.optim.lr_scheduler.OneCycleLR stepped every batch (peak
0.2, pct_start 0.2, linear, div_factor 25, final_div_factor 1e3, no momentum cycling), SGD Nesterov
0.9 with weight decay 5e-4 on the Conv2d/Linear weights only, CrossEntropyLoss(label_smoothing=0.1)
for training, a random 32x32 crop of the reflect-padded (2 pixels) image and a horizontal flip, and
a test_acc_tta column (logits of the image and its mirror averaged). It answers whether PyTorch
with the same recipe reaches the issue's 89.5 % on this copy of CIFAR-10.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "reference"))
from make_reference import AlexNet  # noqa: E402

REC = 3073


def load_split(data, names, limit):
    parts = []
    for n in names:
        path = os.path.join(data, n + ".bin")
        if os.path.getsize(path) == 0:
            continue
        parts.append(np.fromfile(path, np.uint8).reshape(-1, REC))
    rec = np.concatenate(parts)[: limit or None]
    return rec[:, 1:].reshape(-1, 3, 32, 32), rec[:, 0].astype(np.int64)


def stages(preset, scale):
    s = [(15, 512, 0.2)] if preset == "fast" else [(20, 32, 0.05), (20, 128, 0.005), (10, 256, 0.0005)] if preset == "best" else \
        [(20, 32, 0.001), (20, 128, 0.001), (10, 256, 0.001)] if preset == "multibatch" else [(50, 128, 0.001)]
    return [(max(1, round(e * scale)), b, lr) for e, b, lr in s]


def random_crop(x, pad, gen):
    """torchvision's RandomCrop(32, padding=pad, padding_mode='reflect') for each image of the batch."""
    off = torch.randint(0, 2 * pad + 1, (2, len(x)), generator=gen).to(x.device)
    padded, out = F.pad(x, (pad,) * 4, mode="reflect"), torch.empty_like(x)
    for dy in range(2 * pad + 1):
        for dx in range(2 * pad + 1):
            m = (off[0] == dy) & (off[1] == dx)
            out[m] = padded[m, :, dy:dy + x.shape[2], dx:dx + x.shape[3]]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--preset", default="best", choices=["pure", "bn", "dropout", "augment", "multibatch", "best", "fast"])
    ap.add_argument("--bn-momentum", type=float, default=None)
    ap.add_argument("--epochs-scale", type=float, default=1.0)
    ap.add_argument("--limit-train", type=int, default=0)
    ap.add_argument("--limit-test", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--precision", default="f32", choices=["f32", "bf16"])
    ap.add_argument("--resume", action="store_true")
    a = ap.parse_args()
    if a.preset not in ("best", "multibatch", "augment", "dropout", "fast"):
        sys.exit("torch_lab.py: only the presets with the full seed net (dropout, augment, multibatch, best, fast)")
    fast = a.preset == "fast"
    if a.bn_momentum is None:
        a.bn_momentum = 0.1 if fast else 0.9
    torch.manual_seed(a.seed)
    dev = torch.device(a.device)
    xtr, ytr = load_split(a.data, [f"data_batch_{i}" for i in range(1, 6)], a.limit_train)
    xte, yte = load_split(a.data, ["test_batch"], a.limit_test)
    mean = xtr.reshape(len(xtr), 3, -1).mean(axis=(0, 2)) / 255.0
    std = (xtr.reshape(len(xtr), 3, -1) / 255.0).std(axis=(0, 2))
    norm = lambda x: ((torch.as_tensor(x, device=dev).float() / 255.0 - torch.as_tensor(mean, device=dev).float()
                       .view(1, 3, 1, 1)) / torch.as_tensor(std, device=dev).float().view(1, 3, 1, 1))
    xtr_d, ytr_d, xte_d, yte_d = norm(xtr), torch.as_tensor(ytr, device=dev), norm(xte), torch.as_tensor(yte, device=dev)

    model = AlexNet().to(dev)
    for m in model.features:
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = a.bn_momentum
    bf16 = a.precision == "bf16"
    if bf16:
        model = model.to(memory_format=torch.channels_last)
        xtr_d, xte_d = (t.contiguous(memory_format=torch.channels_last) for t in (xtr_d, xte_d))
    flip = a.preset in ("augment", "multibatch", "best", "fast")
    loss_fn = nn.CrossEntropyLoss()
    if fast:  # weight decay on Conv2d/Linear weights only: not on biases or BatchNorm parameters
        decay = [m.weight for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
        rest = [p for p in model.parameters() if all(p is not q for q in decay)]
        plan = stages(a.preset, a.epochs_scale)  # one stage; its lr is the one-cycle peak
        opt = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4}, {"params": rest, "weight_decay": 0.0}],
                              lr=plan[0][2], momentum=0.9, nesterov=True)
        steps = sum(n * -(-len(xtr_d) // bs) for n, bs, _ in plan)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=plan[0][2], total_steps=steps, pct_start=0.2,
                                                    anneal_strategy="linear", cycle_momentum=False,
                                                    div_factor=25, final_div_factor=1e3)
        train_loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
        sched, train_loss_fn = None, loss_fn
    os.makedirs(a.out, exist_ok=True)
    header = "epoch,stage,batch_size,lr,train_loss,train_acc,test_loss,test_acc,seconds,images_per_s" + \
        (",test_acc_tta\n" if fast else "\n")
    ckpt_path = os.path.join(a.out, "checkpoint.pt")
    t_all, epoch, done, rows = time.time(), 0, 0, []
    gen = torch.Generator(device="cpu").manual_seed(a.seed)
    if a.resume:
        if not os.path.exists(ckpt_path):
            sys.exit(f"torch_lab.py: --resume but no {ckpt_path}")
        ck = torch.load(ckpt_path, weights_only=False)
        if ck["args"] != {k: v for k, v in vars(a).items() if k != "resume"}:
            sys.exit(f"torch_lab.py: {ckpt_path} was written with other arguments: {ck['args']}")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        if sched:
            sched.load_state_dict(ck["sched"])
        gen.set_state(ck["gen"])
        torch.set_rng_state(ck["rng"])
        done, rows = ck["epoch"], ck["rows"]
        print(f"resumed from {ckpt_path} after epoch {done}", flush=True)
    csv = open(os.path.join(a.out, "metrics.csv"), "w")
    csv.write(header + "".join(r + "\n" for r in rows))
    csv.flush()
    for si, (n_ep, bs, lr) in enumerate(stages(a.preset, a.epochs_scale)):
        if not sched:
            for g in opt.param_groups:
                g["lr"] = lr
        for _ in range(n_ep):
            epoch += 1
            if epoch <= done:
                continue
            t0, lr = time.time(), opt.param_groups[0]["lr"]  # the row's lr: the epoch's first step's
            model.train()
            perm = torch.randperm(len(xtr_d), generator=gen).to(dev)
            tot, correct, seen = 0.0, 0, 0
            for i in range(0, len(perm), bs):
                idx = perm[i:i + bs]
                if len(idx) < 2:
                    continue  # BatchNorm1d needs more than one sample
                x, y = xtr_d[idx], ytr_d[idx]
                if fast:
                    x = random_crop(x, 2, gen)
                if flip:
                    f = torch.rand(len(idx), device=dev) < 0.5
                    x = torch.where(f.view(-1, 1, 1, 1), x.flip(3), x)
                with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
                    z = model(x)
                    loss = train_loss_fn(z, y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                if sched:
                    sched.step()
                tot += loss.item() * len(idx)
                correct += (z.argmax(1) == y).sum().item()
                seen += len(idx)
            secs = time.time() - t0
            model.eval()
            with torch.no_grad():
                tl, tc, tt = 0.0, 0, 0
                for i in range(0, len(xte_d), 1000):
                    with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
                        z = model(xte_d[i:i + 1000]).float()
                        zf = model(xte_d[i:i + 1000].flip(3)).float() if fast else z
                    tl += loss_fn(z, yte_d[i:i + 1000]).item() * len(z)
                    tc += (z.argmax(1) == yte_d[i:i + 1000]).sum().item()
                    tt += ((z + zf).argmax(1) == yte_d[i:i + 1000]).sum().item()
            row = (f"{epoch},{si + 1},{bs},{lr:g},{tot / seen:.6f},{100 * correct / seen:.4f},"
                   f"{tl / len(xte_d):.6f},{100 * tc / len(xte_d):.4f},{secs:.2f},{seen / secs:.1f}" +
                   (f",{100 * tt / len(xte_d):.4f}" if fast else ""))
            csv.write(row + "\n")
            csv.flush()
            print(row, flush=True)
            rows.append(row)
            tmp = ckpt_path + ".tmp"  # written whole, then renamed: a kill never leaves half a checkpoint
            torch.save({"args": {k: v for k, v in vars(a).items() if k != "resume"}, "epoch": epoch, "rows": rows,
                        "model": model.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(),
                        "sched": sched.state_dict() if sched else None,
                        "rng": torch.get_rng_state()}, tmp)
            os.replace(tmp, ckpt_path)
    last = rows[-1].split(",")
    print(f"final test_acc={float(last[7]):.2f} test_loss={float(last[6]):.4f} epochs={epoch} "
          f"seconds={time.time() - t_all:.0f} (torch {torch.__version__}, {a.device}, {a.precision}, "
          f"bn momentum {a.bn_momentum})" + (f" test_acc_tta={float(last[10]):.2f}" if fast else ""))


if __name__ == "__main__":
    main()
