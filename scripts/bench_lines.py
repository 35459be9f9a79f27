#!/usr/bin/env python3
"""Comparing two candidate lines: `guarantor lines compare` beside the same settlement and area computation in
shapely + pyproj, in one run, on the real dated front lines and the GeoNames gazetteer.

    python3 scripts/bench_lines.py --guarantor .build/release/guarantor [--observations 1000000] [--store S]
                                   [--check]

Lines 2024-07-08 and 2025-12-01 (../shared/data/front-line-derived), 27,642 settlements. The peer closes the region
between the lines the same way (line A, straight to B's end, B backwards, straight back to A's start), repairs it with
shapely.make_valid, measures each polygon with pyproj's geodesic area on WGS84, and counts the settlements inside
(shapely.contains_xy). Guarantor classifies every settlement under each line by the mission's rule (nearest point,
reference points) and scans the area between the lines; its figure is the whole command (read the mission, the lines,
the gazetteer; write four files).

With --observations N (default 0) a store of about N simulated observations (realistic noise, 30 days: the usual
front gives about 63,000, so a million is 16 times as dense) is made with
`guarantor simulate` and `guarantor ingest` (minutes for a million), or --store reuses one, and the command is timed
again with --store: the record replayed under both lines (two threads). The peer has no counterpart for that part.

--check fails unless the two agree: area within 1 %, settlements that change side within 2 %.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

PARTIES = ["--party", "UA=35.0462,48.4647", "--party", "RU=39.3078,48.5740"]


def peer(line_a, line_b, gazetteer):
    import numpy as np
    import shapely
    from pyproj import Geod
    from shapely.geometry import Polygon

    started = time.perf_counter()
    a = json.load(open(line_a))["features"][0]["geometry"]["coordinates"]
    b = json.load(open(line_b))["features"][0]["geometry"]["coordinates"]
    geod = Geod(ellps="WGS84")
    # Densify along geodesics (as Guarantor does, ≤ 1 km), then the same ring.
    def densified(line):
        out = []
        for p, q in zip(line, line[1:]):
            n = max(1, int(np.ceil(geod.inv(p[0], p[1], q[0], q[1])[2] / 1000)))
            out.append(tuple(p))
            if n > 1:
                out += [tuple(x) for x in geod.npts(p[0], p[1], q[0], q[1], n - 1)]
        out.append(tuple(line[-1]))
        return out
    a, b = densified(a), densified(b)
    d = lambda p, q: geod.inv(p[0], p[1], q[0], q[1])[2]
    if d(a[0], b[-1]) + d(a[-1], b[0]) < d(a[0], b[0]) + d(a[-1], b[-1]):
        b = b[::-1]
    region = shapely.make_valid(Polygon(a + b[::-1]))
    polygons = [g for g in getattr(region, "geoms", [region]) if g.geom_type in ("Polygon", "MultiPolygon")]
    area = sum(abs(geod.geometry_area_perimeter(g)[0]) for g in polygons) / 1e6
    # Settlements: GeoNames postal rows, one per (name, admin1, admin2), the most accurate row.
    best = {}
    for row in open(gazetteer, encoding="utf-8"):
        f = row.rstrip("\n").split("\t")
        if len(f) < 12:
            continue
        key = (f[2], f[3], f[5])
        accuracy = int(f[11]) if f[11] else 0
        if key not in best or accuracy > best[key][0]:
            best[key] = (accuracy, float(f[10]), float(f[9]))
    xy = np.array([(v[1], v[2]) for v in best.values()])
    inside = 0
    for g in polygons:
        inside += int(shapely.contains_xy(g, xy[:, 0], xy[:, 1]).sum())
    return time.perf_counter() - started, area, inside, len(best)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--guarantor", required=True)
    ap.add_argument("--observations", type=int, default=0)
    ap.add_argument("--store")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--data", default=os.environ.get("GUARANTOR_DATA", os.path.join(os.path.dirname(__file__), "../../shared/data")))
    args = ap.parse_args()
    lines = os.path.join(args.data, "front-line-derived")
    gazetteer = os.path.join(args.data, "ukraine-settlements-geonames-postal/UA_postal_codes_geonames.tsv")
    oblasts = os.path.join(args.data, "ukraine-admin-boundaries/geoBoundaries-UKR-ADM1_simplified.geojson")
    if not os.path.exists(gazetteer):
        sys.exit(f"real data not found in {args.data}: set GUARANTOR_DATA to the shared/data directory")
    line_a, line_b = (os.path.join(lines, f"front_line_{d}.geojson") for d in ("20240708", "20251201"))
    g = args.guarantor
    with tempfile.TemporaryDirectory() as tmp:
        mission = os.path.join(tmp, "mission")
        run = lambda cmd: subprocess.run(cmd, check=True, capture_output=True, text=True)
        run([g, "mission", "init", mission, "--line", line_b, "--sectors", oblasts] + PARTIES)
        for d, path in (("20240708", line_a), ("20251201", line_b)):
            run([g, "lines", "add", mission, "--id", f"fl-{d}", "--title", f"Front line {d}", path])
        compare = [g, "lines", "compare", "--mission", mission, "fl-20240708", "fl-20251201", "--settlements", gazetteer]
        started = time.perf_counter()
        run(compare + ["--out", os.path.join(tmp, "out")])
        ours = time.perf_counter() - started
        summary = json.load(open(os.path.join(tmp, "out", "summary.json")))
        our_area = sum(summary["area"]["toPartyKm2"].values())
        our_changed = summary["settlements"]["changed"]
        peer_seconds, peer_area, peer_inside, peer_places = peer(line_a, line_b, gazetteer)
        print(f"settlements: {summary['settlements']['considered']:,} (peer {peer_places:,})")
        print(f"guarantor lines compare: {ours:6.2f} s   area {our_area:9.1f} km²   settlements changing side {our_changed}")
        print(f"shapely + pyproj:        {peer_seconds:6.2f} s   area {peer_area:9.1f} km²   settlements inside the region {peer_inside}")
        print(f"ratio (peer / guarantor): {peer_seconds / ours:.1f}x")
        store = args.store
        # --store S with --observations N: made at S when S is missing (and kept), reused when it is there.
        if args.observations > 0 and not (store and os.path.exists(store)):
            sim = os.path.join(tmp, "sim")
            # 30 days of the usual front yield about 63,000 observations; more are packed into the same 30 days (the
            # simulated days must end before today for ingest to accept them).
            intensity = max(1.0, args.observations / 63_000)
            started = time.perf_counter()
            print(run([g, "simulate", "--mission", mission, "--hours", "720", "--intensity", f"{intensity:.1f}",
                       "--noise", "realistic", "--out", sim]).stdout.strip())
            store = store or os.path.join(tmp, "events.sqlite")
            run([g, "ingest", "--mission", mission, "--store", store, os.path.join(sim, "observations.ndjson")])
            print(f"  store made in {time.perf_counter() - started:.0f} s")
        if store:
            started = time.perf_counter()
            run(compare + ["--store", store, "--out", os.path.join(tmp, "with-store")])
            seconds = time.perf_counter() - started
            record = json.load(open(os.path.join(tmp, "with-store", "summary.json")))["record"]
            print(f"with --store ({record['observations']['compared']:,} observations, "
                  f"{record['incidents']['compared']:,} incidents): {seconds:.1f} s")
        if args.check:
            problems = []
            if abs(our_area - peer_area) > 0.01 * peer_area:
                problems.append(f"area {our_area:.1f} against {peer_area:.1f} km²")
            if abs(our_changed - peer_inside) > 0.02 * max(peer_inside, 1):
                problems.append(f"settlements {our_changed} against {peer_inside}")
            if problems:
                sys.exit("disagreement with shapely + pyproj: " + "; ".join(problems))
            print("agrees with shapely + pyproj (area within 1 %, settlements within 2 %)")


if __name__ == "__main__":
    main()
