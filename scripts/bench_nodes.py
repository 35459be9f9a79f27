#!/usr/bin/env python3
"""Benchmark of three `guarantor serve` nodes on one PostgreSQL store (issue 17), release build, 127.0.0.1. Not a test.

1. Durable bulk ingest into PostgreSQL: N observations in NDJSON requests of 10,000 (each one transaction, one
   binary COPY), from two connections to one node; then the same to all three nodes at once (two connections each),
   the sum. Prints observations/s and checks the count in the database.
2. Tripwire alert latency across nodes: observations at RATE a second to random nodes, a strike on the protected
   site every 0.5 s; a stream client on another node than the one that acknowledged the strike notes its alert's
   arrival. Prints p50/p99/max of arrival minus acknowledgement.
3. Takeover after a SIGKILL: the node holding the protected site's partition is killed while strikes go on to the
   others; prints the time until its leases are held by the survivors, and until the first alert of a strike sent
   after the kill reaches the stream client. Three rounds (the node restarted between them).

    . scripts/postgres.sh && python3 scripts/bench_nodes.py --guarantor .build/release/guarantor [--bulk 500000]
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
from datetime import timedelta

from fault_nodes import Cluster
from load import START, observation, rfc3339, strike
from served import stream_alerts


def bulk(guarantor, base, total, nodes_sending):
    cluster = Cluster(guarantor, base, serve_args=())
    try:
        for n in range(3):
            cluster.start(n)
        rng = random.Random(1)
        queue = []
        for b in range(0, total, 10_000):
            lines = [observation(rng, n, START + timedelta(seconds=2.5 * n)) for n in range(b, min(b + 10_000, total))]
            queue.append("\n".join(lines).encode())
        queue.reverse()
        lock = threading.Lock()
        appended = [0]

        def send(node):
            while True:
                with lock:
                    if not queue:
                        return
                    body = queue.pop()
                status, text = cluster.request(node, "POST", "/observations", "sensor", body, "application/x-ndjson",
                                               timeout=600)
                if status not in (200, 201):
                    raise SystemExit(f"ingest refused: {status} {text[:300]!r}")
                with lock:
                    appended[0] += json.loads(text)["appended"]

        threads = [threading.Thread(target=send, args=(n,)) for n in nodes_sending for _ in range(2)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.monotonic() - started
        stored = int(cluster.psql("SELECT count(*) FROM event WHERE kind = 'observation'")[0])
        print(f"bulk ingest to {len(nodes_sending)} node(s), 2 connections each: {appended[0]:,} observations "
              f"acknowledged in {seconds:.2f} s = {appended[0] / seconds:,.0f} observations/s; in PostgreSQL: "
              f"{stored:,}", flush=True)
    finally:
        for p in cluster.processes:
            if p and p.poll() is None:
                p.kill()
        shutil.rmtree(cluster.dir, ignore_errors=True)


class Strikes:
    """A stream client on one node noting when each tripwire alert arrives (by firedAt)."""

    def __init__(self, cluster, node):
        self.arrivals = {}
        self.cluster, self.node = cluster, node
        self.done = threading.Event()
        threading.Thread(target=self.listen, daemon=True).start()

    def listen(self):
        last = None
        while not self.done.is_set():
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.cluster.ports[self.node], timeout=600)
                headers = {"Authorization": "Bearer " + self.cluster.keys["auditor"]}
                if last:
                    headers["Last-Event-ID"] = last
                c.request("GET", "/stream?events=alert", headers=headers)
                for last, a in stream_alerts(c.getresponse()):
                    if a["triggerId"] == "tripwire" and a["provisional"]:
                        self.arrivals.setdefault(a["firedAt"], time.monotonic())
            except (OSError, http.client.HTTPException):
                time.sleep(0.1)


def latency(guarantor, base, rate, seconds):
    cluster = Cluster(guarantor, base, serve_args=())
    try:
        for n in range(3):
            cluster.start(n)
        clients = [Strikes(cluster, n) for n in range(3)]
        time.sleep(1)
        rng = random.Random(2)
        per_batch = int(rate * 0.05)
        acknowledged = {}  # firedAt -> (ack time, node that took it)
        started = time.monotonic()
        n = 0
        for b in range(int(seconds / 0.05)):
            t = START + timedelta(seconds=1200 * b)
            lines = [observation(rng, n + i, t + timedelta(seconds=2.4 * i)) for i in range(per_batch)]
            n += per_batch
            node = rng.randrange(3)
            struck = b % 10 == 9
            if struck:
                lines.append(strike(b, t))
            status, text = cluster.request(node, "POST", "/observations", "sensor", "\n".join(lines).encode(),
                                           "application/x-ndjson")
            if status not in (200, 201):
                raise SystemExit(f"ingest refused: {status} {text[:300]!r}")
            if struck:
                acknowledged[rfc3339(t)] = (time.monotonic(), node)
            wait = started + (b + 1) * 0.05 - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        sent = time.monotonic() - started
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(k not in c.arrivals for k in acknowledged for c in clients):
            time.sleep(0.1)
        # Each strike measured on the client of the next node: never the node that acknowledged it.
        latencies = sorted((clients[(node + 1) % 3].arrivals[k] - at) * 1000 for k, (at, node) in acknowledged.items()
                           if k in clients[(node + 1) % 3].arrivals)
        pct = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else float("nan")
        print(f"alert latency across nodes: {n:,} observations in {sent:.1f} s = {n / sent:,.0f} observations/s to "
              f"random nodes; {len(acknowledged)} strikes, {len(latencies)} alerts received on another node; "
              f"ack → stream p50 {pct(0.5):.1f} ms, p99 {pct(0.99):.1f} ms, max {max(latencies or [0]):.1f} ms",
              flush=True)
        for c in clients:
            c.done.set()
    finally:
        for p in cluster.processes:
            if p and p.poll() is None:
                p.kill()
        shutil.rmtree(cluster.dir, ignore_errors=True)


def takeover(guarantor, base, rounds):
    cluster = Cluster(guarantor, base, serve_args=())
    try:
        for n in range(3):
            cluster.start(n)
        t = [START]
        stop = threading.Event()
        sent = {}  # firedAt -> time acknowledged
        alive = [True, True, True]
        clients = [Strikes(cluster, n) for n in range(3)]

        def strikes():
            k = 0
            while not stop.is_set():
                t[0] += timedelta(hours=1)
                node = next(n for n in random.sample(range(3), 3) if alive[n])
                try:
                    status, _ = cluster.request(node, "POST", "/observations", "sensor", strike(k, t[0]).encode(),
                                                "application/x-ndjson", timeout=10)
                    if status in (200, 201):
                        sent[rfc3339(t[0])] = time.monotonic()
                except (OSError, http.client.HTTPException):
                    pass
                k += 1
                time.sleep(0.25)

        threading.Thread(target=strikes, daemon=True).start()
        time.sleep(8)  # leases balanced, the site's partition known
        for r in range(rounds):
            partition = int(cluster.psql("SELECT partition FROM change WHERE kind = 'alert' LIMIT 1")[0])
            holder = cluster.psql(f"SELECT node FROM lease WHERE partition = {partition}")[0]
            victim = int(holder[1:])
            watcher = (victim + 1) % 3
            held = cluster.psql(f"SELECT count(*) FROM lease WHERE node = '{holder}'")[0]
            alive[victim] = False
            killed = time.monotonic()
            cluster.kill(victim)
            leases = alert = None
            while time.monotonic() - killed < 60 and (leases is None or alert is None):
                if leases is None and cluster.psql(
                        f"SELECT count(*) FROM lease WHERE node = '{holder}' OR expires_at < now()")[0] == "0":
                    leases = time.monotonic() - killed
                after = [clients[watcher].arrivals[k] - killed for k, at in list(sent.items())
                         if at > killed and k in clients[watcher].arrivals]
                if alert is None and after:
                    alert = min(after)
                time.sleep(0.05)
            print(f"takeover {r + 1}: {holder} (holding {held} of the partitions, the site's among them) killed; "
                  f"its leases held by the others after {leases if leases is not None else float('nan'):.2f} s; "
                  f"the first alert of a strike sent after the kill reached the client on n{watcher} after "
                  f"{alert if alert is not None else float('nan'):.2f} s", flush=True)
            cluster.start(victim)
            alive[victim] = True
            time.sleep(8)  # it takes its share back
        stop.set()
    finally:
        for p in cluster.processes:
            if p and p.poll() is None:
                p.kill()
        shutil.rmtree(cluster.dir, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--guarantor", required=True)
    parser.add_argument("--bulk", type=int, default=500_000)
    parser.add_argument("--rate", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    base = os.environ.get("GUARANTOR_TEST_POSTGRES")
    if not base:
        print("FAILED: no PostgreSQL: source scripts/postgres.sh first")
        return 1
    if args.bulk:
        bulk(args.guarantor, base, args.bulk, [0])
        bulk(args.guarantor, base, args.bulk, [0, 1, 2])
    if args.seconds:
        latency(args.guarantor, base, args.rate, args.seconds)
    if args.rounds:
        takeover(args.guarantor, base, args.rounds)


if __name__ == "__main__":
    sys.exit(main())
