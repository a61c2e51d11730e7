"""Checks the ONNX files deploy_fixture wrote against ctnn's own logits of the same images.

    python3 tests/deploy/check_onnx.py DIR [--runtimes checker,opencv,onnxruntime] [--tolerance 1e-4]

For every net of DIR/manifest.json: onnx.checker (full check, with shape inference), then each
runtime's output on DIR/inputs.f32 (N normalised CIFAR-10 images) against DIR/<net>.logits.f32:
max |runtime - ctnn| / max |ctnn| must be <= tolerance, and every image's arg-max must agree.
A runtime that cannot be imported is reported and makes the exit code 77 (skipped) unless another
check failed (1). Every comparison prints one line.
"""
import argparse, json, os, sys

import numpy as np


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--runtimes", default="checker,opencv,onnxruntime")
    p.add_argument("--tolerance", type=float, default=1e-4)
    a = p.parse_args()
    man = json.load(open(os.path.join(a.dir, "manifest.json")))
    n = man["n"]
    x = np.fromfile(os.path.join(a.dir, "inputs.f32"), np.float32).reshape(n, 3, 32, 32)
    print(f"inputs: {n} images ({man['source']})")
    runtimes = a.runtimes.split(",")
    failed, missing = False, []

    def compare(net, runtime, y, ref):
        nonlocal failed
        y = np.asarray(y, np.float32).reshape(ref.shape)
        rel = float(np.abs(y - ref).max() / np.abs(ref).max())
        same_top1 = bool((y.argmax(1) == ref.argmax(1)).all())
        ok = rel <= a.tolerance and same_top1
        failed |= not ok
        print(f"{net:8s} {runtime:12s} max|diff|/max|ctnn| = {rel:.2e} (max|ctnn| = {np.abs(ref).max():.3g}), "
              f"top-1 {'agrees' if same_top1 else 'DIFFERS'}: {'ok' if ok else 'FAIL'}")

    for net in man["nets"]:
        path = os.path.join(a.dir, net + ".onnx")
        ref = np.fromfile(os.path.join(a.dir, net + ".logits.f32"), np.float32).reshape(n, -1)
        if "checker" in runtimes:
            try:
                import onnx
            except ImportError as e:
                missing.append(f"onnx ({e})")
            else:
                m = onnx.load(path)
                onnx.checker.check_model(m, full_check=True)
                ops = sorted({node.op_type for node in m.graph.node})
                print(f"{net:8s} checker      ok: opset {m.opset_import[0].version}, {len(m.graph.node)} nodes "
                      f"({', '.join(ops)}), {len(m.graph.initializer)} initializers")
        if "opencv" in runtimes:
            try:
                import cv2
            except ImportError as e:
                missing.append(f"cv2 ({e})")
            else:
                cvnet = cv2.dnn.readNetFromONNX(path)
                cvnet.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
                cvnet.setInput(x)
                compare(net, f"opencv {cv2.__version__}", cvnet.forward(), ref)
        if "onnxruntime" in runtimes:
            try:
                import onnxruntime as ort
            except ImportError as e:
                missing.append(f"onnxruntime ({e})")
            else:
                so = ort.SessionOptions()
                so.intra_op_num_threads = 2
                sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
                y = sess.run(None, {sess.get_inputs()[0].name: x})[0]
                compare(net, f"ort {ort.__version__}", y, ref)
    if failed:
        print("check_onnx: FAIL")
        return 1
    if missing:
        print("check_onnx: SKIP (not importable: " + "; ".join(sorted(set(missing))) + ")")
        return 77
    print("check_onnx: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
