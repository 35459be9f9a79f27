#!/usr/bin/env python3
"""Load test of the HTTP API on 127.0.0.1: the two figures of DESIGN §4 / issue 5.

1. Durable bulk ingest: N observations in NDJSON batches over HTTP into the embedded store (every batch one
   committed transaction, synchronous=FULL), from a few concurrent connections. Prints observations/s.
2. Alert latency under sustained load: observations sent at RATE a second (a batch every 50 ms) for SECONDS, with a
   strike on the protected deployment site every 0.5 s (each completes a tripwire alert on its own: one reliable
   report). A Server-Sent Events client on /stream notes when each tripwire alert arrives; the latency is arrival
   minus the moment the POST that carried the strike was acknowledged. Prints p50/p99/max.

Each phase runs against its own fresh server and store (the example mission), started here. With --history N, the
latency phase's store first holds N observations of the month before (ingested with `guarantor ingest`); the script
then times the server's first start (the whole log replayed), its restart (from the snapshot saved at shutdown),
`guarantor status` and `guarantor review act` on that store, and measures the alert latency on top of that history.

    python3 scripts/load.py --guarantor .build/release/guarantor [--bulk 500000] [--rate 10000] [--seconds 20]
                            [--history 1000000]
"""
import argparse
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

from served import ServedMission, stream_alerts

SITE = (35.0462, 48.4647)  # deployment-main in docs/examples/mission/coalition.json
SOURCES = ["us-acoustic-07", "uk-acoustic-02", "us-radar-03", "fr-radar-05", "de-camera-11", "mission-osint"]
START = datetime(2026, 3, 1, tzinfo=timezone.utc)


