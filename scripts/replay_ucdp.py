#!/usr/bin/env python3
"""Real data through the engine: UCDP GED events in Ukraine 2014–2019 against the Minsk-era contact line.

1. `guarantor mission init` with the 2015–2022 Donbas contact line (derived proxy) and the oblasts as sectors;
2. each UCDP event becomes one observation (kind `casualty`, from a `ucdp-ged` open source, located with an
   uncertainty from UCDP's `where_prec`, on `date_start` at noon UTC);
3. `guarantor replay`; then the sector found for each event with exact coordinates (`where_prec` 1) is compared
   with UCDP's own province (`adm_1`) — it must agree for at least 95 % — and the events within 5, 15 and 50 km
   of the line are counted.

    python3 scripts/replay_ucdp.py --guarantor .build/release/guarantor
"""
import argparse
import collections
import csv
import json
import os
import subprocess
import sys
import tempfile

UNCERTAINTY_BY_PRECISION = {"1": 1_000, "2": 25_000, "3": 50_000, "4": 100_000, "5": 150_000, "6": 300_000, "7": 500_000}


def run(cmd):
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"FAILED: {' '.join(cmd)}\n{done.stdout}\n{done.stderr}")
    return done.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--guarantor", required=True)
    ap.add_argument("--data", default=os.environ.get("GUARANTOR_DATA", os.path.join(os.path.dirname(__file__), "../../shared/data")))
    args = ap.parse_args()
    line = os.path.join(args.data, "pre2022-line-of-contact-proxy/donbas_contact_line_proxy.geojson")
    oblasts = os.path.join(args.data, "ukraine-admin-boundaries/geoBoundaries-UKR-ADM1_simplified.geojson")
    events_csv = os.path.join(args.data, "ucdp-ged-ukraine/ucdp_ged_ukraine_2014-2019.csv")
    if not all(map(os.path.exists, [line, oblasts, events_csv])):
        sys.exit(f"real data not found in {args.data}: set GUARANTOR_DATA to the shared/data directory")
    with open(events_csv, newline="", encoding="utf-8") as f:
        events = list(csv.DictReader(f))

    with tempfile.TemporaryDirectory() as tmp:
        mission = os.path.join(tmp, "mission")
        # Kramatorsk on the Government side, Donetsk city on the other.
        run([args.guarantor, "mission", "init", mission, "--line", line, "--sectors", oblasts,
             "--party", "UA=37.58,48.73", "--party", "RU=37.80,48.00", "--effective-at", "2015-02-15T00:00:00Z"])
        sources_path = os.path.join(mission, "sources.json")
        with open(sources_path) as f:
            sources = json.load(f)
        sources["sources"].append({"id": "ucdp-ged", "kind": "osint", "organisation": "UCDP", "reliability": "C"})
        with open(sources_path, "w") as f:
            json.dump(sources, f, indent=2)
        observations = os.path.join(tmp, "ucdp.ndjson")
        with open(observations, "w") as f:
            for e in sorted(events, key=lambda e: (e["date_start"], e["id"])):
                f.write(json.dumps({
                    "id": f"ucdp-{e['id']}", "source": "ucdp-ged", "observedAt": f"{e['date_start'][:10]}T12:00:00Z",
                    "timeUncertaintySeconds": 43_200, "kind": "casualty",
                    "location": {"lon": float(e["longitude"]), "lat": float(e["latitude"]),
                                 "uncertaintyMeters": UNCERTAINTY_BY_PRECISION.get(e["where_prec"], 500_000)},
                    "count": max(1, int(e["best"] or 1)),
                    "text": e["dyad_name"][:200],
                }) + "\n")
        out = os.path.join(tmp, "out")
        print(run([args.guarantor, "replay", "--mission", mission, "--observations", observations, "--out", out]).strip())
        with open(os.path.join(out, "observations.ndjson")) as f:
            results = {r["id"]: r for r in map(json.loads, f)}

    precise = [e for e in events if e["where_prec"] == "1" and e["adm_1"]]
    agree = 0
    disagreements = collections.Counter()
    for e in precise:
        sector = results[f"ucdp-{e['id']}"]["sector"] or ""
        # geoBoundaries "Donetsk Oblast" vs UCDP "Donetsk oblast"; UCDP's "Kiev Special Republican city" is "Kyiv".
        if sector.lower().split()[0:1] == e["adm_1"].lower().split()[0:1] or (
                e["adm_1"].startswith("Kiev") and sector.lower().startswith("kyiv")):
            agree += 1
        else:
            disagreements[(e["adm_1"], sector)] += 1
    share = agree / len(precise)
    distances = [r["distanceToLineMeters"] for r in results.values()]
    within = {km: sum(d <= km * 1000 for d in distances) for km in (5, 15, 50)}
    sides = collections.Counter(r["side"] for r in results.values())
    print(f"UCDP GED 2014–2019: {len(events):,} events; within 5 km of the line {within[5]:,}, within 15 km {within[15]:,}, "
          f"within 50 km {within[50]:,}; by side {dict(sides)}")
    print(f"sector vs UCDP adm_1 for {len(precise):,} events with exact coordinates: {agree:,} agree ({share:.1%})")
    for (adm, sector), n in disagreements.most_common(5):
        print(f"  {n} × UCDP {adm!r} vs sector {sector!r}")
    ok = share >= 0.95
    print("ucdp check: " + ("1 passed, 0 failed" if ok else "0 passed, 1 failed"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
