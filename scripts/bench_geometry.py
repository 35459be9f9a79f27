#!/usr/bin/env python3
"""Classification throughput, side by side: Guarantor vs shapely 2 vs PostGIS, on the same points, in one run.

Classification = side of the line + distance to it + zones (from the distance) + sector (oblast polygon).
Run through scripts/bench_geometry.sh, which installs the peers, starts PostgreSQL and builds Guarantor.
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

import numpy as np
import shapely
from pyproj import Geod, Transformer

ZONES_M = [2_000, 15_000, 25_000, 35_000, 70_000]


def make_points(line, n, seed):
    """n points around the line: a random point of a random edge, moved 0–150 km in a random direction."""
    geod = Geod(ellps="WGS84")
    rng = np.random.default_rng(seed)
    i = rng.integers(0, len(line) - 1, n)
    az, _, length = geod.inv(line[i, 0], line[i, 1], line[i + 1, 0], line[i + 1, 1])
    x, y, _ = geod.fwd(line[i, 0], line[i, 1], az, rng.uniform(0, 1, n) * length)
    band = rng.uniform(0, 1, n)
    dist = np.where(band < 0.5, rng.uniform(0, 20_000, n), rng.uniform(0, 150_000, n))
    lon, lat, _ = geod.fwd(x, y, rng.uniform(0, 360, n), dist)
    return np.column_stack([lon, lat])


def run_guarantor(binary, line_path, sectors_path, points_path, repeats):
    out = subprocess.run([binary, line_path, sectors_path, points_path, "--repeat", str(repeats)],
                         check=True, capture_output=True, text=True).stdout.strip()
    _, n, seconds, rate = out.split()[:4]
    return float(seconds), out


def run_shapely(line, oblasts, pts):
    """What a careful Python user would write: project to UTM 37N; an STRtree of the line's edges for the nearest
    edge and its planar distance; side from that edge's direction; prepared oblasts with contains_xy."""
    to_m = Transformer.from_crs(4326, 32637, always_xy=True)
    lx, ly = to_m.transform(line[:, 0], line[:, 1])
    vertices = np.column_stack([lx, ly])
    edges = shapely.linestrings(np.stack([vertices[:-1], vertices[1:]], axis=1))
    start_along = np.concatenate([[0.0], np.cumsum(shapely.length(edges))[:-1]])
    tree = shapely.STRtree(edges)
    names = [name for name, _ in oblasts]
    polygons = [geom for _, geom in oblasts]
    for geom in polygons:
        shapely.prepare(geom)
    t0 = time.perf_counter()
    x, y = to_m.transform(pts[:, 0], pts[:, 1])
    p = shapely.points(x, y)
    (point_index, edge), d = tree.query_nearest(p, return_distance=True, all_matches=False)
    a, b = vertices[edge], vertices[edge + 1]
    left = (b[:, 0] - a[:, 0]) * (y - a[:, 1]) - (b[:, 1] - a[:, 1]) * (x - a[:, 0]) > 0
    along = start_along[edge] + shapely.line_locate_point(edges[edge], p)
    zones = d[:, None] <= np.array(ZONES_M)[None, :]
    sector = np.full(len(pts), -1)
    for k, geom in enumerate(polygons):
        sector[(sector == -1) & shapely.contains_xy(geom, pts[:, 0], pts[:, 1])] = k
    seconds = time.perf_counter() - t0
    return seconds, d, left, zones, sector, names


def psql(sql, db="bench"):
    return subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db, "-At", "-c", sql],
                          check=True, capture_output=True, text=True).stdout


