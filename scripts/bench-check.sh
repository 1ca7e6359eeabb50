#!/usr/bin/env bash
# Benchmark: `plumb check` against squawk-cli on the same generated migrations, both writing
# JSON, end to end (process start, reading, parsing, checking, output).
#   scripts/bench-check.sh
# Inputs are generated deterministically: a workspace whose one migration holds 20,000
# statements, and a workspace of 1,000 migration folders. Each tool runs 5 times per input;
# the median wall time is reported, with the ratio squawk / plumb.
set -euo pipefail
cd "$(dirname "$0")/.."
work=target/bench-check
mkdir -p "$work"
cargo build --quiet --release -p plumb --bin plumb
plumb=target/release/plumb
[ -x "$work/venv/bin/squawk" ] || { python3 -m venv "$work/venv" && "$work/venv/bin/pip" install --quiet --disable-pip-version-check squawk-cli==2.70.0; }
squawk="$work/venv/bin/squawk"

python3 - "$work" <<'PY'
import os, shutil, sys
work = sys.argv[1]
TEMPLATES = [
    "SET lock_timeout = '2s';",
    "ALTER TABLE t{t} ADD COLUMN c{i} text;",
    "ALTER TABLE t{t} ADD COLUMN d{i} bigint NOT NULL DEFAULT 0;",
    "CREATE INDEX CONCURRENTLY t{t}_c{i}_idx ON t{t} (c{i});",
    "ALTER TABLE t{t} ADD CONSTRAINT t{t}_c{i}_nn CHECK (c{i} IS NOT NULL) NOT VALID;",
    "ALTER TABLE t{t} VALIDATE CONSTRAINT t{t}_c{i}_nn;",
    "ALTER TABLE t{t} ALTER COLUMN c{i} SET NOT NULL;",
    "UPDATE t{t} SET c{i} = 'x' WHERE id < 100;",
    "ALTER TABLE t{t} ALTER COLUMN name TYPE varchar(200);",
    "CREATE INDEX t{t}_d{i}_idx ON t{t} (d{i});",
]
def statements(count, offset=0):
    out = []
    for n in range(count):
        i = n + offset
        out.append(TEMPLATES[n % len(TEMPLATES)].format(t=i % 100, i=i))
    return out
def migration(root, name, sql):
    d = os.path.join(root, "migrations", name)
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, "up.sql"), "w").write("\n".join(sql) + "\n")
    open(os.path.join(d, "down.sql"), "w").write("SELECT 1;\n")
tables = [f"CREATE TABLE t{t} (id bigint PRIMARY KEY, name varchar(100));" for t in range(100)]
for ws in ("big-file", "many-folders"):
    shutil.rmtree(os.path.join(work, ws), ignore_errors=True)
big = os.path.join(work, "big-file")
migration(big, "2026-01-01-000000-0000_tables", tables)
migration(big, "2026-01-02-000000-0000_big", statements(20000))
many = os.path.join(work, "many-folders")
migration(many, "2026-01-01-000000-0000_tables", tables)
for f in range(1000):
    migration(many, f"2026-01-02-{f:06d}-0000_m{f}", statements(10, offset=f * 10))
PY

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_runs() {
  for _ in 1 2 3 4 5; do
    local start end
    start=$(date +%s.%N)
    "$@" > /dev/null 2>&1 || true
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
  done | median
}

printf '%-44s %12s %12s %8s\n' "input" "plumb s" "squawk s" "ratio"
for ws in big-file many-folders; do
  files=$(find "$work/$ws/migrations" -name up.sql | sort)
  statements=$(cat $files | grep -c ';')
  p=$(time_runs "$plumb" check "$work/$ws" --format json)
  # squawk lints the same up.sql files; its JSON reporter.
  s=$(time_runs "$squawk" --reporter json $files)
  printf '%-44s %12.3f %12.3f %7.1fx\n' "$ws ($(echo "$files" | wc -l) files, $statements statements)" "$p" "$s" "$(echo "$s / $p" | bc -l)"
done
"$plumb" check "$work/big-file" --format json | python3 -c 'import json,sys; s=json.load(sys.stdin)["summary"]; print("plumb on big-file:", s)'
"$squawk" --reporter json $(find "$work/big-file/migrations" -name up.sql) 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); print("squawk on big-file:", len(d), "violations")' || true
