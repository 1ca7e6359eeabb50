#!/usr/bin/env bash
# Benchmark on real repositories: `plumb check` (default base, JSON) and squawk-cli on the
# same migrations, end to end, side by side, in one run.
#   scripts/bench-corpora.sh DIR [DIR...]
# Each DIR is a diesel repository checked out with its git history (or at least one commit):
# nothing of it is copied into this project. squawk lints the `up.sql` files of the folder
# plumb reads (plumb's JSON `coverage.migrations_dir`). Each tool runs 5 times per repository,
# alternating; the median wall time and the largest peak RSS (`/usr/bin/time -f %M`) are
# printed, with plumb's exit code and findings per rule.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: $0 DIR [DIR...]" >&2; exit 2; }
work=$PWD/target/bench-corpora
mkdir -p "$work"
cargo build --quiet --release -p plumb --bin plumb
plumb=$PWD/target/release/plumb
[ -x "$work/venv/bin/squawk" ] || { python3 -m venv "$work/venv" && "$work/venv/bin/pip" install --quiet --disable-pip-version-check squawk-cli==2.70.0; }
squawk="$work/venv/bin/squawk"
runs=5

printf '%-14s %6s %9s %9s %7s %9s %9s %7s\n' repository exit "plumb s" "squawk s" ratio "plumb MB" "squawk MB" ratio
for dir in "$@"; do
  name=$(basename "$dir")
  json="$work/$name.json"
  set +e
  (cd "$dir" && "$plumb" check --format json >"$json")
  code=$?
  set -e
  migrations=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["coverage"]["migrations_dir"])' "$json")
  mapfile -t files < <(cd "$dir" && ls -d "$migrations"/*/up.sql)
  : >"$work/$name.plumb.times"; : >"$work/$name.squawk.times"
  for _ in $(seq "$runs"); do
    (cd "$dir" && /usr/bin/time -f '%e %M' -a -o "$work/$name.plumb.times" "$plumb" check --format json >/dev/null) || true
    (cd "$dir" && /usr/bin/time -f '%e %M' -a -o "$work/$name.squawk.times" "$squawk" --reporter json "${files[@]}" >/dev/null) || true
  done
  python3 - "$name" "$code" "$work/$name.plumb.times" "$work/$name.squawk.times" <<'PY'
import statistics, sys
name, code, p, s = sys.argv[1:]
def read(path):
    rows = [line.split() for line in open(path) if line.strip() and line[0].isdigit()]
    return statistics.median(float(r[0]) for r in rows), max(int(r[1]) for r in rows) / 1024
pt, pm = read(p)
st, sm = read(s)
print(f"{name:<14} {code:>6} {pt:9.3f} {st:9.3f} {pt / st:6.2f}x {pm:9.1f} {sm:9.1f} {pm / sm:6.2f}x")
PY
done
echo
for dir in "$@"; do
  name=$(basename "$dir")
  python3 - "$name" "$work/$name.json" <<'PY'
import json, sys
name, path = sys.argv[1:]
report = json.load(open(path))
by_rule = report["summary"]["by_rule"]
print(f"{name}: " + ", ".join(f"{code} {n}" for code, n in sorted(by_rule.items())))
PY
done
