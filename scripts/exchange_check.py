#!/usr/bin/env python3
"""The exports checked by what no one here wrote: the OASIS STIX validator, the stix2 library and GDAL.

    python3 scripts/exchange_check.py --guarantor .build/release/guarantor [--hours 168]

A simulated week of the example mission (docs/examples/mission), its reports marked: every third TLP:CLEAR, every
seventeenth RED (originator UK), every eleventh AMBER, the rest unmarked (GREEN). Then, with `guarantor export`:

1. Poland's STIX bundle passes `stix2-validator` (STIX 2.1) with no error and no warning but the two documented as
   deliberate in docs/FORMATS.md#stix-21: {103} (ids are UUIDv5, for determinism) and {202} (`attributed-to` from an
   `incident`); `stix2.parse` reads it;
2. Poland's bundle holds none of the RED or AMBER reports (UK's RED is not Poland's; AMBER is the mission's), the
   public's only CLEAR ones, the mission's all of them;
3. `ogrinfo` (GDAL) reads the incidents and violations GeoJSON with as many features as the files hold, and the
   ACLED-style CSV has ACLED's 31 columns and a row per incident;
4. `taxii2-client` against `guarantor serve` over the same store: with Poland's key (Basic, the key as the password,
   as TAXII clients send it) it discovers the server, finds one collection and pages through its objects 1,000 at a
   time: the same objects as Poland's bundle, none RED or AMBER; the manifest agrees; without a key, the public's
   collection holds only CLEAR reports;
5. round trips: the mission's bundle imported (`guarantor import stix`) into a fresh store exports the same
   observations (ids, times, places, kinds, sources, markings); the UCDP GED file in ../shared/data imports whole;
6. each export's time, printed (the target for a week of 100,000 observations is 5 s: scripts/bench_exchange.py).

Exit 0 when every check passes.
"""
import argparse
import collections
import csv
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), ".."))
MISSION = os.path.join(ROOT, "docs", "examples", "mission")
FAILURES = []
DELIBERATE_WARNINGS = {"103", "202"}


def check(condition, what):
    print(("ok    " if condition else "FAIL  ") + what, flush=True)
    if not condition:
        FAILURES.append(what)


def run(*args):
    return subprocess.run(list(args), check=True, capture_output=True, text=True).stdout


