#!/usr/bin/env python3
"""Crash safety of `guarantor serve`: kill it with SIGKILL at random moments under load, restart it, and check.

Each round starts the server on the same store (saving a snapshot of its engine every 2,000 events, so that kills
also land while one is written), sends bulk NDJSON batches and single observations from two threads, and kills the
server (SIGKILL) at a random moment. Then, with the server dead, it checks the store itself:
  * every observation whose POST was acknowledged is there (zero loss);
  * every batch is there whole or not at all (nothing half-applied);
and, after restarting the server (every round), that what it serves (/export/*.ndjson) equals a clean
`guarantor replay --store` of the same log (every 5th round and the last), and at the end that `guarantor verify`
finds the hash chain intact.

    python3 scripts/crash_loop.py --guarantor .build/release/guarantor [--rounds 50] [--seed 1]
"""
import argparse
import http.client
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

from served import ServedMission

SOURCES = ["us-acoustic-07", "uk-acoustic-02", "us-radar-03", "fr-radar-05", "de-camera-11", "mission-osint"]
START = datetime(2026, 3, 1, tzinfo=timezone.utc)
EXPORTS = ["incidents.ndjson", "violations.ndjson", "alerts.ndjson", "obligations.ndjson"]


def observation(rng, oid, t):
    return json.dumps({
        "id": oid, "source": rng.choice(SOURCES), "observedAt": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "kind": rng.choice(["explosion", "artilleryFire", "smallArmsFire"]),
        "location": {"lon": round(rng.uniform(36.0, 38.5), 5), "lat": round(rng.uniform(47.3, 49.3), 5),
                     "uncertaintyMeters": 300}, "tlp": "GREEN"}, separators=(",", ":"))


class Run(ServedMission):
    def __init__(self, guarantor):
        super().__init__(guarantor, "crash", ("sensor", "admin"))

    def stored_ids(self):
        db = sqlite3.connect(self.store)
        try:
            return {row[0] for row in db.execute("SELECT observation_id FROM event WHERE kind = 'observation'")}
        finally:
            db.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--guarantor", required=True)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between a sender's requests")
    parser.add_argument("--compare-every", type=int, default=5,
                        help="compare the served state with a clean replay every N rounds (and after the last)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    run = Run(args.guarantor)
    sent_batches = []  # (ids, acknowledged)
    lock = threading.Lock()
    clock = [START]
    failures = []
    acknowledged_total = 0
    try:
        for r in range(args.rounds):
            run.start(extra=("--snapshot-every", "2000"))
            stop = threading.Event()

            def sender(kind, worker):
                local = random.Random(rng.random())
                n = 0
                while not stop.is_set():
                    size = local.randint(10, 200) if kind == "bulk" else 1
                    with lock:
                        t0 = clock[0]
                        clock[0] += timedelta(seconds=3 * size)
                    ids = [f"r{r}-{kind}{worker}-{n}-{i}" for i in range(size)]
                    n += 1
                    lines = [observation(local, oid, t0 + timedelta(seconds=3 * i)) for i, oid in enumerate(ids)]
                    entry = [ids, False]
                    with lock:
                        sent_batches.append(entry)
                    try:
                        if kind == "bulk":
                            status, _ = run.request("POST", "/observations", "sensor", "\n".join(lines).encode(),
                                                    "application/x-ndjson")
                        else:
                            status, _ = run.request("POST", "/observations", "sensor", lines[0].encode(),
                                                    "application/json")
                        if status in (200, 201):
                            entry[1] = True
                    except (OSError, http.client.HTTPException):
                        return  # the server is gone
                    time.sleep(args.pause)

            threads = [threading.Thread(target=sender, args=("bulk", 0)),
                       threading.Thread(target=sender, args=("single", 1))]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.1, 1.2))
            run.process.send_signal(signal.SIGKILL)
            run.process.wait()
            stop.set()
            for t in threads:
                t.join()

            stored = run.stored_ids()
            acknowledged = [ids for ids, ack in sent_batches if ack]
            lost = [oid for ids in acknowledged for oid in ids if oid not in stored]
            partial = [ids[0] for ids, _ in sent_batches if 0 < sum(oid in stored for oid in ids) < len(ids)]
            if lost:
                failures.append(f"round {r + 1}: {len(lost)} acknowledged observations lost, e.g. {lost[:3]}")
            if partial:
                failures.append(f"round {r + 1}: {len(partial)} batches half-applied, e.g. {partial[:3]}")

            # Restarted, the server serves exactly what a clean replay of the log gives.
            run.start(extra=("--snapshot-every", "2000"))
            compare = (r + 1) % args.compare_every == 0 or r + 1 == args.rounds
            out = os.path.join(run.dir, "replay")
            shutil.rmtree(out, ignore_errors=True)
            if compare:
                subprocess.run(
                    [args.guarantor, "replay", "--mission", run.mission, "--store", run.store, "--out", out],
                    check=True, capture_output=True)
            for name in EXPORTS if compare else []:
                status, served = run.request("GET", "/export/" + name, "admin", timeout=120)
                with open(os.path.join(out, name), "rb") as f:
                    if status != 200 or served != f.read():
                        failures.append(f"round {r + 1}: /export/{name} differs from a clean replay of the log")
            run.stop()
            acknowledged_total = sum(len(ids) for ids in acknowledged)
            print(f"round {r + 1}: {len(stored):,} observations stored, {acknowledged_total:,} acknowledged, "
                  f"{len(lost)} lost, {len(partial)} half-applied"
                  + (", served state = clean replay" if compare else ""), flush=True)

        verify = subprocess.run([args.guarantor, "verify", "--mission", run.mission, "--store", run.store],
                                capture_output=True, text=True)
        if verify.returncode != 0:
            failures.append("guarantor verify: " + verify.stdout + verify.stderr)
        print(f"crash loop: {args.rounds} rounds of SIGKILL under load; {acknowledged_total:,} observations "
              f"acknowledged, {len(run.stored_ids()):,} stored; lost: "
              f"{sum('lost' in f for f in failures)} rounds with loss; failures: {len(failures)}")
        for f in failures:
            print("FAILED:", f)
        return 1 if failures else 0
    finally:
        run.remove()


if __name__ == "__main__":
    sys.exit(main())
