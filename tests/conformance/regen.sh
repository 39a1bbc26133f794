#!/usr/bin/env bash
# Regenerates expected traces from Node with node-runner.js.
#
#   tests/conformance/regen.sh [--all] [--out DIR] [SCENARIO.json | DIR]...
#
# Runs every scenario given (files, or the *.json of folders; default: scenarios/ beside this
# script) and writes its trace to DIR/<file name> (default: expected/ beside this script).
# Scenarios marked "reference": "node23-docs" are skipped unless --all: their expected traces
# describe Node 23 features that the local Node may lack. A trace is written only when the
# runner exits 0; any other outcome is reported, leaves the old file alone, and makes this
# script exit 1. Each run is bounded by RUN_TIMEOUT seconds (default 120).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
runner="$here/node-runner.js"
out="$here/expected"
all=0
inputs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --all) all=1 ;;
    --out) out=${2:?--out needs a folder}; shift ;;
    -h|--help) sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "regen.sh: unknown option $1" >&2; exit 2 ;;
    *) inputs+=("$1") ;;
  esac
  shift
done
[ ${#inputs[@]} -gt 0 ] || inputs=("$here/scenarios")
command -v node >/dev/null || { echo "regen.sh: node not found on PATH" >&2; exit 2; }
mkdir -p "$out"

files=()
for i in "${inputs[@]}"; do
  if [ -d "$i" ]; then
    for f in "$i"/*.json; do [ -e "$f" ] && files+=("$f"); done
  else
    files+=("$i")
  fi
done

status=0
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for f in "${files[@]}"; do
  name=$(basename "$f")
  if [ $all -eq 0 ] && node -e '
      const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      process.exit(s && s.reference === "node23-docs" ? 0 : 1);' "$f" 2>/dev/null; then
    echo "skip    $name (node23-docs)"
    continue
  fi
  rc=0
  timeout -k 5 "${RUN_TIMEOUT:-120}" node "$runner" "$f" >"$tmp" || rc=$?
  if [ $rc -eq 0 ]; then
    cp "$tmp" "$out/$name"
    echo "wrote   $out/$name"
  else
    echo "FAILED  $name (runner exit $rc); trace:" >&2
    cat "$tmp" >&2
    status=1
  fi
done
exit $status
