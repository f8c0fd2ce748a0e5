#!/usr/bin/python3
"""Exact k-NN over the same float32 rows with faiss IndexFlatIP (batch search, all rows as queries).

usage: knn-faiss.py DATA_FILE N DIM K OUT_INDICES_FILE
Prints one JSON line: seconds (index build + search), maxRSS in KB, faiss threads.
"""
import json
import resource
import sys
import time

import numpy as np
import faiss

path, n, dim, k, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
x = np.fromfile(path, dtype=np.float32).reshape(n, dim)
t0 = time.perf_counter()
index = faiss.IndexFlatIP(dim)
index.add(x)
scores, indices = index.search(x, k)
seconds = time.perf_counter() - t0
indices.astype(np.int32).tofile(out)
print(json.dumps({
    "engine": "faiss",
    "seconds": seconds,
    "maxRSS": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "threads": faiss.omp_get_max_threads(),
}))
