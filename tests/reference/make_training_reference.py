#!/usr/bin/python3
"""PyTorch reference values for the training features (tests/test_training_features.cpp).

Run from the repository root with Debian's python (torch 1.13 + numpy; no torchvision needed):

    /usr/bin/python3 tests/reference/make_training_reference.py

Writes tests/reference/training.safetensors. Fixed seeds and one thread: reruns give the same
file byte for byte. What it holds (each block's tensors share a prefix):

  sgd.* / adam.*   torch.optim.SGD(nesterov=True) and torch.optim.Adam with two param groups
                   (weight decay on tensors of rank >= 2 only) over the parameters of
                   Conv2d(3,4,3) - BatchNorm2d(4) - ReLU - Flatten - Linear(64,10): start values,
                   three steps' gradients, parameters after each step (flat, state_dict order);
                   also the same steps with one group (every tensor decays).
  onecycle.<k>.*   torch.optim.lr_scheduler.OneCycleLR (cycle_momentum=False, three_phase=False):
                   the lr of every step 0..total_steps-1 (F64); the configuration in the metadata.
  ce.<k>.*         F.cross_entropy(label_smoothing=eps), mean: loss (F64, computed in float64
                   from the float32 logits) and d(loss)/d(logits).
  crop.*           a uint8 image, crop offsets (dy, dx, flip), and the 32x32 crops of the image
                   padded by 4 with F.pad mode 'constant' (0) and 'reflect' — what torchvision's
                   RandomCrop(32, padding=4[, padding_mode='reflect']) then RandomHorizontalFlip
                   produce for those offsets.
  ema.*            timm ModelEmaV2 / swa_utils.AveragedModel(avg_fn=EMA) in float32:
                   ema <- decay*ema + (1-decay)*w, ema starting as a copy of w0.
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "training.safetensors")
torch.set_num_threads(1)
torch.manual_seed(20261204)

tensors, meta = {}, {}


def put(name, t, dtype="<f4"):
    tensors[name] = np.ascontiguousarray(np.asarray(t), dtype=dtype)


def save(path):
    kinds = {"<f4": "F32", "<f8": "F64", "|u1": "U8", "<i4": "I32"}
    header = {"__metadata__": {k: str(v) for k, v in sorted(meta.items())}}
    blobs, offset = [], 0
    for name in sorted(tensors):
        a = tensors[name]
        b = a.tobytes()
        header[name] = {"dtype": kinds[a.dtype.str], "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    hdr = json.dumps(header, separators=(",", ":")).encode()
    hdr += b" " * (-len(hdr) % 8)
    with open(path, "wb") as f:
        f.write(len(hdr).to_bytes(8, "little"))
        f.write(hdr)
        for b in blobs:
            f.write(b)


# --- optimizers with param groups ------------------------------------------------------------
SHAPES = [(4, 3, 3, 3), (4,), (4,), (4,), (10, 64), (10,)]  # 0.weight 0.bias 1.weight 1.bias 4.weight 4.bias


def optim_run(kind, grouped, p0, grads):
    ps = [torch.nn.Parameter(t.clone()) for t in p0]
    wd = 0.05
    if grouped:
        groups = [{"params": [p for p in ps if p.dim() >= 2], "weight_decay": wd},
                  {"params": [p for p in ps if p.dim() < 2], "weight_decay": 0.0}]
    else:
        groups = [{"params": ps, "weight_decay": wd}]
    if kind == "sgd":
        opt = torch.optim.SGD(groups, lr=0.1, momentum=0.9, nesterov=True)
    else:
        opt = torch.optim.Adam(groups, lr=0.01)
    after = []
    for g in grads:
        for p, gi in zip(ps, g):
            p.grad = gi.clone()
        opt.step()
        after.append(torch.cat([p.detach().flatten() for p in ps]))
    return after


p0 = [torch.randn(s) for s in SHAPES]
grads = [[torch.randn(s) * 0.5 for s in SHAPES] for _ in range(3)]
for kind in ("sgd", "adam"):
    put(f"{kind}.p0", torch.cat([t.flatten() for t in p0]))
    for k, g in enumerate(grads):
        put(f"{kind}.grad{k}", torch.cat([t.flatten() for t in g]))
    for grouped, tag in ((True, "grouped"), (False, "all")):
        for k, p in enumerate(optim_run(kind, grouped, p0, grads)):
            put(f"{kind}.{tag}.step{k}", p)
meta["sgd"] = "lr=0.1 momentum=0.9 nesterov=True weight_decay=0.05 (rank>=2 only in 'grouped')"
meta["adam"] = "lr=0.01 betas=(0.9,0.999) eps=1e-8 weight_decay=0.05 (rank>=2 only in 'grouped')"

# --- OneCycleLR --------------------------------------------------------------------------------
ONECYCLE = [
    dict(total_steps=100, max_lr=0.1, pct_start=0.2, anneal_strategy="cos", div_factor=25.0, final_div_factor=1e4),
    dict(total_steps=37, max_lr=0.4, pct_start=0.3, anneal_strategy="linear", div_factor=10.0, final_div_factor=100.0),
    dict(total_steps=250, max_lr=0.05, pct_start=0.25, anneal_strategy="cos", div_factor=20.0, final_div_factor=1e3),
    dict(total_steps=60, max_lr=1.0, pct_start=0.5, anneal_strategy="linear", div_factor=25.0, final_div_factor=1e4),
]
for k, c in enumerate(ONECYCLE):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=c["max_lr"])
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, cycle_momentum=False, three_phase=False, **c)
    lrs = []
    for _ in range(c["total_steps"]):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step() if len(lrs) < c["total_steps"] else None
    put(f"onecycle.{k}.lr", np.array(lrs), "<f8")
    for key, v in c.items():
        meta[f"onecycle.{k}.{key}"] = repr(v)
meta["onecycle.count"] = len(ONECYCLE)

# --- cross-entropy with label smoothing ----------------------------------------------------------
for k, eps in enumerate((0.0, 0.1, 0.2)):
    z = (torch.randn(6, 10) * 3).float()
    t = torch.randint(0, 10, (6,))
    zd = z.double().requires_grad_(True)
    loss = F.cross_entropy(zd, t, label_smoothing=eps)
    loss.backward()
    put(f"ce.{k}.logits", z)
    put(f"ce.{k}.target", t.numpy().astype(np.int32), "<i4")
    put(f"ce.{k}.loss", np.array([loss.item()]), "<f8")
    put(f"ce.{k}.dlogits", zd.grad.float())
    meta[f"ce.{k}.label_smoothing"] = repr(eps)
meta["ce.count"] = 3

# --- crops ---------------------------------------------------------------------------------------
img = torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8)
offsets = [(0, 0, 0), (8, 8, 0), (0, 8, 1), (8, 0, 0), (4, 4, 1), (3, 6, 0), (1, 7, 1), (7, 2, 0), (2, 5, 1)]
put("crop.image", img.numpy(), "|u1")
put("crop.offsets", np.array(offsets, dtype=np.int32), "<i4")
for mode in ("constant", "reflect"):
    padded = F.pad(img.float()[None], (4, 4, 4, 4), mode=mode)[0]
    outs = []
    for dy, dx, flip in offsets:
        c = padded[:, dy:dy + 32, dx:dx + 32]
        if flip:
            c = torch.flip(c, dims=[-1])
        outs.append(c.to(torch.uint8))
    put(f"crop.{mode}", torch.stack(outs).numpy(), "|u1")
meta["crop.padding"] = 4

# --- EMA -----------------------------------------------------------------------------------------
decay = 0.9
ws = [torch.randn(7) for _ in range(5)]
ema = ws[0].clone()
put("ema.w", torch.stack(ws))
outs = []
for w in ws[1:]:
    ema = decay * ema + (1.0 - decay) * w  # timm ModelEmaV2's update_fn
    outs.append(ema.clone())
put("ema.expected", torch.stack(outs))
meta["ema.decay"] = repr(decay)

save(OUT)
print("wrote", OUT, len(tensors), "tensors")
