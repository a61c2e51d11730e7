#!/usr/bin/python3
"""Load a ctnn checkpoint (examples/alexnet_cifar10's or resnet9_cifar10's checkpoint.safetensors)
into the same net in PyTorch and evaluate it on the CIFAR-10 test set: same accuracy => same
layout and semantics. ResNet-9 (metadata model=resnet9) is tests/tools/resnet9_torch.py's module.

    /usr/bin/python3 tests/tools/torch_eval_checkpoint.py runs/alexnet/checkpoint.safetensors \
        [--data DIR] [--limit-test N] [--limit-train N] [--expect ACC [--tolerance 0.1]]

Needs only torch + numpy (the safetensors file is parsed by hand). Exit 1 if --expect misses.
"""
import argparse, gzip, json, os, struct, sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPES = {"F32": "<f4", "I64": "<i8"}


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta, data = header.pop("__metadata__", {}), raw[8 + n:]
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        a = np.frombuffer(data[b:e], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
        out[name] = torch.from_numpy(a.copy())
    return out, meta


def make_net(preset):
    """ctnn's models/alexnet_cifar.hpp as nn.Sequential, so state_dict names match."""
    bn = preset != "pure"
    drop = preset not in ("pure", "bn")
    def block(conv, c, *rest):
        return [conv] + ([nn.BatchNorm2d(c)] if bn else []) + [nn.ReLU()] + list(rest)
    features = (block(nn.Conv2d(3, 96, 3, 1, 1), 96, nn.MaxPool2d(2, 2))
                + block(nn.Conv2d(96, 128, 5, 1, 2), 128, nn.MaxPool2d(2, 1))
                + block(nn.Conv2d(128, 256, 3), 256)
                + block(nn.Conv2d(256, 256, 3, 1, 1), 256)
                + block(nn.Conv2d(256, 128, 3, 1, 1), 128, nn.MaxPool2d(3, 2)))
    def fc(i, o):
        return ([nn.Linear(i, o)] + ([nn.BatchNorm1d(o)] if bn else []) + [nn.ReLU()]
                + ([nn.Dropout()] if drop else []))
    classifier = fc(4608, 128) + fc(128, 64) + [nn.Linear(64, 10)]
    model = nn.Sequential()
    model.add_module("features", nn.Sequential(*features))
    model.add_module("flatten", nn.Flatten())
    model.add_module("classifier", nn.Sequential(*classifier))
    return model


def read_cifar(data_dir, names, limit):
    """First `limit` (0 = all) records of the files; .bin wins over .bin.gz, as in ctnn."""
    labels, images = [], []
    for name in names:
        if limit and sum(map(len, labels)) >= limit:
            break
        path = os.path.join(data_dir, name + ".bin")
        opener = open if os.path.exists(path) else gzip.open
        with opener(path if os.path.exists(path) else path + ".gz", "rb") as f:
            rec = np.frombuffer(f.read(), dtype=np.uint8).reshape(-1, 3073)
        labels.append(rec[:, 0].astype(np.int64))
        images.append(rec[:, 1:].reshape(-1, 3, 32, 32))
    y, x = np.concatenate(labels), np.concatenate(images)
    return (x[:limit], y[:limit]) if limit else (x, y)


def main():
    default_data = next((d for d in (os.environ.get("CTNN_DATA", ""), "/work/shared/data/cifar10",
                                     "../shared/data/cifar10") if d and os.path.isdir(d)), "/work/shared/data/cifar10")
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint")
    p.add_argument("--data", default=default_data)
    p.add_argument("--limit-test", type=int, default=0, help="first N test images (0 = all)")
    p.add_argument("--limit-train", type=int, default=0,
                   help="first N training images for mean/std when the checkpoint has none (0 = all)")
    p.add_argument("--expect", type=float, help="expected test accuracy (%%)")
    p.add_argument("--tolerance", type=float, default=0.1, help="percentage points")
    a = p.parse_args()

    state, meta = load_safetensors(a.checkpoint)
    preset = meta.get("preset", "best")
    if meta.get("model") == "resnet9":
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from resnet9_torch import make_resnet9
        model = make_resnet9()
    else:
        model = make_net(preset)
    wanted = model.state_dict()
    dropped = sorted(k for k in state if k not in wanted)
    model.load_state_dict({k: v for k, v in state.items() if k in wanted}, strict=True)
    model.eval()
    print(f"checkpoint: {a.checkpoint}\npreset: {preset}")
    print(f"tensors loaded: {len(wanted)} (strict); dropped: {', '.join(dropped) or 'none'}")

    if "normalize.mean" in meta and "normalize.std" in meta:
        mean = np.array([float(v) for v in meta["normalize.mean"].split(",")], np.float32)
        std = np.array([float(v) for v in meta["normalize.std"].split(",")], np.float32)
        print("normalize: from checkpoint metadata")
    else:  # as data::Normalize::from: per-channel mean, population std, in [0,1] units
        xt, _ = read_cifar(a.data, [f"data_batch_{i}" for i in range(1, 6)], a.limit_train)
        px = xt.transpose(1, 0, 2, 3).reshape(3, -1).astype(np.float64)
        mean, std = (px.mean(1) / 255).astype(np.float32), (px.std(1) / 255).astype(np.float32)
        print(f"normalize: not in checkpoint, computed over the first {len(xt)} training images")
    print(f"  mean={','.join(f'{v:.6g}' for v in mean)} std={','.join(f'{v:.6g}' for v in std)}")
    # ctnn's render_image: x = pixel * (1/(255 std)) + (-mean/std), all float32
    scale = torch.from_numpy(np.float32(1) / (np.float32(255) * std)).view(1, 3, 1, 1)
    bias = torch.from_numpy(-mean / std).view(1, 3, 1, 1)

    x, y = read_cifar(a.data, ["test_batch"], a.limit_test)
    correct, loss = 0, 0.0
    with torch.no_grad():
        for i in range(0, len(y), 500):
            xb = torch.from_numpy(x[i:i + 500].astype(np.float32)) * scale + bias
            yb = torch.from_numpy(y[i:i + 500])
            logits = model(xb)
            loss += F.cross_entropy(logits, yb, reduction="sum").item()
            correct += (logits.argmax(1) == yb).sum().item()
    acc = 100.0 * correct / len(y)
    print(f"test images: {len(y)} from {a.data}")
    print(f"torch test_acc={acc:.2f} test_loss={loss / len(y):.4f}")
    if a.expect is not None:
        ok = abs(acc - a.expect) <= a.tolerance
        print(f"expect {a.expect:.2f} +- {a.tolerance}: {'OK' if ok else 'MISMATCH'}")
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
