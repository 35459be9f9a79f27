#!/usr/bin/env bash
# Schemathesis (property-based API testing from our OpenAPI document) against a live `guarantor serve` on 127.0.0.1:
# fails on any 5xx, or any response whose status, content type or body the document does not describe.
#   scripts/schemathesis.sh [path/to/guarantor]     (default: .build/release/guarantor)
set -euo pipefail
cd "$(dirname "$0")/.."
GUARANTOR="${1:-.build/release/guarantor}"
python3 -c 'import schemathesis' 2>/dev/null || pip install -q schemathesis
WORK="$(mktemp -d)"
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
cp -r docs/examples/mission "$WORK/mission"
key() { "$GUARANTOR" keys create --mission "$WORK/mission" --store "$WORK/store.sqlite" --member "$1" --user "$2" --role "$3" | grep -o 'gk_[A-Za-z0-9_-]*'; }
ADMIN=$(key MISSION st-admin admin)
SENSOR=$(key MISSION st-sensor sensor)
ANALYST=$(key UK st-analyst analyst)
AUDITOR=$(key UK st-auditor auditor)
"$GUARANTOR" keys signing --mission "$WORK/mission" --out "$WORK/mission.key" >/dev/null
"$GUARANTOR" witness keygen --mission "$WORK/mission" --member UK --out "$WORK/uk.key" >/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$GUARANTOR" serve --mission "$WORK/mission" --store "$WORK/store.sqlite" --port "$PORT" \
  --signing-key "$WORK/mission.key" >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
# Some data first, so that reads return records.
curl -sf -X POST -H "Authorization: Bearer $SENSOR" -H 'Content-Type: application/x-ndjson' \
  --data-binary @docs/examples/observations.ndjson "http://127.0.0.1:$PORT/observations" >/dev/null
curl -sf -X POST -H "Authorization: Bearer $ADMIN" "http://127.0.0.1:$PORT/checkpoints" >/dev/null

CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
run() {  # key, extra options
  local key=$1; shift
  schemathesis run "http://127.0.0.1:$PORT/openapi.json" -H "Authorization: Bearer $key" --checks "$CHECKS" \
    --exclude-path /stream --max-examples "${SCHEMATHESIS_EXAMPLES:-50}" --seed 1 --request-timeout 30 \
    --suppress-health-check all "$@"
}
# The stream never ends by itself; the tests cover it (Tests/GuarantorServerTests).
run "$ADMIN"
run "$SENSOR" --include-path /observations
run "$ANALYST" --include-path /actions
run "$AUDITOR" --include-path-regex '^/(checkpoints|proofs|log)'
if grep -qiE 'fatal|crash' "$WORK/server.log"; then cat "$WORK/server.log"; exit 1; fi
echo "schemathesis: no 5xx and no response outside the OpenAPI document"
