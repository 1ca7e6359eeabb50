#!/usr/bin/env bash
# Coverage-guided fuzzing of everything `plumb check` reads (fuzz/fuzz_targets/*.rs), with
# libFuzzer through cargo fuzz, on the toolchain's stable compiler.
#   scripts/fuzz.sh SECONDS_PER_TARGET [SEED_DIR...] [-- TARGET...]
# The corpora start from this repository's own migrations, schema.rs, model files, settings and
# API schemas, plus the matching files under each SEED_DIR (another diesel repository, say:
# read, never copied into this project). They grow under target/fuzz/corpus/<target>; a crash,
# a panic, a stack overflow, a leak of memory past 2 GB or one input taking over 10 s is saved
# under target/fuzz/artifacts/<target>/ and ends that target's run with a non-zero exit.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: $0 SECONDS_PER_TARGET [SEED_DIR...] [-- TARGET...]" >&2; exit 2; }
seconds=$1; shift
seeds=(.)
while [ $# -gt 0 ] && [ "$1" != "--" ]; do seeds+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(sql schema_rs models settings api)
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz@0.13.2
# cargo fuzz passes -Z flags; the stable compiler accepts them under RUSTC_BOOTSTRAP.
export RUSTC_BOOTSTRAP=1
work=$PWD/target/fuzz
(cd fuzz && cargo fuzz build -O -s none --target-dir "$work/build")

seed() { # target, find arguments...
  local target=$1; shift
  mkdir -p "$work/corpus/$target"
  for dir in "${seeds[@]}"; do
    find "$dir" \( -path '*/target' -o -path '*/.git' -o -path '*/node_modules' \) -prune -o -type f "$@" -size -64k -print0 |
      while IFS= read -r -d '' file; do
        cp "$file" "$work/corpus/$target/seed-$(sha1sum "$file" | cut -c1-16)"
      done
  done
}
seed sql -name '*.sql'
seed schema_rs -name 'schema*.rs'
seed models \( -path '*/models/*.rs' -o -path '*/model*/src/*.rs' -o -name 'models.rs' \)
seed settings \( -name 'plumb.toml' -o -name 'diesel.toml' \)
seed api \( -path '*/schemas/*' -name '*.json' \)

status=0
for target in "${targets[@]}"; do
  mkdir -p "$work/artifacts/$target"
  printf '\n== %s: %s s\n' "$target" "$seconds"
  set +e
  "$work/build/x86_64-unknown-linux-gnu/release/$target" "$work/corpus/$target" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/$target/" 2>&1 |
    grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::|^==[0-9]+==|SUMMARY|panicked|deadly signal|overflow|Test unit written|^(INFO: )?-max_total_time'
  code=${PIPESTATUS[0]}
  set -e
  echo "exit $code; corpus $(ls "$work/corpus/$target" | wc -l) inputs"
  [ "$code" -eq 0 ] || status=1
done
exit $status
