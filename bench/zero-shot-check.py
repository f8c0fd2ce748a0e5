"""Recompute zero-shot retrieval metrics from exported embeddings, independently of akin.

Usage:
    npx akin embed --run RUN --input t10k-images-idx3-ubyte.gz --output test-emb.npy
    python3 bench/zero-shot-check.py test-emb.npy t10k-labels-idx1-ubyte.gz --classes 5 6 7 8 9

The first argument may also be an IDX image file (raw pixels as the embedding), optionally
average-pooled with --pool N (the raw-pixel baselines of the zero-shot table):
    python3 bench/zero-shot-check.py t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz --classes 5 6 7 8 9 --pool 4

Needs only numpy. Query = reference, self-match excluded, cosine similarity, k = R for each query
(R = number of other points with the query's label). Prints precision@1, R-precision and MAP@R as
A Metric Learning Reality Check defines them.
"""

import argparse
import gzip

import numpy as np


def read_idx(path, magic, what):
    """An IDX file's header sizes and its uint8 payload."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    found = int.from_bytes(data[0:4], "big")
    if found != magic:
        raise SystemExit(f"{path}: not an IDX {what} file (magic {found})")
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(data[3])]
    return dims, np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * len(dims), count=int(np.prod(dims)))


def read_idx_labels(path):
    return read_idx(path, 2049, "label")[1].astype(np.int64)


def read_idx_images(path, pool):
    (n, h, w), pixels = read_idx(path, 2051, "image")
    if h % pool or w % pool:
        raise SystemExit(f"--pool {pool} does not divide the {h}x{w} images")
    x = pixels.reshape(n, h, w) / 255.0
    return x.reshape(n, h // pool, pool, w // pool, pool).mean(axis=(2, 4)).reshape(n, -1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("embeddings", help=".npy of shape [n, dim] in the label file's order, or an IDX image file")
    ap.add_argument("labels", help="IDX label file (optionally .gz)")
    ap.add_argument("--classes", type=int, nargs="*", help="keep only these labels")
    ap.add_argument("--pool", type=int, default=1, help="average-pool IDX images by this factor first")
    args = ap.parse_args()

    if args.embeddings.endswith(".npy"):
        x = np.load(args.embeddings).astype(np.float64)
    else:
        x = read_idx_images(args.embeddings, args.pool)
    y = read_idx_labels(args.labels)
    if x.shape[0] != y.shape[0]:
        raise SystemExit(f"{x.shape[0]} embeddings but {y.shape[0]} labels")
    if args.classes:
        keep = np.isin(y, args.classes)
        x, y = x[keep], y[keep]
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    sim = x @ x.T
    np.fill_diagonal(sim, -np.inf)

    p1, rprec, map_r = [], [], []
    for i in range(x.shape[0]):
        r = int(np.sum(y == y[i])) - 1
        if r == 0:
            continue
        order = np.argsort(-sim[i], kind="stable")[:r]
        rel = (y[order] == y[i]).astype(np.float64)
        p1.append(rel[0])
        rprec.append(rel.sum() / r)
        hits = np.cumsum(rel)
        map_r.append(np.sum(rel * hits / np.arange(1, r + 1)) / r)
    print(f"n {x.shape[0]}  precision@1 {np.mean(p1):.4f}  R-precision {np.mean(rprec):.4f}  MAP@R {np.mean(map_r):.4f}")


if __name__ == "__main__":
    main()
