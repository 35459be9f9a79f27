#!/usr/bin/env python3
"""Reference values for the geodesy tests, computed independently with Karney's geodesics (pyproj.Geod).

For each sample point: the exact WGS84 geodesic distance to a line whose edges are geodesics (minimised over every
candidate edge by golden-section search on the edge's arc length), the position of that nearest point along the
line, and the side (L/R, walking the line from its start). Also point-to-point distances for pairs up to 200 km.

    pip install pyproj numpy
    python3 scripts/make_geodesy_fixtures.py LINE.geojson OUT.csv [--points N] [--seed S]

The committed fixtures were made with:
    python3 scripts/make_geodesy_fixtures.py Sources/GuarantorCLI/Demo/demo-line.geojson \
        Tests/GuarantorCoreTests/Fixtures/demo-line-reference.csv --points 3000 --seed 1
    python3 scripts/make_geodesy_fixtures.py ../shared/data/front-line-derived/front_line_20251201.geojson \
        Tests/GuarantorCoreTests/Fixtures/front-line-20251201-reference.csv --points 3000 --seed 2
    python3 scripts/make_geodesy_fixtures.py --pairs Tests/GuarantorCoreTests/Fixtures/pairs-reference.csv
"""
import argparse
import json
import math

import numpy as np
from pyproj import Geod

GEOD = Geod(ellps="WGS84")
GOLDEN = (math.sqrt(5) - 1) / 2


def load_line(path):
    with open(path) as f:
        doc = json.load(f)
    geom = doc["features"][0]["geometry"] if doc.get("type") == "FeatureCollection" else doc
    assert geom["type"] == "LineString", "the fixture script handles one LineString"
    pts = [tuple(c[:2]) for c in geom["coordinates"]]
    dedup = [pts[0]]
    for p in pts[1:]:
        if p != dedup[-1]:
            dedup.append(p)
    return np.array(dedup)


def nearest_on_edges(px, py, ax, ay, bx, by):
    """Exact nearest point of each geodesic edge A→B to P (arrays), by golden-section search on arc length."""
    az12, _, length = GEOD.inv(ax, ay, bx, by)
    lo = np.zeros_like(length)
    hi = length.copy()

    def f(t):
        x, y, _ = GEOD.fwd(ax, ay, az12, t)
        return GEOD.inv(px, py, x, y)[2]

    c = hi - GOLDEN * (hi - lo)
    d = lo + GOLDEN * (hi - lo)
    fc, fd = f(c), f(d)
    for _ in range(80):
        left = fc < fd
        hi = np.where(left, d, hi)
        lo = np.where(left, lo, c)
        nc = hi - GOLDEN * (hi - lo)
        nd = lo + GOLDEN * (hi - lo)
        c, d = nc, nd
        fc, fd = f(c), f(d)
    t = (lo + hi) / 2
    # A minimum within a micrometre of an end is that end (the vertex rule then decides the side).
    t = np.where(t < 1e-6, 0.0, np.where(length - t < 1e-6, length, t))
    dist = f(t)
    # The ends themselves (the search may stop a hair inside).
    d0 = GEOD.inv(px, py, ax, ay)[2]
    d1 = GEOD.inv(px, py, bx, by)[2]
    t = np.where(d0 < dist, 0.0, t)
    dist = np.minimum(dist, d0)
    t = np.where(d1 < dist, length, t)
    dist = np.minimum(dist, d1)
    return dist, t, length, az12


def reference(line, points):
    ax, ay = line[:-1, 0], line[:-1, 1]
    bx, by = line[1:, 0], line[1:, 1]
    _, _, seg_len = GEOD.inv(ax, ay, bx, by)
    cum = np.concatenate([[0.0], np.cumsum(seg_len)])
    n = len(ax)
    rows = []
    for (px, py) in points:
        pxs = np.full(len(line), px)
        pys = np.full(len(line), py)
        dv = GEOD.inv(pxs, pys, line[:, 0], line[:, 1])[2]
        lower = (dv[:-1] + dv[1:] - seg_len) / 2
        upper = np.minimum(dv[:-1], dv[1:])
        cand = np.nonzero(lower <= upper.min() + 1.0)[0]
        dist, t, length, az12 = nearest_on_edges(
            np.full(len(cand), px), np.full(len(cand), py), ax[cand], ay[cand], bx[cand], by[cand])
        k = int(np.argmin(dist))
        i = int(cand[k])
        rows.append((px, py, float(dist[k]), float(cum[i] + t[k]), side(line, i, float(t[k]), float(length[k]), px, py)))
    return rows


