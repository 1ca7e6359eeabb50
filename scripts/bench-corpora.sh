#!/usr/bin/env bash
# Benchmark on real repositories: `plumb check` (default base, JSON) and squawk-cli on the
# same migrations, end to end, side by side, in one run.
#   scripts/bench-corpora.sh DIR [DIR...]
# Each DIR is a diesel repository checked out with its git history (or at least one commit):
# nothing of it is copied into this project. squawk lints the `up.sql` files of the folder
# plumb reads (plumb's JSON `coverage.migrations_dir`). Each tool runs 11 times per repository,
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
runs=11

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
  python3 - "$dir" "$name" "$code" "$runs" "$plumb" "$squawk" "${files[@]}" <<'PY'
import os, statistics, subprocess, sys, tempfile, time
dir, name, code, runs, plumb, squawk, *files = sys.argv[1:]
commands = {
    "plumb": [plumb, "check", "--format", "json"],
    "squawk": [squawk, "--reporter", "json", *files],
}
wall = {tool: [] for tool in commands}
peak = {tool: 0 for tool in commands}
# Alternating runs, wall time from a monotonic clock (not /usr/bin/time's 10 ms steps), peak
# RSS from /usr/bin/time.
with tempfile.NamedTemporaryFile() as rss:
    for _ in range(int(runs)):
        for tool, command in commands.items():
            started = time.perf_counter()
            subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss.name, *command], cwd=dir,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wall[tool].append(time.perf_counter() - started)
            peak[tool] = max(peak[tool], int(open(rss.name).read().split()[-1]) / 1024)
pt, st = statistics.median(wall["plumb"]), statistics.median(wall["squawk"])
pm, sm = peak["plumb"], peak["squawk"]
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
