#!/usr/bin/python3
"""Generate the small PyTorch reference files that the ctnn C++ tests load.

Run from the repository root with Debian's python (torch 1.13 + numpy):

    /usr/bin/python3 tests/reference/make_reference.py

Writes *.safetensors into tests/reference/ (see README.md there).  The layer
files are computed in float32 on the CPU, exactly as PyTorch does by default;
the whole-net AlexNet file in float64 from float32 inputs (see make_alexnet).
Fixed seed and a single thread, so reruns reproduce the same files.
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


def make_layers2():
    """The layers added after the seed net (issue 13): activations, pools, Scale.
    Seeded on its own, so the files above are unchanged by it."""
    torch.manual_seed(4321)
    T, M = {}, {}

    def case(key, mod, x, config=None):
        y, dy, dx = fwd_bwd(mod, x)
        T.update({f"{key}.x": x, f"{key}.y": y, f"{key}.dy": dy, f"{key}.dx": dx})
        if config is not None:
            M[f"{key}.config"] = config

    def off_zero(x):  # no (near) zeros: the kink of (leaky) ReLU
        return torch.where(x.abs() < 1e-2, torch.full_like(x, 0.5), x)

    def distinct(shape):  # all-distinct values exact in float32: unique arg-max per window
        n = math.prod(shape)
        x = ((torch.randperm(n).float() - n / 2) / 8).reshape(shape)
        assert x.flatten().unique().numel() == n
        return x

    case("leaky_relu", nn.LeakyReLU(), off_zero(torch.randn(3, 7)), "0.01")
    case("leaky_relu_02", nn.LeakyReLU(0.2), off_zero(torch.randn(2, 3, 2, 2)), "0.2")
    case("tanh", nn.Tanh(), torch.randn(3, 7) * 2)
    # GELU over a wide range, tails included (x down to -8: y tiny and negative)
    x = torch.cat([torch.randn(30) * 2, torch.linspace(-8, 8, 33)]).reshape(3, 21)
    case("gelu", nn.GELU(), x, "none")
    for k, (ks, s, p, shape) in {"a": (2, 2, 0, (2, 3, 6, 6)), "b": (3, 2, 1, (2, 3, 7, 7)),
                                 "c": (3, 1, 1, (1, 2, 5, 6))}.items():
        pool = nn.AvgPool2d(ks, s, p)
        assert pool.count_include_pad and not pool.ceil_mode  # PyTorch's defaults
        case(f"avgpool_{k}", pool, torch.randn(shape), f"{ks},{s},{p}")
    case("adaptive_avg", nn.AdaptiveAvgPool2d(1), torch.randn(2, 3, 5, 4), "1")
    case("adaptive_max", nn.AdaptiveMaxPool2d(1), distinct((2, 3, 5, 4)), "1")
    case("scale_0125", lambda t: t * 0.125, torch.randn(3, 7), "0.125")
    case("scale_m03", lambda t: t * -0.3, torch.randn(2, 2, 3, 3), "-0.3")
    # ties: values 0..2 in 3x3 planes, so most maxima repeat; PyTorch's CPU kernel keeps the first
    case("adaptive_max_ties", nn.AdaptiveMaxPool2d(1), torch.randint(0, 3, (2, 3, 3, 3)).float(), "1")
    write("layers2.safetensors", T, M)


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
    "[out,in,kh,kw], linear [out,in]), in uint64 arithmetic modulo 2^64: "
    "seed_t = 0x9E3779B97F4A7C15*(t+1), u = splitmix64(seed_t + i) where splitmix64(x): "
    "x += 0x9E3779B97F4A7C15; z = x; z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9; "
    "z = (z ^ (z >> 27)) * 0x94D049BB133111EB; return z ^ (z >> 31). "
    "Then, in double precision: r = (u >> 40) / 2^24 in [0,1), v = 2*r - 1 in [-1,1). "
    "Conv/Linear weight and bias: v/sqrt(fan_in) with fan_in = weight.numel()/weight.shape[0] "
    "(in_channels*kh*kw or in_features; the bias uses its layer's weight's fan_in). "
    "BatchNorm weight: 1 + 0.1*v. BatchNorm bias: 0.1*v. Only the final value is rounded to "
    "float32 (once). running_mean = 0, running_var = 1, num_batches_tracked = 0.")

GOLDEN = 0x9E3779B97F4A7C15
U64 = (1 << 64) - 1


def splitmix64(x):
    """Vectorised splitmix64 on a numpy uint64 array (wraps modulo 2^64)."""
    with np.errstate(over="ignore"):
        x = x + np.uint64(GOLDEN)
        z = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


assert int(splitmix64(np.zeros(1, dtype=np.uint64))[0]) == 0xE220A8397B1DCDAF  # known first output


def formula_values(t, n):
    """v in [-1, 1) (float64, exact: 24-bit fractions) for elements 0..n-1 of tensor t."""
    seed = np.uint64((GOLDEN * (t + 1)) & U64)
    with np.errstate(over="ignore"):
        u = splitmix64(seed + np.arange(n, dtype=np.uint64))
    r = (u >> np.uint64(40)).astype(np.float64) / 2.0 ** 24
    return 2 * r - 1


def formula_state(model, verbose=False):
    sd, new, t = model.state_dict(), {}, 0
    bn_names = {n for n, m in model.named_modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)}
    for name, ref in sd.items():
        mod, leaf = name.rsplit(".", 1)
        if leaf in ("weight", "bias"):
            v = formula_values(t, ref.numel())  # float64; final value rounded to f32 below
            if mod in bn_names:
                val, kind = (1 + 0.1 * v, "bn 1+0.1*v") if leaf == "weight" else (0.1 * v, "bn 0.1*v")
            else:
                w = sd[mod + ".weight"]
                fan_in = w.numel() // w.shape[0]
                val, kind = v / math.sqrt(fan_in), f"v/sqrt({fan_in})"
            new[name] = torch.from_numpy(val.astype(np.float32)).reshape(ref.shape)
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


BN_MODULES = ["features.1", "features.5", "features.9", "features.12", "features.15",
              "classifier.1", "classifier.5"]
GRAD_ROWS_MAX = 10000  # parameters up to this size: whole gradient stored; larger: leading rows
GRAD_ROWS = {"features.4.weight": 4, "features.8.weight": 2, "features.11.weight": 2,
             "features.14.weight": 2, "classifier.0.weight": 2}
OPT_PARAMS = ["features.0.weight", "features.1.weight", "classifier.8.weight", "classifier.8.bias"]
OPTIMIZERS = {
    "sgd": (lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9, weight_decay=5e-4, nesterov=False),
            "SGD(lr=0.01, momentum=0.9, weight_decay=5e-4, nesterov=False), 3 steps"),
    "sgdn": (lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9, weight_decay=0, nesterov=True),
             "SGD(lr=0.01, momentum=0.9, weight_decay=0, nesterov=True), 3 steps"),
    "adam": (lambda ps: torch.optim.Adam(ps, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0),
             "Adam(lr=1e-3, betas=(0.9,0.999), eps=1e-8, weight_decay=0), 3 steps"),
}


# ReLU and max pooling make the gradient a discontinuous function of the activations: a ReLU
# input within rounding error of 0, or a max-pool window whose two largest values are within
# rounding error of each other, can go either way in float32, and each such flip changes the
# gradients of every layer before it by ~2e-3 (relative). With torch.randn's x there are ~200 of
# these within 1e-4 of the edge in the formula state, and float32 PyTorch flips two of them. So
# x is nudged (by ~1e-4, see push_x_off_kinks) until, in the forward pass of the formula state,
# no ReLU input lies within KINK_MARGIN of 0 and no max-pool window has its two largest positive
# values within KINK_MARGIN. The ReLU inputs are BatchNorm outputs (scale ~1); float32 rounding
# errors there are ~3e-6 rms, ~4e-5 at most. (The states after optimizer steps are not covered:
# every step moves the activations by far more than the margin, and pushing x for them as well
# does not converge, see tests/reference/README.md.)
KINK_MARGIN = 1e-4


def kink_terms(model, run, margin):
    """Runs run() (a forward pass of model) while recording every ReLU and MaxPool2d input.
    Returns (run()'s result, counts, terms): per such module (in order) the number of elements
    within `margin` of a kink, and, for those within 2*margin, differentiable quantities (ReLU:
    |input|, pool: largest − second largest) whose increase moves them away from it."""
    caps = []
    hooks = [m.register_forward_hook(lambda mod, inp, out: caps.append((mod, inp[0])))
             for m in model.modules() if isinstance(m, (nn.ReLU, nn.MaxPool2d))]
    try:
        out = run()
    finally:
        for h in hooks:
            h.remove()
    counts, terms = [], []
    for mod, y in caps:
        if isinstance(mod, nn.ReLU):
            dist = y.detach().abs()
            q = y * torch.where(y.detach() >= 0, 1.0, -1.0).to(y.dtype)
        else:
            n, c, h, w = y.shape
            u = F.unfold(y.reshape(n * c, 1, h, w), mod.kernel_size, stride=mod.stride)
            top = u.detach().topk(2, dim=1)
            # windows whose second largest is 0 (ReLU'd) are either safe or a ReLU near-kink
            dist = torch.where(top.values[:, 1] > 0, top.values[:, 0] - top.values[:, 1],
                               torch.full_like(top.values[:, 0], math.inf))
            q = u.gather(1, top.indices[:, 0:1]) - u.gather(1, top.indices[:, 1:2])
            q = q.squeeze(1)
        counts.append(int((dist < margin).sum()))
        terms.append(q[dist < 2 * margin])
    return out, counts, terms


def alexnet_results(x, labels, dtype):
    """Every stored AlexNet quantity computed with `dtype` arithmetic (float32 or float64),
    starting from the float32 formula parameters and the float32 x. Returns name -> tensor of
    `dtype` (not yet rounded)."""
    x = x.to(dtype)
    model = fresh_model().to(dtype)
    P = dict(model.named_parameters())
    B = dict(model.named_buffers())
    p0 = {n: p.detach().clone() for n, p in P.items()}
    logits = model(x)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    R = {"logits": logits.detach(), "loss": loss.detach().reshape(1)}
    for n, p in P.items():
        if p.numel() <= GRAD_ROWS_MAX:
            R["grad." + n] = p.grad.clone()
        elif n in GRAD_ROWS:
            R[f"grad.{n}.rows"] = p.grad[:GRAD_ROWS[n]].clone()
    for n in BN_MODULES:
        R["running_mean." + n] = B[n + ".running_mean"].clone()
        R["running_var." + n] = B[n + ".running_var"].clone()
    for prefix, (make_opt, _) in OPTIMIZERS.items():
        m = fresh_model().to(dtype)
        opt = make_opt(m.parameters())
        losses = []
        for step in range(3):  # loss recorded before each step
            opt.zero_grad()
            if step == 0:  # same state as `model` above: reuse its gradients
                for n, p in m.named_parameters():
                    p.grad = P[n].grad.clone()
                l = loss
            else:
                l = F.cross_entropy(m(x), labels)
                l.backward()
            opt.step()
            losses.append(l.detach())
        R[prefix + ".loss"] = torch.stack(losses)
        p = dict(m.named_parameters())
        for n in OPT_PARAMS:
            R[f"{prefix}.{n}"] = p[n].detach().clone()
            R[f"{prefix}.{n}.update"] = p[n].detach() - p0[n]  # table only, not stored
    return R


def push_x_off_kinks(x):
    """Nudges the float32 x until the float64 forward pass of the formula state has no kink
    within KINK_MARGIN (see above): each round moves x along the gradient of the sum of all kink
    terms within 2*KINK_MARGIN, scaled so that on average they grow by 2*KINK_MARGIN."""
    model = fresh_model().double()
    x0 = x
    for it in range(20):
        xd = x.double().requires_grad_(True)
        _, counts, terms = kink_terms(model, lambda: model(xd), KINK_MARGIN)
        total = sum(counts)
        print(f"  round {it}: {total} kinks within {KINK_MARGIN:g} (per ReLU / MaxPool2d: {counts})")
        if total == 0:
            print(f"  max |x - randn| = {(x - x0).abs().max().item():.3g}")
            return x
        push = torch.autograd.grad(sum(t.sum() for t in terms), xd)[0]
        n = sum(t.numel() for t in terms)
        x = (xd.detach() + (2 * KINK_MARGIN * n / push.pow(2).sum().item()) * push).float()
    raise RuntimeError("could not move x off the ReLU / max-pool kinks")


def make_alexnet():
    x = torch.randn(8, 3, 32, 32)
    labels = torch.randint(0, 10, (8,))
    print("alexnet parameter formula, counting convention:")
    model = fresh_model(verbose=True)
    assert sum(p.numel() for p in model.parameters()) == 2091274
    sd0 = model.state_dict()
    print("moving x off the ReLU / max-pool kinks:")
    x = push_x_off_kinks(x)
    r64 = alexnet_results(x, labels, torch.float64)  # the stored reference
    r32 = alexnet_results(x, labels, torch.float32)  # conditioning check only
    print("conditioning: PyTorch float32 vs float64 (both from the same float32 parameters and x)")
    print(f"  {'tensor':34s} {'numel':>7s} {'|f64|':>10s} {'|f32-f64|':>10s} {'rel':>9s}")
    worst = {"formula state": 0.0, "optimizer runs": 0.0}
    for k, e in r64.items():
        d = (r32[k].double() - e).norm().item()
        n = e.norm().item()
        rel = d / n if n > 1e-12 * math.sqrt(e.numel()) else float("nan")  # nan: exactly 0
        part = "optimizer runs" if k.split(".")[0] in OPTIMIZERS else "formula state"
        if not math.isnan(rel):
            worst[part] = max(worst[part], rel)
        print(f"  {k:34s} {e.numel():7d} {n:10.3e} {d:10.3e} {rel:9.2e}")
    for part, w in worst.items():
        print(f"  worst relative difference, {part} (nonzero tensors): {w:.2e}")
    # the formula state has no kinks within KINK_MARGIN, so float32 must be close there
    assert worst["formula state"] < 1e-4, worst
    T = {"x": x, "labels": labels.float(),
         "param.features.0.weight": sd0["features.0.weight"],  # formula spot-checks
         "param.classifier.8.bias": sd0["classifier.8.bias"]}
    T.update({k: v.float() for k, v in r64.items() if not k.endswith(".update")})
    write("alexnet.safetensors", T, {
        "param_formula": PARAM_FORMULA,
        "precision": "computed in float64 (model.double(), x.double()) from the float32 formula "
                     "parameters and the float32 x, then rounded to float32",
        "x": f"torch.randn(8,3,32,32) nudged so that no ReLU input is within {KINK_MARGIN:g} of 0 "
             f"and no max-pool window has its two largest positive inputs within {KINK_MARGIN:g} "
             "in the formula state's forward pass",
        "mode": "model.train() with both Dropout modules in eval() (identity)",
        "loss": "CrossEntropyLoss, mean reduction",
        "grad_rows": ",".join(f"{n}:{k}" for n, k in GRAD_ROWS.items()),
        **{k: desc for k, (_, desc) in OPTIMIZERS.items()},
        "num_params": "2091274"})


if __name__ == "__main__":
    # Here, not at import: benchmarks/torch_step.py imports AlexNet from this file.
    torch.manual_seed(1234)
    torch.set_num_threads(1)  # single-threaded reductions: reproducible bits
    make_conv2d()
    make_linear()
    make_batchnorm()
    make_maxpool()
    make_activations()
    make_cross_entropy()
    make_alexnet()
    make_layers2()
    total = sum(os.path.getsize(os.path.join(OUT_DIR, f))
                for f in os.listdir(OUT_DIR) if f.endswith(".safetensors"))
    print(f"total {total} bytes")
    assert total < 2 * 1024 * 1024
