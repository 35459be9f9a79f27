#!/usr/bin/env python3
"""Faults across several nodes (issue 17): PostgreSQL and three `guarantor serve` nodes on 127.0.0.1.

Two clients post observations (bulk batches, some carrying a strike on the protected site, each one a tripwire
alert) and review actions to random nodes, retrying a failed request on another node (a retried batch is
idempotent); two stream clients follow /stream?events=alert on a random node, reconnecting to another one with
Last-Event-ID when theirs goes. Twenty times a random node is killed with SIGKILL and started again; once, half way,
PostgreSQL itself is restarted. Then, once every node has settled, it checks:
  * every acknowledged observation and action is stored exactly once, and no batch is half there;
  * every node serves byte-identical exports, equal to `guarantor replay` of the log;
  * every acknowledged strike's tripwire alert reached each stream client exactly once (by id);
  * `guarantor verify` finds the log clean;
and prints the counts. The cluster comes from scripts/postgres.sh (GUARANTOR_TEST_POSTGRES, PGBIN, PGDATA_DIR).

    . scripts/postgres.sh && python3 scripts/fault_nodes.py --guarantor .build/release/guarantor [--kills 20]
"""
import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

from served import request, stream_alerts

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SITE = (35.0462, 48.4647)  # deployment-main in docs/examples/mission/coalition.json
SOURCES = ["us-acoustic-07", "uk-acoustic-02", "us-radar-03", "fr-radar-05", "de-camera-11", "mission-osint"]
# Event time starts 60 h ago, a second per observation: reviews dated at their batch's time are within the 72 h an
# action may be dated back.
START = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=60)
EXPORTS = ["incidents.ndjson", "violations.ndjson", "alerts.ndjson", "obligations.ndjson"]


