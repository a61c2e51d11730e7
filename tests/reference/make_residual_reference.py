#!/usr/bin/python3
"""PyTorch references for Residual blocks and grouped convolutions (tests/test_residual_pytorch.cpp).

Run from the repository root with Debian's python (torch 1.13):

    /usr/bin/python3 tests/reference/make_residual_reference.py

Writes tests/reference/residual.safetensors:
  * g2.*, dw.*: one Conv2d with groups=2 (bias) and a depthwise one (groups=in_channels, no bias):
    x, weight, bias, y, dy, dx, dweight, dbias for loss = sum(y * dy), float32 as PyTorch computes.
  * net.*: a small residual net (ResidualNet below: an identity block with a grouped convolution,
    a projection block with a depthwise convolution, BatchNorm inside both branches), in train
    mode: its state_dict (PyTorch names: these must be ctnn's names), x, labels, logits, the
    cross-entropy loss, d(loss)/dx, every parameter's gradient, the running statistics after the
    forward, the parameters after one SGD step (lr 0.1, momentum 0.9, nesterov, weight decay 5e-4)
    and the eval-mode logits after that step. Computed in float64 from float32 parameters and
    inputs (model.double()), then rounded to float32.
  * metadata resnet9.names / resnet9.shapes / resnet9.num_params: the state_dict of
    tests/tools/resnet9_torch.py's ResNet-9 (names and shapes ctnn's ResNet9 must have).
"""
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_reference import fwd_bwd, write  # noqa: E402  (same file format and checks)


class Residual(nn.Module):
    """ctnn::Residual<Body, Projection>: body(x) + (x or shortcut(x)); attribute names as in ctnn."""

    def __init__(self, body, shortcut=None):
        super().__init__()
        self.body = body
        self.shortcut = shortcut

    def forward(self, x):
        return self.body(x) + (x if self.shortcut is None else self.shortcut(x))


def residual_net():
    """The C++ test's ResidualNet, module for module."""
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        Residual(nn.Sequential(
            nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
            nn.Conv2d(8, 8, 3, padding=1, groups=4, bias=False), nn.BatchNorm2d(8))),
        nn.ReLU(),
        Residual(nn.Sequential(
            nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
            nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=True)),
            nn.Sequential(nn.Conv2d(8, 16, 1, stride=2, bias=False), nn.BatchNorm2d(16))),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 5))


def make_grouped():
    T, M = {}, {}
    for key, (cin, cout, k, s, p, groups, bias, shape) in {
        "g2": (4, 6, 3, 1, 1, 2, True, (2, 4, 5, 5)),
        "dw": (6, 6, 3, 2, 1, 6, False, (2, 6, 7, 7)),
    }.items():
        conv = nn.Conv2d(cin, cout, k, stride=s, padding=p, groups=groups, bias=bias)
        x = torch.randn(shape)
        y, dy, dx = fwd_bwd(conv, x)
        T.update({f"{key}.x": x, f"{key}.weight": conv.weight.detach().clone(), f"{key}.y": y,
                  f"{key}.dy": dy, f"{key}.dx": dx, f"{key}.dweight": conv.weight.grad})
        if bias:
            T.update({f"{key}.bias": conv.bias.detach().clone(), f"{key}.dbias": conv.bias.grad})
        M[f"{key}.config"] = f"{cin},{cout},{k},{s},{p},{int(bias)},{groups}"
    return T, M


def make_net():
    net = residual_net()
    with torch.no_grad():  # non-trivial BatchNorm affine parameters
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    state = {k: v.detach().clone() for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    x = torch.randn(4, 3, 8, 8)
    labels = torch.tensor([0, 3, 1, 4])
    net = net.double()
    net.train()
    xd = x.double().requires_grad_(True)
    logits = net(xd)
    loss = nn.functional.cross_entropy(logits, labels)
    loss.backward()
    T = {"net.x": x, "net.labels": labels.float(), "net.logits": logits.detach().float(),
         "net.loss": loss.detach().reshape(1).float(), "net.dx": xd.grad.float()}
    for k, v in state.items():
        T[f"net.state.{k}"] = v
    for k, p in net.named_parameters():
        T[f"net.grad.{k}"] = p.grad.float()
    for k, b in net.named_buffers():
        if not k.endswith("num_batches_tracked"):
            T[f"net.after_forward.{k}"] = b.detach().float()
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    opt.step()
    for k, p in net.named_parameters():
        T[f"net.after_step.{k}"] = p.detach().float()
    net.eval()
    with torch.no_grad():
        T["net.eval_logits"] = net(x.double()).float()
    M = {"net.names": ",".join(state.keys()),
         "net.num_params": str(sum(p.numel() for p in net.parameters())),
         "net.optimizer": "SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4), one step",
         "net.precision": "float64 from float32 parameters and x, rounded to float32"}
    return T, M


def resnet9_metadata():
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
    from resnet9_torch import make_resnet9
    net = make_resnet9()
    state = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    return {"resnet9.names": ",".join(state),
            "resnet9.shapes": ";".join("x".join(str(d) for d in v.shape) for v in state.values()),
            "resnet9.num_params": str(sum(p.numel() for p in net.parameters()))}


if __name__ == "__main__":
    torch.manual_seed(1313)
    torch.set_num_threads(1)
    T, M = make_grouped()
    T2, M2 = make_net()
    T.update(T2), M.update(M2)
    M.update(resnet9_metadata())
    M["generator"] = "tests/reference/make_residual_reference.py, torch " + torch.__version__
    write("residual.safetensors", T, M)
