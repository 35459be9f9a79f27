#!/usr/bin/env python3
"""Readers on a streaming replica (issue 17): a standby made with pg_basebackup from the test cluster, a writer node
on the primary and a reader node (`--read-store` the replica) beside it. Observations and reviews are sent to both
(the reader node writes at the primary, reads the replica). Then it checks:
  * the reader node serves byte for byte the writer node's exports, and `guarantor replay` of the log read on the
    primary and on the replica gives the same files;
  * an auditor's log entry read through the reader node is the primary's;
  * `guarantor verify` on the replica is clean;
  * a write to the replica is refused, saying why (`keys create`, and `serve` with the replica as its store).
The cluster comes from scripts/postgres.sh (GUARANTOR_TEST_POSTGRES, PGBIN, PGDATA_DIR).

    . scripts/postgres.sh && python3 scripts/replica_check.py --guarantor .build/release/guarantor
"""
import argparse
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone

from served import request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCES = ["us-acoustic-07", "uk-acoustic-02", "us-radar-03", "fr-radar-05", "de-camera-11", "mission-osint"]
EXPORTS = ["incidents.ndjson", "violations.ndjson", "alerts.ndjson", "obligations.ndjson"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(command):
    return ["su", "postgres", "-c", " ".join(command)] if os.geteuid() == 0 else command


def run(command, **kw):
    return subprocess.run(command, capture_output=True, text=True, **kw)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--guarantor", required=True)
    parser.add_argument("--batches", type=int, default=120)
    args = parser.parse_args()
    base, pgbin = os.environ.get("GUARANTOR_TEST_POSTGRES"), os.environ.get("PGBIN")
    if not base or not pgbin:
        print("FAILED: no PostgreSQL: source scripts/postgres.sh first (GUARANTOR_TEST_POSTGRES, PGBIN)")
        return 1
    primary_port = base.split("@127.0.0.1:")[1].split("/")[0]
    work = tempfile.mkdtemp(prefix="guarantor-replica-")
    os.chmod(work, 0o777)
    replica_dir, replica_port = os.path.join(work, "standby"), free_port()
    mission = os.path.join(work, "mission")
    shutil.copytree(os.path.join(ROOT, "docs", "examples", "mission"), mission)
    schema = "replica_" + uuid.uuid4().hex[:12]
    option = "?options=-csearch_path%3D" + schema
    primary = base + option
    replica = f"postgres://postgres@127.0.0.1:{replica_port}/{base.rsplit('/', 1)[1]}" + option
    processes, failures = [], []
    try:
        # The schema and keys first, then the standby: streaming replication carries on from its base backup.
        keys = {}
        for role in ("sensor", "analyst", "admin", "auditor"):
            out = run([args.guarantor, "keys", "create", "--mission", mission, "--store", primary, "--member",
                       "MISSION", "--user", f"replica-{role}", "--role", role], check=True).stdout
            keys[role] = next(w for w in out.split() if w.startswith("gk_"))
        run(as_postgres([f"{pgbin}/pg_basebackup", "-h", "127.0.0.1", "-p", primary_port, "-U", "postgres",
                         "-D", replica_dir, "-R", "-X", "stream", "--checkpoint=fast"]), check=True)
        # A hot standby needs at least the primary's max_connections (set on its command line, not in the backup).
        connections = run(["psql", base, "-Atc", "SHOW max_connections"], check=True).stdout.strip()
        started = subprocess.run(
            as_postgres([f"{pgbin}/pg_ctl", "-D", replica_dir, "-l", f"{work}/standby.log", "-o",
                         f"\"-p {replica_port} -k {work} -c listen_addresses=127.0.0.1 -c max_connections={connections}\"",
                         "-w", "-t", "60", "start"]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if started.returncode != 0:
            print(open(f"{work}/standby.log").read()[-2000:])
            raise SystemExit("FAILED: the standby did not start (its log above)")
        standby = run(["psql", f"postgres://postgres@127.0.0.1:{replica_port}/postgres", "-Atc",
                       "SELECT pg_is_in_recovery()"], check=True).stdout.strip()
        if standby != "t":
            failures.append(f"the replica is not in recovery ({standby!r})")

        ports = [free_port(), free_port()]
        for name, port, extra in [("writer", ports[0], []), ("reader", ports[1], ["--read-store", replica])]:
            log = open(os.path.join(work, f"{name}.log"), "ab")
            processes.append(subprocess.Popen(
                [args.guarantor, "serve", "--mission", mission, "--store", primary, "--node", name, "--results",
                 os.path.join(work, f"{name}.results.sqlite"), "--port", str(port), "--clock-every", "0"] + extra,
                stdout=log, stderr=log))
        for port in ports:
            deadline = time.monotonic() + 120
            while True:
                try:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    c.request("GET", "/health")
                    if c.getresponse().status == 200:
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise SystemExit(f"a node did not start; see {work}/writer.log and reader.log")
                    time.sleep(0.1)

        rng = random.Random(3)
        t = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=48)
        sent = reviews = 0
        for b in range(args.batches):
            lines = []
            for i in range(rng.randint(20, 120)):
                lines.append(json.dumps({
                    "id": f"r-{b}-{i}", "source": rng.choice(SOURCES), "observedAt": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "kind": rng.choice(["explosion", "artilleryFire", "smallArmsFire"]),
                    "location": {"lon": round(rng.uniform(36.0, 38.5), 5), "lat": round(rng.uniform(47.3, 49.3), 5),
                                 "uncertaintyMeters": 300}, "tlp": rng.choice(["GREEN", "AMBER"])}))
                t += timedelta(seconds=2)
            status, body = request(ports[b % 2], keys["sensor"], "POST", "/observations", "\n".join(lines).encode(),
                                   "application/x-ndjson")
            if status not in (200, 201):
                failures.append(f"batch {b} to the {'writer' if b % 2 == 0 else 'reader'} node: {status} {body[:200]}")
            sent += len(lines)
            if b % 10 == 5:
                status, body = request(ports[1], keys["analyst"], "GET", "/incidents?limit=20")
                listed = json.loads(body)["incidents"] if status == 200 else []
                if listed:
                    action = {"id": f"review-{b}", "at": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "action": "verify",
                              "member": "MISSION", "user": "replica-analyst", "incident": rng.choice(listed)["id"],
                              "reason": "seen on the imagery"}
                    status, body = request(ports[1], keys["analyst"], "POST", "/actions", json.dumps(action).encode(),
                                           "application/json")
                    if status == 201:
                        reviews += 1
                    elif status != 422:  # (a review refused by the rules says why; anything else is a fault)
                        failures.append(f"review {b} through the reader node: {status} {body[:200]}")

        # Reads on each node include every write acknowledged before them, whichever node took it.
        served = [tuple(request(p, keys["admin"], "GET", "/export/" + f, timeout=120)[1] for f in EXPORTS)
                  for p in ports]
        if served[0] != served[1]:
            failures.append("the reader node's exports differ from the writer node's: "
                            + ", ".join(f for f, a, b in zip(EXPORTS, *served) if a != b))
        replays = []
        for name, url in [("primary", primary), ("replica", replica)]:
            out = os.path.join(work, "replay-" + name)
            result = run([args.guarantor, "replay", "--mission", mission, "--store", url, "--out", out])
            if result.returncode != 0:
                failures.append(f"guarantor replay on the {name}: {result.stderr[-500:]}")
                replays.append(None)
            else:
                replays.append(tuple(open(os.path.join(out, f), "rb").read() for f in EXPORTS))
        if replays[0] != replays[1]:
            failures.append("guarantor replay reads the replica's log otherwise than the primary's")
        if replays[0] and served[1] != replays[0]:
            failures.append("the reader node's exports differ from guarantor replay of the log")

        if reviews == 0:
            failures.append("no review was stored through the reader node")
        head = int(run(["psql", primary, "-Atc", "SELECT count(*) FROM event"], check=True).stdout)
        entries = [request(p, keys["auditor"], "GET", f"/log/{head}") for p in ports]
        if entries[0][0] != 200 or entries[0] != entries[1]:
            failures.append(f"log entry {head}: writer {entries[0][0]}, reader {entries[1][0]}: not the same")

        # The reader node reads the replica: with the replica's replay paused, a write at the primary is not
        # readable through it (the read waits), while the writer node answers; once resumed, the reader catches up.
        psql_replica = ["psql", replica, "-Atc"]
        run(psql_replica + ["SELECT pg_wal_replay_pause()"], check=True)
        try:
            request(ports[0], keys["sensor"], "POST", "/observations", json.dumps({
                "id": "r-paused", "source": "us-radar-03", "observedAt": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "kind": "explosion", "location": {"lon": 37.0, "lat": 48.0, "uncertaintyMeters": 300},
                "tlp": "GREEN"}).encode(), "application/x-ndjson")
            try:
                waited = request(ports[1], keys["admin"], "GET", "/export/incidents.ndjson", timeout=3)[0] != 200
            except (OSError, http.client.HTTPException):
                waited = True
            if not waited:
                failures.append("with the replica paused, the reader node answered at once: it does not read there")
        finally:
            run(psql_replica + ["SELECT pg_wal_replay_resume()"], check=True)
        caught_up = request(ports[1], keys["admin"], "GET", "/export/incidents.ndjson", timeout=120)[1]
        if b"r-paused" not in caught_up:
            failures.append("the reader node did not catch up once the replica resumed")
        verify = run([args.guarantor, "verify", "--mission", mission, "--store", replica])
        if verify.returncode != 0:
            failures.append("guarantor verify on the replica: " + (verify.stdout + verify.stderr)[-1000:])
        refused = run([args.guarantor, "keys", "create", "--mission", mission, "--store", replica, "--member",
                       "MISSION", "--user", "x", "--role", "auditor"])
        if refused.returncode == 0 or "read only" not in refused.stderr + refused.stdout:
            failures.append(f"a key created on the replica: not refused as read only ({refused.stderr[-300:]})")
        serve = run([args.guarantor, "serve", "--mission", mission, "--store", replica, "--port", "0"], timeout=60)
        if serve.returncode == 0 or "--read-store" not in serve.stderr + serve.stdout:
            failures.append(f"serve with the replica as its store was not refused ({serve.stderr[-300:]})")

        other = replica.replace(schema, "replica_of_nothing")
        mismatched = run([args.guarantor, "serve", "--mission", mission, "--store", primary, "--read-store", other,
                          "--port", "0"], timeout=60)
        if mismatched.returncode == 0 or "read replica" not in mismatched.stderr + mismatched.stdout:
            failures.append(f"a read replica of another schema was not refused ({mismatched.stderr[-300:]})")
        print(f"replica check: {sent:,} observations in {args.batches} batches to a writer and a reader node, "
              f"{reviews} reviews through the reader; {head:,} events; reads through the reader waited while the replica was "
              f"paused: {'yes' if waited else 'NO'}; reader's exports = writer's = replay: "
              f"{'yes' if not any('differ' in f for f in failures) else 'NO'}; verify on the replica: "
              f"{'clean' if verify.returncode == 0 else 'FAILED'}; writes to the replica refused: "
              f"{'yes' if refused.returncode != 0 and serve.returncode != 0 else 'NO'}; a replica of another log refused: "
              f"{'yes' if mismatched.returncode != 0 else 'NO'}", flush=True)
        for f in failures:
            print("FAILED:", f)
        return 1 if failures else 0
    finally:
        for p in processes:
            p.kill()
        subprocess.run(as_postgres([f"{pgbin}/pg_ctl", "-D", replica_dir, "-m", "immediate", "-w", "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
