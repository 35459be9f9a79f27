#!/usr/bin/env python3
"""Whole-engine replay throughput on the real front line, beside what a user would otherwise write (Python: the json
module to read the same file, and scipy's cKDTree + connected components for the same space-time linking), in one run.

    python3 scripts/bench_engine.py --guarantor .build/release/guarantor [--observations 1000000]

Observations: explosions from one acoustic array (uncertainty 50 m, so each one is precise enough to found an
incident), uniform over 30 days in a box around the line (lon 32.5–40, lat 46.3–50.5), seed 1. Guarantor's figure is
the whole `guarantor replay` command: read and validate the file, classify, correlate, grade, adjudicate, attribute,
write five files. The peer does only parsing and linking (no validation, classification, grading or output), so
the ratio flatters the peer.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

PARTIES = ["--party", "UA=35.0462,48.4647", "--party", "RU=39.3078,48.5740"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--guarantor", required=True)
    ap.add_argument("--observations", type=int, default=1_000_000)
    ap.add_argument("--data", default=os.environ.get("GUARANTOR_DATA", os.path.join(os.path.dirname(__file__), "../../shared/data")))
    args = ap.parse_args()
    line = os.path.join(args.data, "front-line-derived/front_line_20251201.geojson")
    oblasts = os.path.join(args.data, "ukraine-admin-boundaries/geoBoundaries-UKR-ADM1_simplified.geojson")
    if not os.path.exists(line):
        sys.exit(f"real data not found in {args.data}: set GUARANTOR_DATA to the shared/data directory")
    n = args.observations
    rng = np.random.default_rng(1)
    lon = rng.uniform(32.5, 40.0, n)
    lat = rng.uniform(46.3, 50.5, n)
    seconds = np.sort(rng.uniform(0, 30 * 86_400, n))
    with tempfile.TemporaryDirectory() as tmp:
        mission = os.path.join(tmp, "mission")
        subprocess.run([args.guarantor, "mission", "init", mission, "--line", line, "--sectors", oblasts] + PARTIES,
                       check=True, capture_output=True)
        path = os.path.join(tmp, "observations.ndjson")
        with open(path, "w") as f:
            for k in range(n):
                at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1772323200 + seconds[k]))
                f.write(f'{{"id":"p{k}","source":"us-acoustic-07","observedAt":"{at}Z","kind":"explosion",'
                        f'"location":{{"lon":{lon[k]:.7f},"lat":{lat[k]:.7f},"uncertaintyMeters":50}}}}\n')

        started = time.perf_counter()
        run = subprocess.run([args.guarantor, "replay", "--mission", mission, "--observations", path,
                              "--out", os.path.join(tmp, "out")], check=True, capture_output=True, text=True)
        guarantor = time.perf_counter() - started
        print(run.stdout.strip())

        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components
        from scipy.spatial import cKDTree
        started = time.perf_counter()
        with open(path) as f:
            records = [json.loads(l) for l in f]
        parsed = time.perf_counter()
        a, e2 = 6378137.0, 6.69437999014e-3
        la = np.radians([r["location"]["lat"] for r in records])
        lo = np.radians([r["location"]["lon"] for r in records])
        t = np.array([time.mktime(time.strptime(r["observedAt"], "%Y-%m-%dT%H:%M:%SZ")) for r in records])
        nn = a / np.sqrt(1 - e2 * np.sin(la) ** 2)
        xyz = np.column_stack([nn * np.cos(la) * np.cos(lo), nn * np.cos(la) * np.sin(lo), nn * (1 - e2) * np.sin(la),
                               (t - t.min()) * (1_000 / 300)])  # 300 s of the fire window weigh as 1 km
        pairs = cKDTree(xyz).query_pairs(r=1_000 + 2 * 50 * np.sqrt(2), output_type="ndarray")
        graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
        count, _ = connected_components(graph, directed=False)
        peer = time.perf_counter() - started
        print(f"python peer: json {parsed - started:.1f} s + cKDTree linking and components {peer - (parsed - started):.1f} s "
              f"→ {count:,} groups")
        print(f"guarantor replay (whole command): {guarantor:.1f} s = {n / guarantor:,.0f} observations/s")
        print(f"python json + cKDTree (parse and link only): {peer:.1f} s = {n / peer:,.0f} observations/s "
              f"→ Guarantor is {peer / guarantor:.1f}× the peer's speed")


if __name__ == "__main__":
    main()
