#!/usr/bin/env python3
"""How fast the dashboard shows a large record: headless Chromium against a real `guarantor serve` (a benchmark run by
hand, not a test).

    python3 scripts/bench_dashboard.py --guarantor .build/release/guarantor [--hours 48] [--intensity 10]

Builds the demo mission, simulates `--hours` at `--intensity` (48 h at 10×, the default, gave 10,960 incidents; at 8×, 8,827), ingests it,
serves it, signs in as the mission's analyst and prints, from the page's own marks (`window.guarantorTimings`,
milliseconds since navigation): the line drawn, the first 1,000 incidents drawn (first meaningful paint), and every
incident loaded and drawn. Three page loads; the median is printed.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from dashboard_check import Browser, all_incidents, free_port, http  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--guarantor", required=True)
    ap.add_argument("--hours", type=float, default=48)
    ap.add_argument("--intensity", type=float, default=10)
    args = ap.parse_args()
    g = os.path.abspath(args.guarantor)
    work = tempfile.mkdtemp(prefix="guarantor-bench-dashboard-")
    run = lambda cmd: subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=work).stdout
    run([g, "demo"])
    mission = os.path.join(work, "guarantor-demo", "mission")
    print(run([g, "simulate", "--mission", mission, "--hours", str(args.hours), "--intensity", str(args.intensity),
               "--out", "sim"]).strip())
    store = os.path.join(work, "events.sqlite")
    run([g, "ingest", "--mission", mission, "--store", store, os.path.join(work, "sim", "observations.ndjson")])
    key = next(w for w in run([g, "keys", "create", "--mission", mission, "--store", store, "--member", "MISSION",
                               "--user", "bench", "--role", "analyst"]).split() if w.startswith("gk_"))
    port = free_port()
    server = subprocess.Popen([g, "serve", "--mission", mission, "--store", store, "--port", str(port),
                               "--clock-every", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    browser = None
    try:
        for _ in range(600):
            try:
                if http("GET", base + "/health")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        count = len(all_incidents(base, key))
        print(f"incidents the analyst may read: {count:,}")
        browser = Browser()
        browser.open(base + "/")
        browser.run("sessionStorage.setItem('guarantor.key', arguments[0]);", key)
        runs = []
        for _ in range(3):
            browser.open(base + "/")
            browser.wait(f"return document.querySelector('#map').dataset.incidents === '{count}';", "every incident", 120)
            browser.wait("return window.guarantorTimings && 'incidents' in window.guarantorTimings;", "the marks", 30)
            runs.append(browser.run("return window.guarantorTimings;"))
        for name in ("lines", "firstPaintWithIncidents", "incidents"):
            values = sorted(r[name] for r in runs)
            print(f"{name:>26}: {values[1]:6d} ms (runs {', '.join(str(v) for v in values)})")
    finally:
        if browser:
            browser.close()
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
