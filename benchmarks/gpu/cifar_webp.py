#!/usr/bin/env python3
"""Lossless repacking of CIFAR-10 binary batches for a size-limited transfer (the lent GPU machine
takes at most 64 MiB per call, the gzip'd batches are 174 MB; WebP lossless mosaics are 15 MB per
10,000 images, so the whole set travels in two calls). Round trip is checked bit for bit.

  cifar_webp.py pack   SRC_DIR DST_DIR [name ...]   data_batch_N.bin[.gz] -> name.webp + name.labels
  cifar_webp.py unpack SRC_DIR DST_DIR              every name.webp -> name.bin (official layout)
"""
import gzip
import pathlib
import sys

import numpy as np
from PIL import Image

REC, SIDE = 3073, 100  # record bytes; mosaic of SIDE x SIDE images of 32 x 32


def read_batch(path: pathlib.Path) -> np.ndarray:
    raw = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
    return np.frombuffer(raw, np.uint8).reshape(-1, REC)


def pack(src: pathlib.Path, dst: pathlib.Path, names):
    dst.mkdir(parents=True, exist_ok=True)
    for name in names:
        path = next(p for p in (src / f"{name}.bin", src / f"{name}.bin.gz") if p.exists())
        rec = read_batch(path)
        n = len(rec)
        rows = -(-n // SIDE)
        img = np.zeros((rows * SIDE, 32, 32, 3), np.uint8)
        img[:n] = rec[:, 1:].reshape(n, 3, 32, 32).transpose(0, 2, 3, 1)
        mosaic = img.reshape(rows, SIDE, 32, 32, 3).transpose(0, 2, 1, 3, 4).reshape(rows * 32, SIDE * 32, 3)
        Image.fromarray(mosaic).save(dst / f"{name}.webp", "WEBP", lossless=True, quality=100, method=6)
        (dst / f"{name}.labels").write_bytes(rec[:, 0].tobytes())
        assert (unpack_one(dst, name) == rec).all(), f"{name}: round trip differs"
        print(f"{name}: {n} images, {(dst / f'{name}.webp').stat().st_size / 1e6:.1f} MB", flush=True)


def unpack_one(src: pathlib.Path, name: str) -> np.ndarray:
    labels = np.frombuffer((src / f"{name}.labels").read_bytes(), np.uint8)
    n = len(labels)
    mosaic = np.array(Image.open(src / f"{name}.webp").convert("RGB"))
    rows = mosaic.shape[0] // 32
    img = mosaic.reshape(rows, 32, SIDE, 32, 3).transpose(0, 2, 1, 3, 4).reshape(-1, 32, 32, 3)[:n]
    out = np.empty((n, REC), np.uint8)
    out[:, 0] = labels
    out[:, 1:] = img.transpose(0, 3, 1, 2).reshape(n, 3072)
    return out


def main():
    if len(sys.argv) < 4 or sys.argv[1] not in ("pack", "unpack"):
        sys.exit(__doc__)
    src, dst = pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
    if sys.argv[1] == "pack":
        names = sys.argv[4:] or [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
        pack(src, dst, names)
    else:
        dst.mkdir(parents=True, exist_ok=True)
        for w in sorted(src.glob("*.webp")):
            (dst / f"{w.stem}.bin").write_bytes(unpack_one(src, w.stem).tobytes())
            print(f"{w.stem}.bin", flush=True)


if __name__ == "__main__":
    main()
