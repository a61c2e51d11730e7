"""Checks examples/classify against PyTorch (CTest classify_cli, via classify_check.sh).

    /usr/bin/python3 tests/deploy/classify_check.py FIXTURE_DIR CLASSIFY

FIXTURE_DIR is deploy_fixture's output: checkpoints of the example's three AlexNets (alexnet,
alexnet_bn, alexnet_pure) and of ResNet-9 (random weights, the input normalisation) and images.u8 (CIFAR-10 test
images, CHW). Four images are written as PNG (OpenCV, lossless); for each net, classify must tell
the net from the file's tensors and print, per image, 5 classes whose probabilities equal PyTorch's
softmax of the same net with the same weights on the same pixels (tests/tools/torch_eval_checkpoint.py
builds the net) within 2e-5, in PyTorch's order up to ties within that tolerance. An upscaled 64x48
copy must be resized and still print 5 classes; --onnx must write the net. A PyTorch state_dict
(saved in the safetensors layout, no metadata) must load too, with --mean/--std. Bad inputs (missing file,
not an image, weights of another net) must end with exit code 2 and say what is wrong.
"""
import json, os, re, struct, subprocess, sys

import cv2
import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from torch_eval_checkpoint import load_safetensors, make_net  # noqa: E402
from resnet9_torch import make_resnet9  # noqa: E402

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
LINE = re.compile(r"^\s+(\d+)\.\s+(\S+)\s+([0-9.]+)$")
failures = []


def check(ok, what):
    print(("ok:   " if ok else "FAIL: ") + what)
    if not ok:
        failures.append(what)