def run_postgis(line_path, sectors_path, pts, tmp):
    """PostGIS geography distance, ST_LineLocatePoint for the nearest point and side, GiST-indexed oblasts."""
    subprocess.run(["psql", "-X", "-q", "-d", "postgres", "-c", "DROP DATABASE IF EXISTS bench"], check=True)
    subprocess.run(["psql", "-X", "-q", "-d", "postgres", "-c", "CREATE DATABASE bench"], check=True)
    psql("CREATE EXTENSION postgis")
    csv = os.path.join(tmp, "points.csv")
    np.savetxt(csv, pts, delimiter=",", fmt="%.9f")
    with open(line_path) as f:
        line_geojson = json.dumps(json.load(f)["features"][0]["geometry"])
    psql(f"CREATE TABLE line AS SELECT g, g::geography AS gg FROM "
         f"(SELECT ST_SetSRID(ST_GeomFromGeoJSON('{line_geojson}'), 4326) AS g) s")
    psql("CREATE TABLE oblast_raw (name text, g geometry)")
    with open(sectors_path) as f:
        for feature in json.load(f)["features"]:
            name = feature["properties"]["shapeName"].replace("'", "''")
            geom = json.dumps(feature["geometry"])
            psql(f"INSERT INTO oblast_raw VALUES ('{name}', ST_SetSRID(ST_GeomFromGeoJSON('{geom}'), 4326))")
    # As the PostGIS manual advises for point-in-polygon on large polygons: subdivide, then index.
    psql("CREATE TABLE oblast AS SELECT name, ST_Subdivide(g, 64) AS g FROM oblast_raw")
    psql("CREATE INDEX ON oblast USING gist (g)")
    psql("CREATE TABLE pts_raw (lon float8, lat float8)")
    subprocess.run(["psql", "-X", "-q", "-d", "bench", "-c", f"\\copy pts_raw FROM '{csv}' CSV"], check=True)
    psql("CREATE TABLE pts AS SELECT row_number() OVER () AS id, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS g FROM pts_raw")
    psql("VACUUM ANALYZE")
    query = """
    SET max_parallel_workers_per_gather = 0;
    CREATE TABLE result AS
    SELECT q.id, q.d,
           (ST_Azimuth(ST_LineInterpolatePoint(l.g, greatest(q.f - 1e-7, 0)), ST_LineInterpolatePoint(l.g, least(q.f + 1e-7, 1)))
            - ST_Azimuth(ST_LineInterpolatePoint(l.g, q.f), q.g)) AS turn,
           ARRAY[q.d <= 2000, q.d <= 15000, q.d <= 25000, q.d <= 35000, q.d <= 70000] AS zones,
           (SELECT o.name FROM oblast o WHERE ST_Contains(o.g, q.g) LIMIT 1) AS sector
    FROM (SELECT p.id, p.g, ST_Distance(p.g::geography, l.gg) AS d, ST_LineLocatePoint(l.g, p.g) AS f
          FROM pts p, line l) q, line l;
    """
    t0 = time.perf_counter()
    psql(query)
    seconds = time.perf_counter() - t0
    d = np.array([float(v) for v in psql("SELECT d FROM result ORDER BY id").split()])
    return seconds, d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--guarantor", required=True, help="path of the GeometryThroughput binary (release)")
    ap.add_argument("--data", default=os.environ.get("GUARANTOR_DATA", "../shared/data"))
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--skip-postgis", action="store_true")
    args = ap.parse_args()
    line_path = os.path.join(args.data, "front-line-derived/front_line_20251201.geojson")
    sectors_path = os.path.join(args.data, "ukraine-admin-boundaries/geoBoundaries-UKR-ADM1_simplified.geojson")
    with open(line_path) as f:
        line = np.array(json.load(f)["features"][0]["geometry"]["coordinates"])[:, :2]
    with open(sectors_path) as f:
        oblasts = [(feat["properties"]["shapeName"], shapely.geometry.shape(feat["geometry"])) for feat in json.load(f)["features"]]

    pts = make_points(line, args.points, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        points_bin = os.path.join(tmp, "points.bin")
        pts.astype("<f8").tofile(points_bin)
        n = len(pts)
        rows = []
        g_seconds, g_line = run_guarantor(args.guarantor, line_path, sectors_path, points_bin, args.repeat)
        rows.append(("guarantor (Swift, WGS84 geodesic)", g_seconds))
        s_seconds, *_ = run_shapely(line, oblasts, pts)
        rows.append(("shapely 2 (STRtree, planar UTM 37N)", s_seconds))
        if not args.skip_postgis:
            p_seconds, _ = run_postgis(line_path, sectors_path, pts, tmp)
            rows.append(("PostGIS 3 (geography distance)", p_seconds))
    print(f"Classification of {n:,} points around the 1,240 km front line (side + distance + zones + oblast), one core")
    print(f"{'tool':38} {'seconds':>9} {'points/s':>12} {'guarantor is':>14}")
    for name, seconds in rows:
        ratio = seconds / g_seconds
        print(f"{name:38} {seconds:9.3f} {n / seconds:12,.0f} {'—' if ratio == 1 else f'{ratio:,.1f}× faster':>14}")
    print(f"({g_line})")


if __name__ == "__main__":
    main()
