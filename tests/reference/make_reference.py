#!/usr/bin/python3
"""Generate the small PyTorch reference files that the ctnn C++ tests load.

Run from the repository root with Debian's python (torch 1.13 + numpy):

    /usr/bin/python3 tests/reference/make_reference.py

Writes *.safetensors into tests/reference/ (see README.md there).  Everything
is computed in float32 on the CPU, exactly as PyTorch does by default, with a
fixed seed, so reruns reproduce the same files.
"""
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT_DIR = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(1234)
torch.set_num_threads(1)  # single-threaded reductions: reproducible bits


# ---------------------------------------------------------------------------
# Minimal safetensors writer / reader (float32 only)
# ---------------------------------------------------------------------------
def save_safetensors(path, tensors, metadata):
    """tensors: dict name -> torch tensor (any float dtype, stored as F32)."""
    header = {"__metadata__": {k: str(v) for k, v in metadata.items()}}
    blobs, offset = [], 0
    for name, t in tensors.items():
        a = np.ascontiguousarray(t.detach().cpu().numpy(), dtype="<f4")
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    hdr = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hdr += b" " * (-len(hdr) % 8)  # pad so the data section is 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hdr)))
        f.write(hdr)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        assert info["dtype"] == "F32"
        b, e = info["data_offsets"]
        out[name] = np.frombuffer(data[b:e], dtype="<f4").reshape(info["shape"])
    assert max(i["data_offsets"][1] for i in header.values()) == len(data)
    return out, meta


def write(fname, tensors, metadata=None):
    """Write, re-read with our own reader and compare bit-exactly."""
    path = os.path.join(OUT_DIR, fname)
    metadata = dict(metadata or {})
    metadata.setdefault("generator", "tests/reference/make_reference.py, torch " + torch.__version__)
    save_safetensors(path, tensors, metadata)
    back, meta = load_safetensors(path)
    assert list(back) == list(tensors), fname
    for k, t in tensors.items():
        assert t.dtype == torch.float32, (fname, k, t.dtype)
        assert np.array_equal(back[k], t.detach().numpy()), (fname, k)
    assert meta == {k: str(v) for k, v in metadata.items()}
    print(f"{fname:28s} {os.path.getsize(path):8d} bytes, {len(tensors)} tensors")


# ---------------------------------------------------------------------------
# Layer-level references: forward y, random upstream dy, backward of sum(y*dy)
# ---------------------------------------------------------------------------
def fwd_bwd(module, x):
    x = x.clone().requires_grad_(True)
    y = module(x)
    dy = torch.randn_like(y)
    (y * dy).sum().backward()
    return y.detach(), dy, x.grad.detach()


def make_conv2d():
    T, M = {}, {}
    for k, (cin, cout, ks, s, p, shape) in {
        "a": (3, 4, 3, 1, 1, (2, 3, 6, 6)),
        "b": (4, 5, 5, 2, 2, (2, 4, 9, 9)),
    }.items():
        conv = nn.Conv2d(cin, cout, ks, stride=s, padding=p, bias=True)
        x = torch.randn(shape)
        y, dy, dx = fwd_bwd(conv, x)
        T.update({f"{k}.x": x, f"{k}.weight": conv.weight.detach().clone(),
                  f"{k}.bias": conv.bias.detach().clone(), f"{k}.y": y, f"{k}.dy": dy,
                  f"{k}.dx": dx, f"{k}.dweight": conv.weight.grad, f"{k}.dbias": conv.bias.grad})
        M[f"{k}.config"] = f"{cin},{cout},{ks},{s},{p}"
    write("conv2d.safetensors", T, M)


def make_linear():
    lin = nn.Linear(12, 5)
    x = torch.randn(4, 12)
    y, dy, dx = fwd_bwd(lin, x)
    write("linear.safetensors", {
        "x": x, "weight": lin.weight.detach().clone(), "bias": lin.bias.detach().clone(),
        "y": y, "dy": dy, "dx": dx, "dweight": lin.weight.grad, "dbias": lin.bias.grad},
        {"config": "12,5"})


