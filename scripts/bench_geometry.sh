#!/usr/bin/env bash
# Classification throughput beside shapely 2 and PostGIS, on the same 1,000,000 points, in one run.
#   scripts/bench_geometry.sh [--points N] [--skip-postgis]
# Installs shapely/pyproj (pip) and PostgreSQL 15 + PostGIS (apt), starts a throwaway server on 127.0.0.1,
# builds the benchmark package in release mode and prints points/s for each tool and the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
export GUARANTOR_DATA="${GUARANTOR_DATA:-$(cd .. && pwd)/shared/data}"
[ -f "$GUARANTOR_DATA/front-line-derived/front_line_20251201.geojson" ] || { echo "real data not found in $GUARANTOR_DATA (set GUARANTOR_DATA)"; exit 1; }

python3 -c 'import shapely, pyproj' 2>/dev/null || pip install -q shapely pyproj numpy
export DEBIAN_FRONTEND=noninteractive
if [ ! -x /usr/lib/postgresql/15/bin/initdb ] || [ ! -f /usr/share/postgresql/15/extension/postgis.control ]; then
  apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql-15 postgresql-15-postgis-3 >/dev/null
fi

PGBIN=/usr/lib/postgresql/15/bin; PGPORT=${PGPORT:-54329}
PGDIR=$(mktemp -d); chown postgres:postgres "$PGDIR"
su postgres -c "$PGBIN/initdb -D $PGDIR/data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >/dev/null
su postgres -c "$PGBIN/pg_ctl -D $PGDIR/data -l $PGDIR/server.log -o '-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGDIR' -w -t 30 start" >/dev/null
PGPID=$(head -1 "$PGDIR/data/postmaster.pid")
trap 'kill -INT $PGPID; while kill -0 $PGPID 2>/dev/null; do sleep 0.2; done; rm -rf "$PGDIR"' EXIT
export PGHOST=127.0.0.1 PGPORT PGUSER=postgres

(cd Benchmarks && swift build -c release --product GeometryThroughput >/dev/null)
python3 scripts/bench_geometry.py --guarantor Benchmarks/.build/release/GeometryThroughput "$@"
