#!/usr/bin/python3
"""ctnn's ResNet-9 (include/ctnn/models/resnet9.hpp) in PyTorch, module for module, so that
state_dict names and shapes are ctnn's checkpoint names.

    /usr/bin/python3 tests/tools/resnet9_torch.py            # parameter count and names
    /usr/bin/python3 tests/tools/resnet9_torch.py --check build/examples/resnet9_cifar10
        # also runs `resnet9_cifar10 --summary` and compares its "Total params" line

torch_eval_checkpoint.py uses make_resnet9() to load a resnet9_cifar10 checkpoint strictly.
"""
import argparse
import re
import subprocess
import sys

import torch.nn as nn


class Residual(nn.Module):
    """ctnn::Residual<Body>: x + body(x), the body as attribute `body`."""

    def __init__(self, body):
        super().__init__()
        self.body = body

    def forward(self, x):
        return x + self.body(x)


class Mul(nn.Module):
    """ctnn::Scale<factor>."""

    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x * self.factor


def conv_bn(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


def make_resnet9():
    return nn.Sequential(
        *conv_bn(3, 64),
        *conv_bn(64, 128), nn.MaxPool2d(2), Residual(nn.Sequential(*conv_bn(128, 128), *conv_bn(128, 128))),
        *conv_bn(128, 256), nn.MaxPool2d(2),
        *conv_bn(256, 512), nn.MaxPool2d(2), Residual(nn.Sequential(*conv_bn(512, 512), *conv_bn(512, 512))),
        nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(512, 10, bias=False), Mul(0.125))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--check", metavar="RESNET9_CIFAR10", help="compare with this binary's --summary")
    a = p.parse_args()
    net = make_resnet9()
    count = sum(t.numel() for t in net.parameters())
    print(f"torch ResNet-9 parameters: {count:,}")
    print("state_dict:", ", ".join(f"{k}{list(v.shape)}" for k, v in net.state_dict().items()
                                   if not k.endswith("num_batches_tracked")))
    if a.check:
        out = subprocess.run([a.check, "--summary"], check=True, capture_output=True, text=True).stdout
        ours = int(re.search(r"Total params: ([\d,]+)", out).group(1).replace(",", ""))
        print(f"ctnn --summary: {ours:,} -> {'same' if ours == count else 'DIFFERENT'}")
        return 0 if ours == count else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
