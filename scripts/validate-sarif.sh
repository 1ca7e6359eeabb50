#!/usr/bin/env bash
# Validates `plumb check --format sarif` against the official SARIF 2.1.0 JSON Schema, taken
# from the npm package that ships it (@microsoft/jest-sarif), with Python's jsonschema.
# Usage: scripts/validate-sarif.sh PYTHON   (a Python with jsonschema installed)
set -euo pipefail
python=${1:-python3}
cd "$(dirname "$0")/.."
work=target/sarif-check
rm -rf "$work" && mkdir -p "$work/ws/migrations/2026-01-01-000000_base" "$work/ws/migrations/2026-01-02-000000_bad"
(cd "$work" && npm pack --silent @microsoft/jest-sarif@1.0.0-beta.0 >/dev/null && tar xzf microsoft-jest-sarif-*.tgz)
schema="$work/package/lib/schemas/sarif-2.1.0-rtm.5.json"

# A workspace with findings of several rules and severities.
printf 'CREATE TABLE t (id bigint PRIMARY KEY, note text);\n' > "$work/ws/migrations/2026-01-01-000000_base/up.sql"
printf 'DROP TABLE t;\n' > "$work/ws/migrations/2026-01-01-000000_base/down.sql"
printf 'CREATE INDEX t_note_idx ON t (note);\n-- plumb: allow rename-column unused\nCREATE VIEW v AS SELECT 1;\nSELEC 1;\n' \
  > "$work/ws/migrations/2026-01-02-000000_bad/up.sql"
cargo run --quiet -p plumb --bin plumb -- check "$work/ws" --format sarif > "$work/report.sarif" || test $? -eq 1

"$python" - "$schema" "$work/report.sarif" <<'PY'
import json, sys
from jsonschema import Draft7Validator
schema, report = (json.load(open(p)) for p in sys.argv[1:3])
errors = sorted(Draft7Validator(schema).iter_errors(report), key=lambda e: list(e.path))
for error in errors:
    print(f"SARIF invalid at {list(error.path)}: {error.message}")
results = report["runs"][0]["results"]
print(f"SARIF 2.1.0: {len(results)} results checked against the official schema, {len(errors)} errors")
sys.exit(1 if errors or not results else 0)
PY