def rfc3339(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def observation(rng, n, t):
    """One explosion somewhere along the example line (well away from the protected site); a simulated month of
    reports at 1,500 an hour, as in scripts/check_real_line.py."""
    lon, lat = rng.uniform(36.0, 38.5), rng.uniform(47.3, 49.3)
    return (
        '{"id":"load-%d","source":"%s","observedAt":"%s","kind":"explosion",'
        '"location":{"lon":%.5f,"lat":%.5f,"uncertaintyMeters":300},"tlp":"GREEN"}'
        % (n, rng.choice(SOURCES), rfc3339(t), lon, lat)
    )


def strike(n, t):
    return (
        '{"id":"strike-%d","source":"us-radar-03","observedAt":"%s","kind":"explosion",'
        '"location":{"lon":%.5f,"lat":%.5f,"uncertaintyMeters":100},"tlp":"GREEN"}' % (n, rfc3339(t), SITE[0], SITE[1])
    )


class Server(ServedMission):
    """`guarantor serve` on a free port with a fresh store, and a sensor, an auditor and an analyst key; with
    `history`, that many observations of the month before START are in the store first."""

    def __init__(self, guarantor, history=0, serve_args=()):
        super().__init__(guarantor, "load", ("sensor", "auditor", "analyst"))
        self.serve_args = tuple(serve_args)
        if history:
            self.prepare_history(history)
        self.start()

    def start(self, timeout=120, extra=()):
        super().start(timeout, self.serve_args + tuple(extra))

    def timed_start(self):
        started = time.monotonic()
        self.start(timeout=1800)
        return time.monotonic() - started

    def prepare_history(self, n):
        rng = random.Random(3)
        path = os.path.join(self.dir, "history.ndjson")
        first = START - timedelta(seconds=2.5 * n)
        with open(path, "w") as f:
            for k in range(n):
                f.write(observation(rng, -(k + 1), first + timedelta(seconds=2.5 * k)) + "\n")
        started = time.monotonic()
        subprocess.run([self.guarantor, "ingest", "--mission", self.mission, "--store", self.store, path],
                       check=True, capture_output=True)
        print(f"history: {n:,} observations ({first:%Y-%m-%d} to {START:%Y-%m-%d}) ingested in "
              f"{time.monotonic() - started:.1f} s")
        os.remove(path)
        cold = self.timed_start()
        ServedMission.stop(self)  # SIGTERM: the server saves a snapshot of its engine as it stops
        warm = self.timed_start()
        print(f"serve on {n:,} observations: ready (/health 200, results loaded) in {cold:.1f} s replaying the whole "
              f"log (first start), {warm:.2f} s from the snapshot saved at shutdown (target ≤ 5 s)")
        ServedMission.stop(self)
        incident = None
        for label, args in [("status", ["status"]), ("review queue", ["review", "queue", "--limit", "1"])]:
            started = time.monotonic()
            out = subprocess.run([self.guarantor] + args + ["--mission", self.mission, "--store", self.store],
                                 check=True, capture_output=True, text=True).stdout
            print(f"guarantor {label}: {time.monotonic() - started:.2f} s (target ≤ 1 s for status)")
            if label == "review queue":
                incident = next((w for w in out.split() if w.startswith("I") and len(w) == 17), None)
        if incident:
            started = time.monotonic()
            run = subprocess.run([self.guarantor, "review", "act", "--mission", self.mission, "--store", self.store,
                                  "--action", "dispute", "--incident", incident, "--member", "MISSION",
                                  "--user", "load-reviewer", "--reason", "load test", "--at",
                                  rfc3339(START)], capture_output=True, text=True)
            print(f"guarantor review act: {time.monotonic() - started:.2f} s (target ≤ 1 s): "
                  f"{(run.stdout or run.stderr).splitlines()[0] if (run.stdout or run.stderr) else ''}")

    def post(self, connection, body):
        connection.request("POST", "/observations", body=body, headers={
            "Authorization": "Bearer " + self.keys["sensor"], "Content-Type": "application/x-ndjson"})
        response = connection.getresponse()
        text = response.read()
        if response.status not in (200, 201):
            raise SystemExit(f"ingest refused: {response.status} {text[:300]!r}")
        return json.loads(text)

    def stop(self):
        log = os.path.join(self.dir, "serve.log")
        if os.path.exists(log):
            shutil.copy(log, os.path.join(os.path.dirname(self.dir), "guarantor-load-last-serve.log"))
        self.remove()


def bulk(guarantor, total, batch, connections):
    rng = random.Random(1)
    bodies = []
    for b in range(0, total, batch):
        lines = [observation(rng, n, START + timedelta(seconds=2.5 * n)) for n in range(b, min(b + batch, total))]
        bodies.append("\n".join(lines).encode())
    server = Server(guarantor)
    try:
        queue = list(reversed(bodies))
        lock = threading.Lock()
        appended = [0]

        def send():
            c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
            while True:
                with lock:
                    if not queue:
                        return
                    body = queue.pop()
                result = server.post(c, body)
                with lock:
                    appended[0] += result["appended"]

        started = time.monotonic()
        threads = [threading.Thread(target=send) for _ in range(connections)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.monotonic() - started
        # Durable: what was acknowledged is in the store (checked after the server has stopped, below).
        server.process.terminate()
        server.process.wait(timeout=60)
        count = int(subprocess.run(
            ["sqlite3", server.store, "SELECT count(*) FROM event WHERE kind = 'observation'"],
            capture_output=True, text=True).stdout.strip() or -1) if shutil.which("sqlite3") else appended[0]
        print(f"bulk ingest: {appended[0]:,} observations acknowledged in {seconds:.2f} s = "
              f"{appended[0] / seconds:,.0f} observations/s ({batch:,} a request, {connections} connections); "
              f"in the store after shutdown: {count:,}")
        return appended[0] / seconds
    finally:
        server.stop()


def latency(guarantor, rate, seconds, batch_seconds=0.05, strike_every=10, history=0, serve_args=()):
    server = Server(guarantor, history, serve_args)
    try:
        arrivals = {}
        reconnects = [0]
        connected = threading.Event()
        done = threading.Event()

        def listen():
            # A client that falls too far behind has its stream ended by the server; it resumes with Last-Event-ID.
            last_id = None
            while not done.is_set():
                c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
                headers = {"Authorization": "Bearer " + server.keys["auditor"]}
                if last_id:
                    headers["Last-Event-ID"] = last_id
                c.request("GET", "/stream?events=alert", headers=headers)
                response = c.getresponse()
                connected.set()
                for last_id, alert in stream_alerts(response):
                    if done.is_set():
                        break
                    if alert["triggerId"] == "tripwire" and alert["provisional"]:
                        arrivals.setdefault(alert["firedAt"], time.monotonic())
                else:
                    reconnects[0] += 1

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        connected.wait(10)
        rng = random.Random(2)
        per_batch = int(rate * batch_seconds)
        acknowledged = {}
        c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
        started = time.monotonic()
        n = 0
        batches = int(seconds / batch_seconds)
        behind = 0.0
        for b in range(batches):
            t = START + timedelta(seconds=1200 * b)  # each batch 20 minutes of event time, 1,500 reports an hour
            lines = [observation(rng, n + i, t + timedelta(seconds=2.4 * i)) for i in range(per_batch)]
            n += per_batch
            struck = None
            if b % strike_every == strike_every - 1:
                struck = rfc3339(t)
                lines.append(strike(b, t))
            server.post(c, "\n".join(lines).encode())
            if struck:
                acknowledged[struck] = time.monotonic()
            wait = started + (b + 1) * batch_seconds - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            else:
                behind = max(behind, -wait)
        sent_seconds = time.monotonic() - started
        deadline = time.monotonic() + 30
        while len(arrivals) < len(acknowledged) and time.monotonic() < deadline:
            time.sleep(0.05)
        done.set()
        c.request("GET", "/alerts", headers={"Authorization": "Bearer " + server.keys["auditor"]})
        recorded = {a["firedAt"] for a in json.loads(c.getresponse().read())["alerts"]
                    if a["triggerId"] == "tripwire" and a["provisional"]}
        latencies = sorted((arrivals[k] - acknowledged[k]) * 1000 for k in acknowledged if k in arrivals)
        missing = len(acknowledged) - len(latencies)
        c.request("GET", "/metrics", headers={"Authorization": "Bearer " + server.keys["auditor"]})
        metrics = dict(l.rsplit(" ", 1) for l in c.getresponse().read().decode().splitlines()
                       if l and not l.startswith("#"))
        drawings = float(metrics.get("guarantor_engine_drawing_seconds_count", 0))
        if drawings:
            print(f"drawings: {drawings:,.0f}, {float(metrics['guarantor_engine_drawing_seconds_sum']) / drawings * 1000:.1f} ms "
                  f"on average (each feeds what was acknowledged since the last and draws what changed)")

        def pct(p):
            return latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else float("nan")

        print(f"alert latency: {n:,} observations in {sent_seconds:.1f} s = {n / sent_seconds:,.0f} observations/s "
              f"sustained (target {rate:,}; the sender was at most {behind * 1000:.0f} ms behind); "
              f"{len(acknowledged)} tripwire strikes, {len(recorded & set(acknowledged))} alerts raised, "
              f"{len(latencies)} received on the stream ({reconnects[0]} reconnections), {missing} not received; "
              f"ack → stream p50 {pct(0.5):.1f} ms, p99 {pct(0.99):.1f} ms, max {latencies[-1] if latencies else 0:.1f} ms")
        return pct(0.99)
    finally:
        server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--guarantor", required=True)
    parser.add_argument("--bulk", type=int, default=500_000, help="observations in the bulk phase")
    parser.add_argument("--batch", type=int, default=10_000, help="observations a bulk request")
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--rate", type=int, default=10_000, help="observations a second in the latency phase")
    parser.add_argument("--seconds", type=float, default=20, help="length of the latency phase")
    parser.add_argument("--history", type=int, default=0, help="observations already in the store (e.g. 1000000)")
    parser.add_argument("--snapshot-every", type=int, help="events between the server's snapshots (its default if unset)")
    args = parser.parse_args()
    if args.bulk:
        bulk(args.guarantor, args.bulk, args.batch, args.connections)
    if args.seconds:
        serve_args = ("--snapshot-every", str(args.snapshot_every)) if args.snapshot_every else ()
        latency(args.guarantor, args.rate, args.seconds, history=args.history, serve_args=serve_args)


if __name__ == "__main__":
    sys.exit(main())