def classify(exe, *args):
    r = subprocess.run([exe, *args], capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


def save_safetensors(path, state):
    """A PyTorch state_dict in the safetensors layout, without metadata (as safetensors.torch.save_file)."""
    header, blobs, off = {}, [], 0
    for k, t in state.items():
        a = t.detach().contiguous().numpy()
        b = a.tobytes()
        header[k] = {"dtype": {"float32": "F32", "int64": "I64"}[str(a.dtype)], "shape": list(a.shape),
                     "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def check_net(exe, weights, images, paths, preset=None, mean=None, std=None):
    """classify's top-5 of `paths` (PNGs of `images`) = PyTorch's softmax with the same weights.
    The net and normalisation come from the file's metadata, or from preset/mean/std (strings)."""
    state, meta = load_safetensors(weights)
    preset = preset or meta["preset"]
    net = make_resnet9() if preset == "resnet9" else make_net(preset)
    wanted = net.state_dict()
    net.load_state_dict({k: v for k, v in state.items() if k in wanted}, strict=True)
    net.eval()
    args = ["--mean", mean, "--std", std] if mean else []
    mean = np.array([float(v) for v in (mean or meta["normalize.mean"]).split(",")], np.float32)
    std = np.array([float(v) for v in (std or meta["normalize.std"]).split(",")], np.float32)
    scale = torch.from_numpy(np.float32(1) / (np.float32(255) * std)).view(1, 3, 1, 1)
    bias = torch.from_numpy(-mean / std).view(1, 3, 1, 1)
    with torch.no_grad():
        probs = torch.softmax(net(torch.from_numpy(images.astype(np.float32)) * scale + bias).double(), 1).numpy()
    rc, out, err = classify(exe, "--weights", weights, *args, *paths)
    print(f"-- {os.path.basename(weights)} (preset {preset})\n" + out, end="")
    check(rc == 0, f"classify exits 0 on {len(paths)} PNG images (rc={rc}{', ' + err.strip() if err else ''})")
    blocks = out.split("\n")
    for i, p in enumerate(paths):
        head = [k for k, l in enumerate(blocks) if l.startswith(p + " ")]
        if not head:
            check(False, f"{p}: no output block")
            continue
        rows = [LINE.match(l) for l in blocks[head[0] + 1:head[0] + 6]]
        check(all(rows) and len(rows) == 5, f"{p}: 5 ranked classes printed")
        if not all(rows):
            continue
        got = [(m.group(2), float(m.group(3))) for m in rows]
        worst = max(abs(prob - probs[i][CLASSES.index(c)]) for c, prob in got)
        sixth = np.sort(probs[i])[::-1][5]
        in_top5 = all(prob >= sixth - 2e-5 for _, prob in got)
        ordered = all(got[k][1] >= got[k + 1][1] for k in range(4))
        check(worst <= 2e-5 and in_top5 and ordered,
              f"{p}: probabilities = PyTorch's within {worst:.1e} (<= 2e-5), PyTorch's top 5, most probable first")


def main():
    d, exe = sys.argv[1], sys.argv[2]
    man = json.load(open(os.path.join(d, "manifest.json")))
    n = man["n"]
    images = np.fromfile(os.path.join(d, "images.u8"), np.uint8).reshape(n, 3, 32, 32)
    labels = np.fromfile(os.path.join(d, "labels.u8"), np.uint8)
    paths = []
    for i in range(4):
        p = os.path.join(d, f"test{i}_{CLASSES[labels[i]]}.png")
        cv2.imwrite(p, images[i].transpose(1, 2, 0)[:, :, ::-1])  # CHW RGB -> HWC BGR, as OpenCV writes
        paths.append(p)
    # The three AlexNets of examples/alexnet_cifar10 and ResNet-9; classify tells them apart by their tensors.
    for net_name in ("alexnet", "alexnet_bn", "alexnet_pure", "resnet9"):
        check_net(exe, os.path.join(d, net_name + ".safetensors"), images, paths)
    # A PyTorch state_dict (torch's own initialisation, BatchNorm statistics from two training-mode
    # passes), no metadata: classify tells the net from the tensors, the normalisation is --mean/--std.
    torch.manual_seed(0)
    tnet = make_net("bn")
    with torch.no_grad():
        tnet.train()
        for _ in range(2):
            tnet(torch.from_numpy(images.astype(np.float32)) / 255 - 0.5)
    save_safetensors(os.path.join(d, "torch_bn.safetensors"), tnet.state_dict())
    check_net(exe, os.path.join(d, "torch_bn.safetensors"), images, paths[:2], preset="bn",
              mean="0.5,0.45,0.4", std="0.25,0.24,0.26")
    weights = os.path.join(d, "alexnet.safetensors")

    big = os.path.join(d, "big.png")
    cv2.imwrite(big, cv2.resize(cv2.imread(paths[0]), (64, 48), interpolation=cv2.INTER_NEAREST))
    rc, out, err = classify(exe, "--weights", weights, big)
    check(rc == 0 and "(64x48, resized to 32x32)" in out and len([l for l in out.split("\n") if LINE.match(l)]) == 5,
          "a 64x48 image is resized and gets 5 classes")

    exported = os.path.join(d, "classify.onnx")
    rc, out, err = classify(exe, "--weights", weights, "--onnx", exported)
    if "no ONNX export" in err:
        print("skip: --onnx (this build has no ONNX export)")
    else:
        same = False
        try:
            import onnx
            a, b = onnx.load(exported), onnx.load(os.path.join(d, "alexnet.onnx"))
            same = ([n.op_type for n in a.graph.node] == [n.op_type for n in b.graph.node] and
                    all(x.SerializeToString() == y.SerializeToString()
                        for x, y in zip(a.graph.initializer, b.graph.initializer)))
        except ImportError:
            same = os.path.getsize(exported) > 0
        check(rc == 0 and same, "--onnx writes the net: the nodes and weights of deploy_fixture's alexnet.onnx")

    bad = [("missing image", ["--weights", weights, os.path.join(d, "nope.png")], "image '"),
           ("not an image", ["--weights", weights, os.path.join(d, "manifest.json")], "cannot decode it"),
           ("missing weights", ["--weights", os.path.join(d, "nope.safetensors"), paths[0]], "nope.safetensors"),
           ("weights of another net", ["--weights", os.path.join(d, "zoo.safetensors"), paths[0]],
            "weights do not match the network")]
    for what, args, expect in bad:
        rc, out, err = classify(exe, *args)
        first = err.strip().split("\n")[0] if err.strip() else ""
        check(rc == 2 and expect in err, f"{what}: exit 2 and '{expect}' in: {first[:150]}")
    rc, out, err = classify(exe, "--weights", os.path.join(d, "zoo.safetensors"), paths[0])
    check("mis-shaped: " in err or "missing: " in err, "another net's weights: the tensors are named")
    print("classify_check: " + ("FAIL" if failures else "PASS"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