def bn_case(cls, c, xshape, momentum, state=None):
    """Train-mode forward/backward then eval-mode forward with updated stats.
    `state` (dict) reuses inputs/params from an earlier case."""
    bn = cls(c, eps=1e-5, momentum=momentum)
    if state is None:
        state = {"x": torch.randn(xshape) * 2 + 1,
                 "weight": torch.rand(c) + 0.5, "bias": torch.randn(c) * 0.5,
                 "running_mean_before": torch.randn(c) * 0.3,
                 "running_var_before": torch.rand(c) + 0.5,
                 "x_eval": torch.randn(xshape) * 2 + 1}
    with torch.no_grad():
        bn.weight.copy_(state["weight"]); bn.bias.copy_(state["bias"])
        bn.running_mean.copy_(state["running_mean_before"])
        bn.running_var.copy_(state["running_var_before"])
    bn.train()
    y, dy, dx = fwd_bwd(bn, state["x"])
    r = dict(state)
    r.update({"y": y, "dy": dy, "dx": dx, "dweight": bn.weight.grad, "dbias": bn.bias.grad,
              "running_mean_after": bn.running_mean.clone(),
              "running_var_after": bn.running_var.clone()})
    # cheap sanity check of PyTorch's update rule (unbiased var for running_var)
    dims = [0] + list(range(2, state["x"].dim()))
    var_u = state["x"].var(dim=dims, unbiased=True)
    exp = (1 - momentum) * state["running_var_before"] + momentum * var_u
    assert torch.allclose(exp, r["running_var_after"], rtol=1e-5, atol=1e-6)
    bn.eval()
    with torch.no_grad():
        r["y_eval"] = bn(state["x_eval"])
    order = ["x", "weight", "bias", "running_mean_before", "running_var_before", "y", "dy",
             "dx", "dweight", "dbias", "running_mean_after", "running_var_after",
             "x_eval", "y_eval"]
    return {k: r[k] for k in order}


def make_batchnorm():
    T = bn_case(nn.BatchNorm2d, 3, (4, 3, 5, 5), 0.1)
    m09 = bn_case(nn.BatchNorm2d, 3, (4, 3, 5, 5), 0.9,
                  state={k: T[k] for k in ["x", "weight", "bias", "running_mean_before",
                                           "running_var_before", "x_eval"]})
    assert torch.equal(m09["y"], T["y"])  # train-mode output ignores momentum
    for k in ["running_mean_after", "running_var_after", "y"]:
        T["m09." + k] = m09[k]
    write("batchnorm2d.safetensors", T,
          {"config": "3", "eps": "1e-05", "momentum": "0.1", "m09.momentum": "0.9"})
    write("batchnorm1d.safetensors", bn_case(nn.BatchNorm1d, 6, (5, 6), 0.1),
          {"config": "6", "eps": "1e-05", "momentum": "0.1"})


def make_maxpool():
    T, M = {}, {}
    for k, (ks, s, shape) in {"a": (2, 2, (2, 3, 6, 6)), "b": (3, 2, (2, 3, 7, 7)),
                              "c": (2, 1, (1, 2, 5, 5))}.items():
        n = math.prod(shape)
        # distinct values (exact in float32) -> the argmax of every window is unique
        x = ((torch.randperm(n).float() - n / 2) / 8).reshape(shape)
        assert x.flatten().unique().numel() == n
        y, dy, dx = fwd_bwd(nn.MaxPool2d(ks, s), x)
        T.update({f"{k}.x": x, f"{k}.y": y, f"{k}.dy": dy, f"{k}.dx": dx})
        M[f"{k}.config"] = f"{ks},{s}"
    write("maxpool2d.safetensors", T, M)


