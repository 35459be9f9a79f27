#!/usr/bin/env bash
# The whole test suite, from a fresh machine: system packages, the unit and integration tests (Swift Testing),
# schemathesis against the live API, the crash loop, the dashboard in headless Chromium, the end-to-end check of 1,000,000 points on the real front line with a release build, and the replay of the UCDP
# GED events of 2014–2019 against the Minsk-era contact line.
# Real data is read from $GUARANTOR_DATA (default: ../shared/data beside the repository).
set -euo pipefail
cd "$(dirname "$0")/.."
export GUARANTOR_DATA="${GUARANTOR_DATA:-$(cd .. && pwd)/shared/data}"

export DEBIAN_FRONTEND=noninteractive
# libsqlite3-dev for GRDB, libpq-dev for the PostgreSQL store; curl is the SSE client of the server tests.
if ! dpkg -s libsqlite3-dev libpq-dev >/dev/null 2>&1 || ! command -v curl >/dev/null; then
  apt-get update -qq && apt-get install -y -qq --no-install-recommends libsqlite3-dev libpq-dev curl >/dev/null
fi
# Headless Chromium and its driver for the dashboard's check (scripts/dashboard_check.py).
# poppler-utils (pdftotext, pdftoppm) reads the reports' PDFs back; tzdata gives the reports' cut-off its time zone.
# gdal-bin (ogrinfo) reads the GeoJSON exports (scripts/exchange_check.py).
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null || ! command -v pdftotext >/dev/null \
  || [ ! -e /usr/share/zoneinfo/Europe/Kyiv ] || ! command -v ogrinfo >/dev/null; then
  apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core \
    poppler-utils tzdata gdal-bin >/dev/null
fi
python3 -c 'import pyproj, shapely, numpy, schemathesis' 2>/dev/null || pip install -q pyproj shapely numpy schemathesis
# The OASIS STIX validator, the stix2 library and the TAXII client check the exports.
python3 -c 'import stix2validator, stix2, taxii2client' 2>/dev/null || pip install -q stix2-validator stix2 taxii2-client

# PostgreSQL 15 (Debian), a throwaway cluster on 127.0.0.1 for the shared store's tests: the run fails here, saying
# which step, if it cannot be installed or started.
. scripts/postgres.sh || exit 1

# Formatting (.swift-format): any difference fails the run.
swift format lint --strict -r Sources Tests Benchmarks/Sources Benchmarks/Benchmarks Package.swift Benchmarks/Package.swift

# Build everything; any warning in our own code fails the run.
swift build --build-tests 2>&1 | tee .build-log.txt | grep -E 'error|warning:' || true
if grep -E "^$PWD/(Sources|Tests)/.*(warning|error):" .build-log.txt; then
  echo "Build produced warnings or errors in the project's own code (see above)."; exit 1
fi
rm -f .build-log.txt

# Every suite; the store's own tests run on SQLite and on PostgreSQL ($GUARANTOR_TEST_POSTGRES).
swift test --disable-xctest
# The API's suites again with their store in PostgreSQL.
GUARANTOR_TEST_STORE=postgres swift test --disable-xctest --skip-build --filter GuarantorServerTests

swift build -c release --product guarantor
# The API against its own OpenAPI document: no 5xx, no undocumented response.
scripts/schemathesis.sh .build/release/guarantor
# SIGKILL under load, 50 times: nothing acknowledged lost, nothing half-applied, served state = a clean replay.
python3 scripts/crash_loop.py --guarantor .build/release/guarantor --rounds "${CRASH_ROUNDS:-50}"
# Three nodes on the PostgreSQL store, two writers, two stream clients, 20 SIGKILLs and a PostgreSQL restart: nothing
# acknowledged lost or doubled, every node's exports = the replay, every strike's alert once to each client (issue 17).
python3 scripts/fault_nodes.py --guarantor .build/release/guarantor --kills "${NODE_KILLS:-20}"
# A streaming replica (pg_basebackup): a reader node on it serves the writer node's exports; verify runs on it.
python3 scripts/replica_check.py --guarantor .build/release/guarantor
# The dashboard in headless Chromium: public view, releasability in the DOM and the stream, a review, a live alert.
python3 scripts/dashboard_check.py --guarantor .build/release/guarantor
# STIX, ACLED CSV and GeoJSON exports of a simulated week: the OASIS validator, stix2, GDAL, taxii2-client against
# guarantor serve; releasability across them; round trips through guarantor import (and the real UCDP file).
python3 scripts/exchange_check.py --guarantor .build/release/guarantor

if [ -f "$GUARANTOR_DATA/front-line-derived/front_line_20251201.geojson" ]; then
  python3 scripts/check_real_line.py --guarantor .build/release/guarantor --points "${REAL_LINE_POINTS:-1000000}"
  python3 scripts/replay_ucdp.py --guarantor .build/release/guarantor
  # Two dated front lines compared, beside shapely + pyproj (issue 14); a small store for the record's part.
  python3 scripts/bench_lines.py --guarantor .build/release/guarantor --observations 20000 --check
  # Verification on the noise profiles (issue 13): standard and realistic must meet every target; harsh is reported.
  python3 scripts/verification_targets.py --guarantor .build/release/guarantor --require standard realistic
else
  echo "SKIPPED the real-line check: real data not found at $GUARANTOR_DATA (set GUARANTOR_DATA to shared/data)"
fi
