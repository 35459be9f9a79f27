#!/usr/bin/env python3
"""How fast a daily report is made for a busy day: GET /reports/daily/{date} from a real `guarantor serve` (a benchmark
run by hand, not a test).

    python3 scripts/bench_reports.py --guarantor .build/release/guarantor [--hours 48] [--intensity 9]

Builds the demo mission, simulates `--hours` at `--intensity` (the simulation starts a day after the agreement takes
effect; the report is for its second day), ingests it, serves it and, as the mission's analyst, asks three times for
the HTML and three times for the PDF; prints the incidents in the day (from the report) and the median times.
Targets (issue 15): ≤ 2 s to HTML and ≤ 5 s with the PDF for a day of 5,000 incidents.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from dashboard_check import free_port, http  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--guarantor", required=True)
    ap.add_argument("--hours", type=float, default=48)
    ap.add_argument("--intensity", type=float, default=9)
    args = ap.parse_args()
    g = os.path.abspath(args.guarantor)
    work = tempfile.mkdtemp(prefix="guarantor-bench-reports-")
    run = lambda cmd: subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=work).stdout
    run([g, "demo"])
    mission = os.path.join(work, "guarantor-demo", "mission")
    print(run([g, "simulate", "--mission", mission, "--hours", str(args.hours), "--intensity", str(args.intensity),
               "--out", "sim"]).strip())
    first = open(os.path.join(work, "sim", "observations.ndjson")).readline()
    start = re.search(r'"observedAt":"(\d{4}-\d{2}-\d{2})', first).group(1)
    store = os.path.join(work, "events.sqlite")
    run([g, "ingest", "--mission", mission, "--store", store, os.path.join(work, "sim", "observations.ndjson")])
    key = next(w for w in run([g, "keys", "create", "--mission", mission, "--store", store, "--member", "MISSION",
                               "--user", "bench", "--role", "analyst"]).split() if w.startswith("gk_"))
    port = free_port()
    server = subprocess.Popen([g, "serve", "--mission", mission, "--store", store, "--port", str(port),
                               "--clock-every", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if http("GET", base + "/health")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        # The second simulated day ends at its cut-off; ask for the day after the first observation's.
        y, m, d = (int(x) for x in start.split("-"))
        import datetime
        date = (datetime.date(y, m, d) + datetime.timedelta(days=1)).isoformat()
        for fmt in ("html", "pdf"):
            times = []
            for _ in range(3):
                t0 = time.monotonic()
                status, body = http("GET", f"{base}/reports/daily/{date}?format={fmt}",
                                    headers={"Authorization": f"Bearer {key}"}, timeout=120)
                times.append(time.monotonic() - t0)
                assert status == 200, (status, body[:200])
            if fmt == "html":
                text = body.decode()
                count = re.search(r"Incidents recorded: (\d+)", text).group(1)
                print(f"daily report {date}: {int(count):,} incidents in the day, {len(body):,} bytes of HTML")
            else:
                print(f"PDF: {len(body):,} bytes")
            times.sort()
            print(f"{fmt:>5}: {times[1]:.2f} s (runs {', '.join(f'{t:.2f}' for t in times)})")
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