def make_activations():
    T = {}
    for name, mod in [("relu", nn.ReLU()), ("sigmoid", nn.Sigmoid())]:
        x = torch.randn(3, 7)
        x = torch.where(x.abs() < 1e-2, torch.full_like(x, 0.5), x)  # no (near) zeros
        y, dy, dx = fwd_bwd(mod, x)
        T.update({f"{name}.x": x, f"{name}.y": y, f"{name}.dy": dy, f"{name}.dx": dx})
    write("activations.safetensors", T)


def make_cross_entropy():
    logits = torch.randn(6, 10) * 3
    logits[2] = torch.tensor([50., -50., 3., 49., -20., 0.5, 50., -49., 10., 1.])  # large row
    target = torch.tensor([3, 0, 6, 9, 1, 5])
    lg = logits.clone().requires_grad_(True)
    loss = F.cross_entropy(lg, target)  # mean reduction
    loss.backward()
    assert torch.isfinite(lg.grad).all() and torch.isfinite(loss)
    write("cross_entropy.safetensors", {"logits": logits, "target": target.float(),
                                        "loss": loss.detach().reshape(1),
                                        "dlogits": lg.grad}, {"reduction": "mean"})


# ---------------------------------------------------------------------------
# Whole seed net (AlexNet-like for 32x32 inputs)
# ---------------------------------------------------------------------------
class AlexNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, 3, 1, 1), nn.BatchNorm2d(96), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(96, 128, 5, 1, 2), nn.BatchNorm2d(128), nn.ReLU(), nn.MaxPool2d(2, 1),
            nn.Conv2d(128, 256, 3), nn.BatchNorm2d(256), nn.ReLU(),
            nn.Conv2d(256, 256, 3, 1, 1), nn.BatchNorm2d(256), nn.ReLU(),
            nn.Conv2d(256, 128, 3, 1, 1), nn.BatchNorm2d(128), nn.ReLU(), nn.MaxPool2d(3, 2))
        self.classifier = nn.Sequential(
            nn.Linear(4608, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Dropout(),
            nn.Linear(128, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Dropout(),
            nn.Linear(64, 10))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


PARAM_FORMULA = (
    "Walk model.state_dict() in PyTorch order. Let t be a counter starting at 0 that "
    "advances by one after each tensor whose name ends in '.weight' or '.bias' (Conv2d, "
    "Linear, BatchNorm weight/bias: 30 tensors, t=0..29); running_mean, running_var and "
    "num_batches_tracked do not advance t. For flat row-major index i (PyTorch shape: conv "
    "[out,in,kh,kw], linear [out,in]) let s = sin(0.37*i + 0.11*t). All arithmetic is in "
    "double precision; only the final value is rounded to float32. Conv/Linear weight: value = s/sqrt(fan_in) with "
    "fan_in = numel/shape[0] (in_channels*kh*kw or in_features). Conv/Linear bias: 0.1*s. "
    "BatchNorm weight: 1 + 0.1*s. BatchNorm bias: 0.1*s. running_mean = 0, running_var = 1, "
    "num_batches_tracked = 0.")


def formula_state(model, verbose=False):
    sd, new, t = model.state_dict(), {}, 0
    bn_names = {n for n, m in model.named_modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)}
    for name, ref in sd.items():
        mod, leaf = name.rsplit(".", 1)
        if leaf in ("weight", "bias"):
            i = np.arange(ref.numel(), dtype=np.float64)
            s = np.sin(0.37 * i + 0.11 * t)  # float64; final value rounded to f32 below
            if mod in bn_names:
                v, kind = (1 + 0.1 * s, "bn 1+0.1*s") if leaf == "weight" else (0.1 * s, "bn 0.1*s")
            elif leaf == "weight":
                fan_in = ref.numel() // ref.shape[0]
                v, kind = s / math.sqrt(fan_in), f"s/sqrt({fan_in})"
            else:
                v, kind = 0.1 * s, "0.1*s"
            new[name] = torch.from_numpy(v.astype(np.float32)).reshape(ref.shape)
            if verbose:
                print(f"  t={t:2d} {name:28s} {str(tuple(ref.shape)):18s} {kind}")
            t += 1
        elif leaf == "running_mean":
            new[name] = torch.zeros_like(ref)
        elif leaf == "running_var":
            new[name] = torch.ones_like(ref)
        else:
            assert leaf == "num_batches_tracked"
            new[name] = torch.zeros_like(ref)
    assert t == 30
    return new


def fresh_model(verbose=False):
    m = AlexNet()
    m.load_state_dict(formula_state(m, verbose))
    m.train()
    for mod in m.modules():  # dropout disabled (identity), everything else in train mode
        if isinstance(mod, nn.Dropout):
            mod.eval()
    return m


def make_alexnet():
    x = torch.randn(8, 3, 32, 32)
    labels = torch.randint(0, 10, (8,))
    print("alexnet parameter formula, counting convention:")
    model = fresh_model(verbose=True)
    assert sum(p.numel() for p in model.parameters()) == 2091274
    sd0 = {k: v.clone() for k, v in model.state_dict().items()}
    logits = model(x)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    P = dict(model.named_parameters())
    B = dict(model.named_buffers())
    T = {"x": x, "labels": labels.float(), "logits": logits.detach(),
         "loss": loss.detach().reshape(1),
         "param.features.0.weight": sd0["features.0.weight"],  # formula spot-checks
         "param.classifier.8.bias": sd0["classifier.8.bias"]}
    for n in ["features.0.weight", "features.0.bias", "features.1.weight", "features.14.bias",
              "classifier.0.bias", "classifier.8.weight", "classifier.8.bias"]:
        T["grad." + n] = P[n].grad.clone()
    for n in ["features.1", "classifier.5"]:
        T["running_mean." + n] = B[n + ".running_mean"].clone()
        T["running_var." + n] = B[n + ".running_var"].clone()

    def run(prefix, make_opt, names):
        m = fresh_model()
        opt = make_opt(m.parameters())
        losses = []
        for _ in range(3):  # loss recorded before each step
            opt.zero_grad()
            l = F.cross_entropy(m(x), labels)
            l.backward()
            opt.step()
            losses.append(l.item())
        T[prefix + ".loss"] = torch.tensor(losses, dtype=torch.float32)
        assert T[prefix + ".loss"][0] == loss.detach()  # step 0 == the single pass above
        p = dict(m.named_parameters())
        for n in names:
            T[f"{prefix}.{n}"] = p[n].detach().clone()

    run("sgd", lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9, weight_decay=5e-4,
                                          nesterov=False),
        ["features.0.weight", "classifier.8.weight", "classifier.8.bias", "features.1.weight"])
    run("sgdn", lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9, nesterov=True),
        ["classifier.8.weight"])
    run("adam", lambda ps: torch.optim.Adam(ps, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                                            weight_decay=0),
        ["features.0.weight", "classifier.8.weight", "classifier.8.bias"])
    write("alexnet.safetensors", T, {
        "param_formula": PARAM_FORMULA,
        "mode": "model.train() with both Dropout modules in eval() (identity)",
        "loss": "CrossEntropyLoss, mean reduction",
        "sgd": "SGD(lr=0.01, momentum=0.9, weight_decay=5e-4, nesterov=False), 3 steps",
        "sgdn": "SGD(lr=0.01, momentum=0.9, weight_decay=0, nesterov=True), 3 steps",
        "adam": "Adam(lr=1e-3, betas=(0.9,0.999), eps=1e-8, weight_decay=0), 3 steps",
        "num_params": "2091274"})


if __name__ == "__main__":
    make_conv2d()
    make_linear()
    make_batchnorm()
    make_maxpool()
    make_activations()
    make_cross_entropy()
    make_alexnet()
    total = sum(os.path.getsize(os.path.join(OUT_DIR, f))
                for f in os.listdir(OUT_DIR) if f.endswith(".safetensors"))
    print(f"total {total} bytes")
    assert total < 2 * 1024 * 1024