def taxii(guarantor, store, work, marking, pl_bundle):
    out = run(guarantor, "keys", "create", "--mission", MISSION, "--store", store, "--member", "PL",
              "--user", "pl-cti", "--role", "liaison")
    key = next(w for w in out.split() if w.startswith("gk_"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([guarantor, "serve", "--mission", MISSION, "--store", store, "--port", str(port),
                               "--clock-every", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if urllib.request.urlopen(base + "/health", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        from taxii2client.v21 import Server, as_pages
        with open(pl_bundle) as f:
            exported = {o["id"] for o in json.load(f)["objects"]}
        for reader, password in (("PL", key), ("PUBLIC", None)):
            server_ = Server(base + "/taxii2/", user="pl-cti" if password else None, password=password)
            roots = server_.api_roots
            check(server_.title and len(roots) == 1 and server_.default is not None,
                  f"taxii2-client ({reader}): discovery names one API root ({server_.title})")
            collections = roots[0].collections
            check(len(collections) == 1 and collections[0].can_read and not collections[0].can_write,
                  f"taxii2-client ({reader}): one collection, read-only: {collections[0].title if collections else None}")
            collection = collections[0]
            started = time.monotonic()
            ids, pages, objects = [], 0, []
            for envelope in as_pages(collection.get_objects, per_request=1000):
                pages += 1
                objects += envelope.get("objects", [])
            elapsed = time.monotonic() - started
            ids = [o["id"] for o in objects]
            reports = [o["observation_id"] for o in objects if o["type"] == "field-observation"]
            print(f"      taxii2-client {reader}: {len(ids):,} objects in {pages} pages, {elapsed:.2f} s "
                  f"({1000 * elapsed / max(pages, 1):.0f} ms a page)", flush=True)
            check(len(ids) == len(set(ids)) and pages == max(1, -(-len(ids) // 1000)),
                  f"taxii2-client ({reader}): each object once, 1,000 a page")
            if reader == "PL":
                check(set(ids) == exported, f"Poland's collection is Poland's bundle: {len(set(ids))} and {len(exported)}")
                check(all(marking[i] not in ("RED", "AMBER") for i in reports),
                      f"Poland's collection: {len(reports):,} reports, none RED or AMBER")
            else:
                check(reports and all(marking[i] == "CLEAR" for i in reports),
                      f"the public's collection: {len(reports):,} reports, every one CLEAR")
            manifest = []
            for envelope in as_pages(collection.get_manifest, per_request=1000):
                manifest += envelope.get("objects", [])
            check({m["id"] for m in manifest} == set(ids), f"taxii2-client ({reader}): the manifest agrees")
            last = max(m["date_added"] for m in manifest)
            later = collection.get_objects(added_after=last)
            check(not later.get("objects"), f"taxii2-client ({reader}): nothing added after {last}")
    finally:
        server.terminate()
        server.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--guarantor", required=True)
    parser.add_argument("--hours", type=float, default=168)
    args = parser.parse_args()
    guarantor = os.path.abspath(args.guarantor)
    work = tempfile.mkdtemp(prefix="guarantor-exchange-")
    try:
        run(guarantor, "simulate", "--mission", MISSION, "--hours", str(args.hours), "--out", work)
        marking = {}
        with open(os.path.join(work, "observations.ndjson")) as f, \
                open(os.path.join(work, "marked.ndjson"), "w") as out:
            for k, line in enumerate(f):
                o = json.loads(line)
                if k % 3 == 0:
                    o["tlp"] = "CLEAR"
                elif k % 17 == 0:
                    o["tlp"], o["originator"] = "RED", "UK"
                elif k % 11 == 0:
                    o["tlp"] = "AMBER"
                marking[o["id"]] = o.get("tlp", "GREEN")
                out.write(json.dumps(o) + "\n")
        store = os.path.join(work, "events.sqlite")
        run(guarantor, "ingest", "--mission", MISSION, "--store", store, os.path.join(work, "marked.ndjson"))
        print(f"a simulated week: {len(marking):,} observations", flush=True)

        def export(fmt, *reader):
            path = os.path.join(work, f"{fmt}-{'-'.join(reader) or 'mission'}.out")
            started = time.monotonic()
            run(guarantor, "export", fmt, "--mission", MISSION, "--store", store, *reader, "--out", path)
            print(f"      guarantor export {fmt} {' '.join(reader)}: {time.monotonic() - started:.2f} s", flush=True)
            return path

        pl = export("stix", "--member", "PL")
        shutil.copy(pl, pl + ".json")  # the validator reads only files named *.json
        # 1. The OASIS validator and the stix2 library.
        from stix2validator import ValidationOptions, validate_file
        result = validate_file(pl + ".json", ValidationOptions(version="2.1"))
        errors = [str(e) for o in result.object_results for e in o.errors]
        warnings = collections.Counter(
            re.search(r"\{(\d+)\}", str(w)).group(1) if re.search(r"\{(\d+)\}", str(w)) else str(w)
            for o in result.object_results for w in o.warnings)
        check(result.is_valid and not errors, f"stix2-validator: Poland's bundle is valid ({errors[:3]})")
        check(set(warnings) <= DELIBERATE_WARNINGS,
              f"stix2-validator: only the deliberate warnings {sorted(DELIBERATE_WARNINGS)}: {dict(warnings)}")
        import stix2
        with open(pl) as f:
            parsed = stix2.parse(f.read(), allow_custom=True)
        kinds = collections.Counter(o["type"] for o in parsed.objects)
        check(kinds["incident"] > 0 and kinds["sighting"] == kinds["incident"] and kinds["report"] > 0,
              f"stix2 parses it: {dict(kinds)}")

        # 2. Releasability across the boundary.
        def observation_ids(path):
            with open(path) as f:
                return {o["observation_id"] for o in json.load(f)["objects"] if o["type"] == "field-observation"}

        pl_ids = observation_ids(pl)
        public_ids = observation_ids(export("stix", "--public"))
        mission_ids = observation_ids(export("stix"))
        check(all(marking[i] not in ("RED", "AMBER") for i in pl_ids) and pl_ids,
              f"Poland's bundle: {len(pl_ids):,} reports, none RED or AMBER")
        check(all(marking[i] == "CLEAR" for i in public_ids) and public_ids,
              f"the public's bundle: {len(public_ids):,} reports, every one CLEAR")
        check({"RED", "AMBER"} <= {marking[i] for i in mission_ids}, "the mission's bundle has the RED and AMBER ones")

        # 3. GDAL, and ACLED's columns.
        for name in ("incidents-geojson", "violations-geojson"):
            path = export(name, "--member", "PL")
            shutil.copy(path, path + ".geojson")
            with open(path) as f:
                features = len(json.load(f)["features"])
            info = run("ogrinfo", "-so", "-al", path + ".geojson")
            found = re.search(r"Feature Count: (\d+)", info)
            check(found is not None and int(found.group(1)) == features and features > 0,
                  f"ogrinfo reads {name}: {found and found.group(1)} features, the file has {features}")
        with open(os.path.join(work, "incidents-geojson---member-PL.out")) as f:
            incidents = len(json.load(f)["features"])
        with open(export("acled", "--member", "PL"), newline="") as f:
            rows = list(csv.reader(f))
        check(len(rows[0]) == 31 and rows[0][0] == "event_id_cnty" and rows[0][-1] == "timestamp",
              "the ACLED-style CSV has ACLED's 31 columns")
        check(len(rows) - 1 == incidents and all(len(r) == 31 for r in rows),
              f"a row per incident: {len(rows) - 1} rows, {incidents} incidents")

        # Round trip: the mission's bundle imported into a fresh store gives the same observations.
        whole = export("stix")
        fresh = os.path.join(work, "fresh.sqlite")
        print("      " + run(guarantor, "import", "stix", whole, "--mission", MISSION, "--store", fresh,
                             "--member", "UK").strip().replace("\n", "\n      "), flush=True)
        again = os.path.join(work, "again.json")
        run(guarantor, "export", "stix", "--mission", MISSION, "--store", fresh, "--out", again)

        def observations(path):
            with open(path) as f:
                return {o["observation_id"]: (o["observed_at"], o["longitude"], o["latitude"], o["uncertainty_meters"],
                                              o["kind"], o["source"], tuple(o["object_marking_refs"]))
                        for o in json.load(f)["objects"] if o["type"] == "field-observation"}
        before, after = observations(whole), observations(again)
        check(before == after and before,
              f"round trip: {len(after):,} observations back, the same ids, times, places and markings")
        data = os.environ.get("GUARANTOR_DATA", os.path.join(ROOT, "..", "shared", "data"))
        ucdp = os.path.join(data, "ucdp-ged-ukraine", "ucdp_ged_ukraine_2014-2019.csv")
        if not os.path.exists(ucdp):
            check(False, f"the UCDP file is missing: {ucdp} (set GUARANTOR_DATA to the shared/data directory)")
        else:
            out = run(guarantor, "import", "ucdp", ucdp, "--mission", MISSION, "--store",
                      os.path.join(work, "ucdp.sqlite"), "--member", "MISSION", "--source", "mission-osint")
            check("2,744 appended" in out, f"guarantor import ucdp: {out.splitlines()[0]}")

        # 4. A real TAXII client against the server.
        taxii(guarantor, store, work, marking, pl)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