def is_left_of(ax, ay, az_at, px, py):
    az_p = GEOD.inv(ax, ay, px, py)[0]
    return math.sin(math.radians(az_p - az_at)) < 0


def side(line, i, t, length, px, py):
    n = len(line) - 1
    a, b = line[i], line[i + 1]
    if 0 < t < length:
        az12, _, _ = GEOD.inv(a[0], a[1], b[0], b[1])
        x, y, baz = GEOD.fwd(a[0], a[1], az12, t)
        return "L" if is_left_of(x, y, baz + 180, px, py) else "R"
    # The nearest point is a vertex: at the line's ends the end edge decides, elsewhere both edges and the turn.
    v = i if t <= 0 else i + 1
    if v == 0 or v == n:
        j = 0 if v == 0 else n - 1
        az_in = az_at_vertex(line, j, v)
        return "L" if is_left_of(line[v][0], line[v][1], az_in, px, py) else "R"
    az_in = az_at_vertex(line, v - 1, v)
    az_out = az_at_vertex(line, v, v)
    left_in = is_left_of(line[v][0], line[v][1], az_in, px, py)
    left_out = is_left_of(line[v][0], line[v][1], az_out, px, py)
    turns_left = math.sin(math.radians(az_out - az_in)) < 0
    left = (left_in and left_out) if turns_left else (left_in or left_out)
    return "L" if left else "R"


def az_at_vertex(line, edge, vertex):
    a, b = line[edge], line[edge + 1]
    az12, az21, _ = GEOD.inv(a[0], a[1], b[0], b[1])
    return az12 if vertex == edge else az21 + 180


def sample_points(line, count, rng):
    ax, ay = line[:-1, 0], line[:-1, 1]
    bx, by = line[1:, 0], line[1:, 1]
    az12, _, seg_len = GEOD.inv(ax, ay, bx, by)
    pts = []
    for k in range(count):
        i = rng.integers(len(ax))
        x, y, _ = GEOD.fwd(ax[i], ay[i], az12[i], rng.uniform(0, seg_len[i]))
        band = rng.uniform()
        dist = rng.uniform(0, 50) if band < 0.2 else rng.uniform(0, 2_000) if band < 0.4 else \
            rng.uniform(0, 30_000) if band < 0.7 else rng.uniform(0, 200_000)
        x2, y2, _ = GEOD.fwd(x, y, rng.uniform(0, 360), dist)
        pts.append((round(float(x2), 7), round(float(y2), 7)))
    # Beyond both ends.
    for end in (line[0], line[-1]):
        for _ in range(count // 50):
            x2, y2, _ = GEOD.fwd(end[0], end[1], rng.uniform(0, 360), rng.uniform(0, 150_000))
            pts.append((round(float(x2), 7), round(float(y2), 7)))
    return pts


def pairs(out, rng):
    with open(out, "w") as f:
        f.write("lon1,lat1,lon2,lat2,distanceMeters\n")
        for _ in range(2000):
            lon1, lat1 = rng.uniform(-180, 180), rng.uniform(-80, 80)
            lon2, lat2, _ = GEOD.fwd(lon1, lat1, rng.uniform(0, 360), 10 ** rng.uniform(-1, math.log10(200_000)))
            lon2, lat2 = round(float(lon2), 7), round(float(lat2), 7)
            d = GEOD.inv(lon1, lat1, lon2, lat2)[2]
            f.write(f"{lon1:.7f},{lat1:.7f},{lon2:.7f},{lat2:.7f},{d:.4f}\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("line", nargs="?")
    ap.add_argument("out")
    ap.add_argument("--points", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pairs", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    if args.pairs:
        return pairs(args.out, rng)
    line = load_line(args.line)
    rows = reference(line, sample_points(line, args.points, rng))
    with open(args.out, "w") as f:
        f.write("lon,lat,distanceMeters,alongLineMeters,side\n")
        for (x, y, d, a, s) in rows:
            f.write(f"{x:.7f},{y:.7f},{d:.4f},{a:.4f},{s}\n")


if __name__ == "__main__":
    main()
