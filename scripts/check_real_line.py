#!/usr/bin/env python3
"""End-to-end check on the real 1,240 km front line, through the `guarantor` command as a user runs it.

1. `guarantor mission init` with the real line and the oblasts of Ukraine as sectors;
2. `guarantor replay` of N observations (default 1,000,000) around the line;
3. a random sample of the output checked against Karney's exact geodesics (pyproj): distance within 1 m,
   same side wherever the point is more than 1 m from the line, and the oblast checked with shapely;
4. `guarantor ingest` of the same file twice: the second adds nothing.

    python3 scripts/check_real_line.py --guarantor .build/debug/guarantor [--points N] [--sample K]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import shapely
from shapely.geometry import shape

sys.path.insert(0, os.path.dirname(__file__))
import make_geodesy_fixtures as ref  # noqa: E402

PARTIES = ["--party", "UA=35.0462,48.4647", "--party", "RU=39.3078,48.5740"]


def run(cmd):
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"FAILED: {' '.join(cmd)}\n{done.stdout}\n{done.stderr}")
    return done.stdout, time.perf_counter() - started


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--guarantor", required=True)
    ap.add_argument("--data", default=os.environ.get("GUARANTOR_DATA", os.path.join(os.path.dirname(__file__), "../../shared/data")))
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--sample", type=int, default=2_000)
    ap.add_argument("--seed", type=int, default=20251201)
    args = ap.parse_args()
    line_path = os.path.join(args.data, "front-line-derived/front_line_20251201.geojson")
    oblasts_path = os.path.join(args.data, "ukraine-admin-boundaries/geoBoundaries-UKR-ADM1_simplified.geojson")
    if not os.path.exists(line_path):
        sys.exit(f"real data not found in {args.data}: set GUARANTOR_DATA to the shared/data directory")
    line = ref.load_line(line_path)
    rng = np.random.default_rng(args.seed)
    # Points around the line: a random point of a random edge moved 0–200 km in a random direction.
    i = rng.integers(0, len(line) - 1, args.points)
    az, _, length = ref.GEOD.inv(line[i, 0], line[i, 1], line[i + 1, 0], line[i + 1, 1])
    x, y, _ = ref.GEOD.fwd(line[i, 0], line[i, 1], az, rng.uniform(0, 1, args.points) * length)
    band = rng.uniform(0, 1, args.points)
    dist = np.where(band < 0.2, rng.uniform(0, 100, args.points), np.where(band < 0.5, rng.uniform(0, 20_000, args.points),
                                                                           rng.uniform(0, 200_000, args.points)))
    lon, lat, _ = ref.GEOD.fwd(x, y, rng.uniform(0, 360, args.points), dist)

    with tempfile.TemporaryDirectory() as tmp:
        mission = os.path.join(tmp, "mission")
        out, _ = run([args.guarantor, "mission", "init", mission, "--line", line_path, "--sectors", oblasts_path] + PARTIES)
        print(out.strip())
        observations = os.path.join(tmp, "observations.ndjson")
        # Spread over 30 days of event time, in order, as a month of sensor reports would be.
        seconds = np.sort(rng.uniform(0, 30 * 86_400, args.points))
        with open(observations, "w") as f:
            for k in range(args.points):
                at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1772323200 + seconds[k]))
                f.write(f'{{"id":"p{k}","source":"us-acoustic-07","observedAt":"{at}Z","kind":"explosion",'
                        f'"location":{{"lon":{lon[k]:.7f},"lat":{lat[k]:.7f},"uncertaintyMeters":50}}}}\n')
        out_dir = os.path.join(tmp, "out")
        _, seconds = run([args.guarantor, "replay", "--mission", mission, "--observations", observations, "--out", out_dir])
        with open(os.path.join(out_dir, "observations.ndjson")) as f:
            results = [json.loads(l) for l in f]
        assert len(results) == args.points, f"{len(results)} results for {args.points} observations"
        print(f"replay: {args.points:,} observations classified in {seconds:.1f} s (whole command: load, parse, classify, write)")

        sample = rng.choice(args.points, size=min(args.sample, args.points), replace=False)
        pts = [(round(float(lon[k]), 7), round(float(lat[k]), 7)) for k in sample]
        exact = ref.reference(line, pts)
        with open(oblasts_path) as f:
            oblasts = [(feat["properties"]["shapeName"], shape(feat["geometry"])) for feat in json.load(f)["features"]]
        worst, side_errors, sector_errors = 0.0, 0, 0
        for k, (px, py, d, along, side) in zip(sample, exact):
            r = results[k]
            worst = max(worst, abs(r["distanceToLineMeters"] - d))
            expected_side = "RU" if side == "L" else "UA"
            if d > 1.0 and r["side"] != expected_side:
                side_errors += 1
                print(f"side differs at {px},{py} ({d:.1f} m): {r['side']} vs exact {expected_side}")
            p = shapely.Point(px, py)
            expected_sector = next((name for name, geom in oblasts if geom.contains(p)), None)
            if r["sector"] != expected_sector:
                sector_errors += 1
                print(f"sector differs at {px},{py}: {r['sector']} vs {expected_sector}")
        print(f"accuracy: {len(sample):,} sampled points vs Karney (pyproj): worst distance error {worst:.3f} m, "
              f"{side_errors} side disagreements, {sector_errors} sector disagreements")

        store = os.path.join(tmp, "events.sqlite")
        first, t1 = run([args.guarantor, "ingest", "--mission", mission, "--store", store, observations])
        second, t2 = run([args.guarantor, "ingest", "--mission", mission, "--store", store, observations])
        print(f"ingest #1 ({t1:.1f} s): {first.strip().splitlines()[0]}")
        print(f"ingest #2 ({t2:.1f} s): {second.strip().splitlines()[0]}")
        ok = worst < 1.0 and side_errors == 0 and sector_errors == 0 and "0 appended" in second \
            and f"{args.points:,} already stored" in second
        print("real-line check: " + ("1 passed, 0 failed" if ok else "0 passed, 1 failed"))
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