def rfc3339(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(command):
    return ["su", "postgres", "-c", " ".join(command)] if os.geteuid() == 0 else command


class Cluster:
    def __init__(self, guarantor, base_url, nodes=3, serve_args=("--snapshot-every", "2000")):
        self.guarantor = guarantor
        self.serve_args = list(serve_args)
        self.dir = tempfile.mkdtemp(prefix="guarantor-nodes-")
        self.mission = os.path.join(self.dir, "mission")
        shutil.copytree(os.path.join(ROOT, "docs", "examples", "mission"), self.mission)
        schema = "fault_" + uuid.uuid4().hex[:12]
        self.url = base_url + ("&" if "?" in base_url else "?") + "options=-csearch_path%3D" + schema
        self.keys = {role: self.key(role) for role in ("sensor", "analyst", "admin", "auditor")}
        self.ports = [free_port() for _ in range(nodes)]
        self.processes = [None] * nodes

    def key(self, role):
        out = subprocess.run(
            [self.guarantor, "keys", "create", "--mission", self.mission, "--store", self.url, "--member", "MISSION",
             "--user", f"fault-{role}", "--role", role], check=True, capture_output=True, text=True).stdout
        return next(w for w in out.split() if w.startswith("gk_"))

    def start(self, n, timeout=120):
        """Starts node n (again), waiting for /health; a start refused while PostgreSQL is away is tried again."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = open(os.path.join(self.dir, f"n{n}.log"), "ab")
            self.processes[n] = subprocess.Popen(
                [self.guarantor, "serve", "--mission", self.mission, "--store", self.url, "--node", f"n{n}",
                 "--results", os.path.join(self.dir, f"n{n}.results.sqlite"), "--port", str(self.ports[n]),
                 "--clock-every", "0"] + self.serve_args, stdout=log, stderr=log)
            while time.monotonic() < deadline and self.processes[n].poll() is None:
                try:
                    c = http.client.HTTPConnection("127.0.0.1", self.ports[n], timeout=5)
                    c.request("GET", "/health")
                    if c.getresponse().status == 200:
                        return
                except OSError:
                    time.sleep(0.05)
            time.sleep(0.5)
        raise SystemExit(f"node n{n} did not start; see {self.dir}/n{n}.log")

    def kill(self, n):
        self.processes[n].send_signal(signal.SIGKILL)
        self.processes[n].wait()

    def request(self, n, method, path, role, body=None, content_type=None, timeout=60):
        return request(self.ports[n], self.keys[role], method, path, body, content_type, timeout)

    def psql(self, sql):
        out = subprocess.run(["psql", self.url, "-Atc", sql], check=True, capture_output=True, text=True).stdout
        return [line for line in out.splitlines() if line]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--guarantor", required=True)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", help="a folder to write exports that differ into")
    args = parser.parse_args()
    base = os.environ.get("GUARANTOR_TEST_POSTGRES")
    pgbin, pgdata = os.environ.get("PGBIN"), os.environ.get("PGDATA_DIR")
    if not base or not pgbin or not pgdata:
        print("FAILED: no PostgreSQL: source scripts/postgres.sh first (GUARANTOR_TEST_POSTGRES, PGBIN, PGDATA_DIR)")
        return 1
    rng = random.Random(args.seed)
    cluster = Cluster(args.guarantor, base)
    failures = []
    lock = threading.Lock()
    batches, actions, strikes = [], [], {}  # [ids, acked]; [id, acked]; firedAt -> acked
    clock = [START]
    last_strike = [START]
    stop = threading.Event()
    received = [[], []]  # per stream client: (stream id, alert id, firedAt, trigger, provisional)

    def send(path, role, body, content_type, local):
        """Posts to random nodes until one acknowledges (or gives up after a minute): the status, or None."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _ = cluster.request(local.randrange(3), "POST", path, role, body, content_type)
                if status in (200, 201):
                    return status
                if status < 500:
                    return status
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.1)
        return None

    def writer(w):
        local = random.Random(rng.random())
        n = 0
        while not stop.is_set():
            size = local.randint(10, 150)
            with lock:
                t0 = clock[0]
                clock[0] += timedelta(seconds=size)
            ids = [f"w{w}-{n}-{i}" for i in range(size)]
            lines = [json.dumps({
                "id": oid, "source": local.choice(SOURCES), "observedAt": rfc3339(t0 + timedelta(seconds=i)),
                "kind": local.choice(["explosion", "artilleryFire", "smallArmsFire"]),
                "location": {"lon": round(local.uniform(36.0, 38.5), 5), "lat": round(local.uniform(47.3, 49.3), 5),
                             "uncertaintyMeters": 300}, "tlp": "GREEN"}, separators=(",", ":"))
                for i, oid in enumerate(ids)]
            with lock:
                # A strike at most every hour of event time: each its own incident, so its own alert.
                struck = t0 - last_strike[0] >= timedelta(hours=1)
                if struck:
                    last_strike[0] = t0
            if struck:
                ids.append(f"strike-w{w}-{n}")
                lines.append(json.dumps({
                    "id": ids[-1], "source": "us-radar-03", "observedAt": rfc3339(t0), "kind": "explosion",
                    "location": {"lon": SITE[0], "lat": SITE[1], "uncertaintyMeters": 100}, "tlp": "GREEN"},
                    separators=(",", ":")))
            entry = [ids, False]
            with lock:
                batches.append(entry)
            status = send("/observations", "sensor", "\n".join(lines).encode(), "application/x-ndjson", local)
            entry[1] = status in (200, 201)
            if status is not None and not entry[1]:
                # Only an unreachable cluster may leave a batch unacknowledged; a refusal is the script's fault or
                # the server's, and would shrink what is checked.
                with lock:
                    failures.append(f"batch {ids[0]} refused with {status}")
            if struck:
                with lock:
                    strikes[rfc3339(t0)] = entry[1]
            n += 1
            if n % 5 == 0:
                # Now and then a review of an incident some node lists.
                try:
                    status, body = cluster.request(local.randrange(3), "GET", "/incidents?limit=50", "analyst")
                    listed = json.loads(body)["incidents"] if status == 200 else []
                except (OSError, http.client.HTTPException, ValueError):
                    listed = []
                if listed:
                    aid = f"review-w{w}-{n}"
                    action = {"id": aid, "at": rfc3339(t0), "action": "verify", "member": "MISSION",
                              "user": "fault-analyst", "incident": local.choice(listed)["id"], "reason": "seen"}
                    status = send("/actions", "analyst", json.dumps(action).encode(), "application/json", local)
                    with lock:
                        actions.append([aid, status == 201])
            time.sleep(0.02)

    def follower(k):
        local = random.Random(100 + k)
        last = None
        while not stop.is_set() or time.monotonic() < settle_until[0]:
            try:
                c = http.client.HTTPConnection("127.0.0.1", cluster.ports[local.randrange(3)], timeout=10)
                headers = {"Authorization": "Bearer " + cluster.keys["auditor"]}
                if last:
                    headers["Last-Event-ID"] = last
                c.request("GET", "/stream?events=alert", headers=headers)
                for last, a in stream_alerts(c.getresponse()):
                    received[k].append((int(last), a["id"], a["firedAt"], a["triggerId"], a["provisional"]))
            except (OSError, http.client.HTTPException, ValueError):
                time.sleep(0.2)

    settle_until = [float("inf")]
    try:
        for n in range(3):
            cluster.start(n)
        threads = [threading.Thread(target=writer, args=(w,)) for w in range(2)]
        threads += [threading.Thread(target=follower, args=(k,), daemon=True) for k in range(2)]
        for t in threads:
            t.start()
        started = time.monotonic()
        for kill in range(args.kills):
            time.sleep(rng.uniform(0.5, 2.0))
            victim = rng.randrange(3)
            cluster.kill(victim)
            time.sleep(rng.uniform(0.2, 1.5))
            if kill == args.kills // 2:
                # (Its output to a file: the server it starts would hold a pipe open.)
                subprocess.run(as_postgres([f"{pgbin}/pg_ctl", "-D", f"{pgdata}/data", "-l", f"{pgdata}/server.log",
                                            "-m", "fast", "-w", "restart"]),
                               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                print(f"PostgreSQL restarted after {kill + 1} kills", flush=True)
            cluster.start(victim)
        stop.set()
        for t in threads[:2]:
            t.join()
        sent_for = time.monotonic() - started

        # Settled: every node serves the same exports (they follow one log), and stream clients caught up.
        settle_until[0] = time.monotonic() + 60
        served = None
        while time.monotonic() < settle_until[0]:
            served = [tuple(cluster.request(n, "GET", "/export/" + f, "admin", timeout=120)[1] for f in EXPORTS)
                      for n in range(3)]
            if served[0] == served[1] == served[2]:
                break
            time.sleep(1)
        out = os.path.join(cluster.dir, "replay")
        subprocess.run([args.guarantor, "replay", "--mission", cluster.mission, "--store", cluster.url, "--out", out],
                       check=True, capture_output=True)
        replayed = tuple(open(os.path.join(out, f), "rb").read() for f in EXPORTS)
        for n in range(3):
            for f, a, b in zip(EXPORTS, served[n], replayed):
                if a != b:
                    failures.append(f"node n{n}: /export/{f} differs from guarantor replay of the log")
                    if args.keep:
                        open(os.path.join(args.keep, f"n{n}-{f}"), "wb").write(a)
                        open(os.path.join(args.keep, f"replay-{f}"), "wb").write(b)

        stored = cluster.psql("SELECT observation_id FROM event WHERE kind = 'observation'")
        stored_set = set(stored)
        if len(stored) != len(stored_set):
            failures.append(f"{len(stored) - len(stored_set)} observations stored twice")
        acked = [ids for ids, ok in batches if ok]
        lost = [oid for ids in acked for oid in ids if oid not in stored_set]
        partial = [ids[0] for ids, _ in batches if 0 < sum(oid in stored_set for oid in ids) < len(ids)]
        if lost:
            failures.append(f"{len(lost)} acknowledged observations lost, e.g. {lost[:3]}")
        if partial:
            failures.append(f"{len(partial)} batches half there, e.g. {partial[:3]}")
        stored_actions = cluster.psql("SELECT action_id FROM event WHERE kind = 'action'")
        acked_actions = [aid for aid, ok in actions if ok]
        missing_actions = [aid for aid in acked_actions if aid not in set(stored_actions)]
        if missing_actions or len(stored_actions) != len(set(stored_actions)):
            failures.append(f"actions: {len(missing_actions)} acknowledged not stored, "
                            f"{len(stored_actions) - len(set(stored_actions))} stored twice")

        alerts = [json.loads(line) for line in replayed[2].splitlines()]
        tripwire = {a["firedAt"]: a["id"] for a in alerts if a["triggerId"] == "tripwire" and a["provisional"]}
        acked_strikes = [t for t, ok in strikes.items() if ok]
        unraised = [t for t in acked_strikes if t not in tripwire]
        if unraised:
            failures.append(f"{len(unraised)} acknowledged strikes raised no tripwire alert, e.g. {unraised[:3]}")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(
                {tripwire[t] for t in acked_strikes if t in tripwire} <= {r[1] for r in received[k]} for k in range(2)):
            time.sleep(0.5)
        for k in range(2):
            ids = [r[1] for r in received[k]]
            missed = [t for t in acked_strikes if t in tripwire and tripwire[t] not in ids]
            twice = len(ids) - len(set(ids))
            if missed:
                failures.append(f"stream client {k}: {len(missed)} tripwire alerts never arrived")
            if twice:
                failures.append(f"stream client {k}: {twice} alerts arrived twice")
            if [r[0] for r in received[k]] != sorted(r[0] for r in received[k]):
                failures.append(f"stream client {k}: alerts out of order")

        verify = subprocess.run([args.guarantor, "verify", "--mission", cluster.mission, "--store", cluster.url],
                                capture_output=True, text=True)
        if verify.returncode != 0:
            failures.append("guarantor verify: " + verify.stdout[-1000:] + verify.stderr[-1000:])
        print(f"fault script: 3 nodes, {args.kills} SIGKILLs and 1 PostgreSQL restart in {sent_for:.0f} s; "
              f"{sum(len(ids) for ids in acked):,} observations acknowledged in {len(acked):,} batches "
              f"({len(batches) - len(acked)} not), {len(stored):,} stored, {len(lost)} lost, {len(partial)} half there; "
              f"{len(acked_actions)} actions acknowledged, {len(stored_actions)} stored; "
              f"{len(acked_strikes)} strikes acknowledged, {len(tripwire)} tripwire alerts raised, received by the "
              f"stream clients {len({r[1] for r in received[0]} & set(tripwire.values()))} and "
              f"{len({r[1] for r in received[1]} & set(tripwire.values()))} times once "
              f"({len(received[0])} and {len(received[1])} alerts in all); exports alike on every node and equal to "
              f"the replay: {'yes' if not any('differs' in f for f in failures) else 'NO'}; verify: "
              f"{'clean' if verify.returncode == 0 else 'FAILED'}", flush=True)
        for f in failures:
            print("FAILED:", f)
        return 1 if failures else 0
    finally:
        stop.set()
        settle_until[0] = 0
        for p in cluster.processes:
            if p and p.poll() is None:
                p.kill()
        if args.keep and failures:
            shutil.copytree(cluster.dir, os.path.join(args.keep, "nodes"), dirs_exist_ok=True)
            print(f"kept the nodes' logs and results in {args.keep}/nodes; the log is {cluster.url}")
        shutil.rmtree(cluster.dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
