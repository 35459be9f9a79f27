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
4. each export's time, printed (the target for a week of 100,000 observations is 5 s: scripts/bench_exchange.py).

Exit 0 when every check passes.
"""
import argparse
import collections
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

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
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
