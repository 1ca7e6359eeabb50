#!/usr/bin/env bash
# Time and peak memory of `plumb check` on fixed, generated hostile inputs: each is a workspace
# of one table and one more file built to be large, long or deep. The inputs are generated,
# so the figures are about generated input (docs/benchmarks/large-inputs.md).
#   scripts/bench-large-inputs.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --release -p plumb --bin plumb
plumb=$PWD/target/release/plumb
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

case_dir() { # name -> a fresh workspace with the first migration
  local dir=$work/$1
  mkdir -p "$dir/migrations/2026-01-01-000000_a" "$dir/migrations/2026-01-02-000000_b"
  echo 'CREATE TABLE t (id int PRIMARY KEY);' >"$dir/migrations/2026-01-01-000000_a/up.sql"
  echo 'DROP TABLE t;' >"$dir/migrations/2026-01-01-000000_a/down.sql"
  echo 'SELECT 1;' >"$dir/migrations/2026-01-02-000000_b/down.sql"
  echo 'SELECT 1;' >"$dir/migrations/2026-01-02-000000_b/up.sql"
  echo "$dir"
}

gen() { # name, python that writes into the workspace (cwd)
  local dir; dir=$(case_dir "$1")
  (cd "$dir" && python3 -c "$2")
  echo "$dir"
}

UP=migrations/2026-01-02-000000_b/up.sql
cases=(
  "1 MB of ')'|open('$UP','w').write(')'*1_000_000)"
  "100,000 'a' concatenated|open('$UP','w').write('SELECT ' + '||'.join([\"'a'\"]*100_000) + ';')"
  "3,000 nested sub-selects|open('$UP','w').write('SELECT ' + '(SELECT '*3000 + '1' + ')'*3000 + ';')"
  "4 MB IN list|open('$UP','w').write('SELECT 1 WHERE x IN (' + ','.join(['1234567']*(4*1024*1024//8 - 100)) + ');')"
  "50 MB IN list|open('$UP','w').write('SELECT 1 WHERE x IN (' + ','.join(['1234567']*(50*1024*1024//8)) + ');')"
  "40,000 columns, registry|open('migrations/2026-01-01-000000_a/up.sql','w').write('CREATE TABLE t (id int PRIMARY KEY,' + ','.join('c%d int' % i for i in range(40_000)) + ');'); open('plumb.toml','w').write('[columns.t]\\nid = \"internal\"\\n' + ''.join('c%d = \"internal\"\\n' % i for i in range(40_000)))"
  "40,000 columns, schema.rs|open('migrations/2026-01-01-000000_a/up.sql','w').write('CREATE TABLE t (id int PRIMARY KEY,' + ','.join('c%d int' % i for i in range(40_000)) + ');'); open('diesel.toml','w').write('[print_schema]\\nfile = \"schema.rs\"\\n'); open('schema.rs','w').write('diesel::table! {\\n t (id) {\\n id -> Int4,\\n' + ''.join(' c%d -> Nullable<Int4>,\\n' % i for i in range(40_000)) + ' }\\n}\\n')"
  "20,000 tables, schema.rs|open('migrations/2026-01-01-000000_a/up.sql','w').write(''.join('CREATE TABLE t%d (id int PRIMARY KEY);\\n' % i for i in range(20_000))); open('diesel.toml','w').write('[print_schema]\\nfile = \"schema.rs\"\\n'); open('schema.rs','w').write(''.join('diesel::table! {\\n t%d (id) {\\n id -> Int4,\\n }\\n}\\n' % i for i in range(20_000)))"
  "model 550,000 Option< deep|import os; os.makedirs('src/models'); open('plumb.toml','w').write('[check]\\nmodels = \"src/models\"\\n'); open('src/models/a.rs','w').write('#[derive(Queryable)]\\nstruct A { x: ' + 'Option<'*550_000 + 'i64' + '>'*550_000 + ' }\\n')"
)
printf '%-28s %5s %9s %9s  %s\n' input exit seconds "peak MB" "what plumb says"
for entry in "${cases[@]}"; do
  name=${entry%%|*}
  dir=$(gen "case" "${entry#*|}")
  set +e
  /usr/bin/time -f '%e %M' -o "$work/time" "$plumb" check "$dir" --no-base --format json >"$work/out" 2>"$work/err"
  code=$?
  set -e
  read -r seconds kb < <(tail -n 1 "$work/time")
  said=$(python3 -c '
import json, sys
try:
    doc = json.load(open(sys.argv[1]))
except Exception:
    print(open(sys.argv[2]).read().strip()[:70]); sys.exit()
if "error" in doc:
    print("input error: " + doc["error"]["message"][:60])
else:
    codes = sorted({f["code"] for f in doc["findings"]})
    print(", ".join(codes) or "clean")
' "$work/out" "$work/err")
  printf '%-28s %5s %9s %9.0f  %s\n' "$name" "$code" "$seconds" "$((kb / 1024))" "$said"
  rm -rf "$dir"
done
