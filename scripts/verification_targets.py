#!/usr/bin/env python3
"""Verification on every noise profile, on the real 1,240 km line: the issue-13 targets, measured.

For each profile (standard, realistic, harsh) and each seed: `guarantor mission init` with the real line and the
oblasts as sectors, `guarantor simulate --noise P`, `guarantor replay`, `guarantor score --json`; then one line per
profile with the figures pooled over its seeds, and whether each target holds.

    python3 scripts/verification_targets.py --guarantor .build/release/guarantor [--seeds 1 2 3] [--hours 48]
        [--require standard realistic]   # exit 1 if a target of these profiles is missed (scripts/test.sh)
"""
import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from replay_ucdp import run  # noqa: E402

PARTIES = ["--party", "UA=35.0462,48.4647", "--party", "RU=39.3078,48.5740"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--guarantor", required=True)
    ap.add_argument("--data", default=os.environ.get("GUARANTOR_DATA", os.path.join(os.path.dirname(__file__), "../../shared/data")))
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--hours", type=float, default=48)
    ap.add_argument("--profiles", nargs="+", default=["standard", "realistic", "harsh"])
    ap.add_argument("--require", nargs="*", default=[], help="profiles whose targets must all hold (else exit 1)")
    args = ap.parse_args()
    line = os.path.join(args.data, "front-line-derived/front_line_20251201.geojson")
    oblasts = os.path.join(args.data, "ukraine-admin-boundaries/geoBoundaries-UKR-ADM1_simplified.geojson")
    if not os.path.exists(line):
        sys.exit(f"real data not found in {args.data}: set GUARANTOR_DATA to the shared/data directory")
    g = args.guarantor
    with tempfile.TemporaryDirectory() as tmp:
        mission = os.path.join(tmp, "mission")
        run([g, "mission", "init", mission, "--line", line, "--sectors", oblasts] + PARTIES)
        print(f"{'profile':10} {'seed':>4} {'B3 F1':>6} {'osint':>6} {'claims':>6} {'V prec':>6} {'V rec':>6} "
              f"{'attr':>6} {'wrong':>6} {'unattr':>6} {'ambig':>6} {'a-true':>6}")
        failures = []
        for profile in args.profiles:
            pooled = {"f1": [], "osint": [0, 0], "claims": [0, 0], "vp": [0, 0], "vr": [0, 0], "attr": [0, 0, 0]}
            for seed in args.seeds:
                sim, out = os.path.join(tmp, f"S-{profile}-{seed}"), os.path.join(tmp, f"R-{profile}-{seed}")
                run([g, "simulate", "--mission", mission, "--seed", str(seed), "--hours", str(args.hours),
                     "--noise", profile, "--out", sim])
                run([g, "replay", "--mission", mission, "--observations", os.path.join(sim, "observations.ndjson"),
                     "--out", out])
                s = json.loads(run([g, "score", "--json", "--truth", os.path.join(sim, "truth.ndjson"), "--results", out]))
                a, v, at = s["association"], s["violations"], s["attribution"]
                osint, claims = a.get("osint", {"joined": 0, "reports": 0}), a.get("partyClaim", {"joined": 0, "reports": 0})
                pooled["f1"].append(s["bcubed"]["f1"])
                pooled["osint"] = [pooled["osint"][0] + osint["joined"], pooled["osint"][1] + osint["reports"]]
                pooled["claims"] = [pooled["claims"][0] + claims["joined"], pooled["claims"][1] + claims["reports"]]
                pooled["vp"] = [pooled["vp"][0] + v["correct"], pooled["vp"][1] + v["predicted"]]
                pooled["vr"] = [pooled["vr"][0] + v["correctVerifiable"], pooled["vr"][1] + v["verifiable"]]
                pooled["all"] = [pooled.get("all", [0, 0])[0] + v["correct"], pooled.get("all", [0, 0])[1] + v["true"]]
                pooled["attr"] = [pooled["attr"][0] + at["right"], pooled["attr"][1] + at["wrong"], pooled["attr"][2] + at["attributable"]]
                ratio = lambda x: x[0] / x[1] if x[1] else 1.0
                print(f"{profile:10} {seed:>4} {s['bcubed']['f1']:6.3f} {ratio([osint['joined'], osint['reports']]):6.3f} "
                      f"{ratio([claims['joined'], claims['reports']]):6.3f} {v['precision']:6.3f} {v['verifiableRecall']:6.3f} "
                      f"{ratio([at['right'], at['attributable']]):6.3f} {ratio([at['wrong'], at['attributable']]):6.3f} "
                      f"{ratio([at['unattributed'], at['attributable']]):6.3f} {s['ambiguous']['listed']:6.0f} "
                      f"{ratio([s['ambiguous']['withTheirEvent'], s['ambiguous']['listed']]):6.3f}")
            ratio = lambda x: x[0] / x[1] if x[1] else 1.0
            f1 = min(pooled["f1"])
            right, wrong = pooled["attr"][0] / max(pooled["attr"][2], 1), pooled["attr"][1] / max(pooled["attr"][2], 1)
            checks = [
                ("B-cubed F1 >= 0.95 (worst seed)", f1 >= 0.95, f"{f1:.3f}"),
                ("verified violations precision >= 0.98", ratio(pooled["vp"]) >= 0.98, f"{ratio(pooled['vp']):.3f}"),
                ("verified violations recall >= 0.95 (of those the sources could verify)", ratio(pooled["vr"]) >= 0.95,
                 f"{ratio(pooled['vr']):.3f} (of all true violations: {ratio(pooled['all']):.3f})"),
                ("attribution >= 0.95", right >= 0.95, f"{right:.3f}"),
                ("wrong attribution <= 0.005", wrong <= 0.005, f"{wrong:.4f}"),
            ]
            if profile == "realistic":
                checks += [("open sources joined >= 0.9", ratio(pooled["osint"]) >= 0.9, f"{ratio(pooled['osint']):.3f}"),
                           ("party claims joined >= 0.9", ratio(pooled["claims"]) >= 0.9, f"{ratio(pooled['claims']):.3f}")]
            for name, ok, figure in checks:
                print(f"  {profile}: {name}: {figure} {'ok' if ok else 'MISSED'}")
                if not ok:
                    failures.append(f"{profile}: {name}")
        print(f"\n{len(failures)} target(s) missed" + (": " + "; ".join(failures) if failures else ""))
        required = [f for f in failures if f.split(":")[0] in args.require]
        if required:
            sys.exit(f"FAILED: required targets missed: {'; '.join(required)}")


if __name__ == "__main__":
    main()
