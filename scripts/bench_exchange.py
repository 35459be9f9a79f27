#!/usr/bin/env python3
"""How fast the record goes out as STIX 2.1 and TAXII 2.1 (a benchmark run by hand, not a test).

    python3 scripts/bench_exchange.py --guarantor .build/release/guarantor [--hours 168] [--intensity 7]

A simulated week of the example mission (docs/examples/mission) at `--intensity` (7: about 100,000 observations),
ingested; then

1. `guarantor export stix` for the mission and for Poland, three times each: the first opens the engine from the log
   (and saves a snapshot), the others resume from it; the medians and the bundle's size;
2. the same bundle written by the `stix2` library (parse, then serialize: what a member would otherwise script), once,
   for the ratio;
3. `guarantor serve` over the store: `GET /export/stix.json` as Poland three times (the engine open: the export
   alone), then Poland's collection paged 1,000 objects at a time through TAXII (Basic, the key
   as the password): the first page (which builds the collection), then the median and 95th percentile of the rest.

Targets (issue 16): the week's export ≤ 5 s, a TAXII page of 1,000 objects ≤ 200 ms.
"""
import argparse
import base64
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from dashboard_check import free_port  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), ".."))
MISSION = os.path.join(ROOT, "docs", "examples", "mission")


def run(*args):
    return subprocess.run(list(args), check=True, capture_output=True, text=True).stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--guarantor", required=True)
    ap.add_argument("--hours", type=float, default=168)
    ap.add_argument("--intensity", type=float, default=7)
    ap.add_argument("--skip-stix2", action="store_true", help="do not time the stix2 library")
    args = ap.parse_args()
    g = os.path.abspath(args.guarantor)
    work = tempfile.mkdtemp(prefix="guarantor-bench-exchange-")
    try:
        run(g, "simulate", "--mission", MISSION, "--hours", str(args.hours), "--intensity", str(args.intensity),
            "--out", work)
        store = os.path.join(work, "events.sqlite")
        print(run(g, "ingest", "--mission", MISSION, "--store", store,
                  os.path.join(work, "observations.ndjson")).splitlines()[0], flush=True)

        for reader in ([], ["--member", "PL"]):
            times = []
            out = os.path.join(work, "bundle.json")
            for _ in range(3):
                started = time.monotonic()
                run(g, "export", "stix", "--mission", MISSION, "--store", store, *reader, "--out", out)
                times.append(time.monotonic() - started)
            with open(out) as f:
                objects = len(json.load(f)["objects"])
            name = " ".join(reader) or "(the mission)"
            print(f"guarantor export stix {name}: {objects:,} objects, {os.path.getsize(out) / 1e6:.1f} MB; "
                  f"first {times[0]:.2f} s (opens the engine from the log), then median "
                  f"{statistics.median(times[1:]):.2f} s", flush=True)
            ours = statistics.median(times[1:])

        if not args.skip_stix2:
            import stix2
            with open(out) as f:
                text = f.read()
            started = time.monotonic()
            bundle = stix2.parse(text, allow_custom=True)
            bundle.serialize()
            theirs = time.monotonic() - started
            print(f"stix2 {stix2.__version__}: parse and serialize Poland's bundle {theirs:.2f} s "
                  f"(guarantor {theirs / ours:.1f}× faster, engine resume included)", flush=True)

        key = next(w for w in run(g, "keys", "create", "--mission", MISSION, "--store", store, "--member", "PL",
                                  "--user", "pl-cti", "--role", "liaison").split() if w.startswith("gk_"))
        port = free_port()
        server = subprocess.Popen([g, "serve", "--mission", MISSION, "--store", store, "--port", str(port),
                                   "--clock-every", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        auth = "Basic " + base64.b64encode(f"pl-cti:{key}".encode()).decode()
        try:
            for _ in range(1200):
                try:
                    if urllib.request.urlopen(base + "/health", timeout=2).status == 200:
                        break
                except OSError:
                    time.sleep(0.1)

            def get(path):
                request = urllib.request.Request(base + path, headers={
                    "Authorization": auth, "Accept": "application/taxii+json;version=2.1"})
                started = time.monotonic()
                with urllib.request.urlopen(request, timeout=600) as response:
                    body = json.loads(response.read())
                return body, time.monotonic() - started

            export_times = []
            for _ in range(3):
                started = time.monotonic()
                request = urllib.request.Request(base + "/export/stix.json", headers={"Authorization": auth})
                with urllib.request.urlopen(request, timeout=600) as response:
                    size = len(response.read())
                export_times.append(time.monotonic() - started)
            print(f"GET /export/stix.json (Poland, the engine already open): {size / 1e6:.1f} MB, median "
                  f"{statistics.median(export_times):.2f} s (of {', '.join(f'{t:.2f}' for t in export_times)})",
                  flush=True)

            collections, _ = get("/taxii2/api/collections/")
            objects_path = f"/taxii2/api/collections/{collections['collections'][0]['id']}/objects/?limit=1000"
            page, first = get(objects_path)
            times, count = [], len(page.get("objects", []))
            while page.get("more"):
                page, elapsed = get(objects_path + "&next=" + urllib.parse.quote(page["next"]))
                times.append(elapsed)
                count += len(page.get("objects", []))
            times.sort()
            p95 = times[max(0, int(len(times) * 0.95) - 1)] if times else float("nan")
            print(f"TAXII: {count:,} objects in {len(times) + 1} pages of 1,000; first page {first * 1000:.0f} ms "
                  f"(builds the collection), then median {statistics.median(times) * 1000:.0f} ms, "
                  f"95th percentile {p95 * 1000:.0f} ms", flush=True)
        finally:
            server.terminate()
            server.wait(timeout=60)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    import urllib.parse  # noqa: F401
    main()
