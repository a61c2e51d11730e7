#!/usr/bin/python3
"""Times the seed AlexNet in PyTorch with the protocol of benchmarks/step_timer.cpp.

    /usr/bin/python3 benchmarks/torch_step.py --mode train|infer [--batch 128]
        [--precision f32|bf16] [--iters 5] [--warmup 1] [--threads N] [--channels-last]

The net is tests/reference/make_reference.py's AlexNet (copied here so this file stands
alone). train: forward, CrossEntropyLoss, backward, SGD(lr 0.01, momentum 0.9) step, training
mode (Dropout active). infer: eval mode under torch.no_grad(). bf16: the same under
torch.autocast('cpu', dtype=torch.bfloat16). Prints one line of key=value pairs:

    torch mode=train batch=128 precision=f32 iters=5 images_per_s=... ms_per_iter=... peak_rss_kib=...

or status=unavailable with the error (exit status 3). peak_rss_kib is
resource.getrusage(RUSAGE_SELF).ru_maxrss of this process (torch itself included); run one
mode per process to attribute it. --channels-last puts the model and the input in
torch.channels_last memory format, which PyTorch's performance guide recommends for
convolutional nets on CPU (it lets oneDNN keep NHWC without reorders); compare_pytorch.sh uses
it for the current PyTorch from pip (it also runs under Python 3.11 from a virtual environment,
where the shebang's Debian python is not the interpreter).
"""
import argparse
import contextlib
import os
import resource
import sys
import time

import torch
import torch.nn as nn


# The seed net exactly as the PyTorch references define it (one definition for both).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
from make_reference import AlexNet  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["train", "infer"], default="train")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--precision", choices=["f32", "bf16"], default="f32")
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int,
                    default=int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1)))
    ap.add_argument("--channels-last", action="store_true")
    a = ap.parse_args()

    torch.manual_seed(1)
    torch.set_num_threads(a.threads)
    print(f"torch mode={a.mode} batch={a.batch} precision={a.precision} iters={a.iters} "
          f"version={torch.__version__} channels_last={int(a.channels_last)} ", end="", flush=True)
    try:
        model = AlexNet()
        loss_fn = nn.CrossEntropyLoss()
        x = torch.rand(a.batch, 3, 32, 32) * 2 - 1
        t = torch.randint(0, 10, (a.batch,))
        if a.channels_last:
            model = model.to(memory_format=torch.channels_last)
            x = x.contiguous(memory_format=torch.channels_last)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

        def cast():
            if a.precision == "bf16":
                return torch.autocast("cpu", dtype=torch.bfloat16)
            return contextlib.nullcontext()

        if a.mode == "train":
            model.train()

            def once():
                opt.zero_grad(set_to_none=True)
                with cast():
                    loss = loss_fn(model(x), t)
                loss.backward()
                opt.step()
        else:
            model.eval()

            def once():
                with torch.no_grad(), cast():
                    y = model(x)
                if not torch.isfinite(y[0, 0]):
                    print("non-finite output", file=sys.stderr)

        for _ in range(max(a.warmup, 1)):
            once()
        t0 = time.perf_counter()
        for _ in range(a.iters):
            once()
        s = time.perf_counter() - t0
    except Exception as e:  # e.g. bf16 kernels missing on this CPU
        why = " ".join(str(e).split()).replace('"', "'")[:300]
        print(f'status=unavailable error="{type(e).__name__}: {why}"')
        return 3
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"images_per_s={a.batch * a.iters / s:.2f} ms_per_iter={1e3 * s / a.iters:.1f} peak_rss_kib={rss}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
