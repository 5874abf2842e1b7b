#!/usr/bin/env bash
# The self-comparison sweep behind the gate's stability claim (issue 6): for each scale and each
# of N seeds, generate a "production" from the spec (SPEC, default specs/shop.toml) with that seed
# into SQLite, verify the spec against it at the same scale, and count the verdicts. A spec
# verified against its own data must never fail: the figures go in benches/README.md.
#
#   [SPEC=specs/billing.toml] scripts/sweep.sh [N=100] [SCALES="0.025 0.25 1"]
set -euo pipefail
cd "$(dirname "$0")/.."
spec=${SPEC:-specs/shop.toml}
n=${1:-100}
scales=${2:-"0.025 0.25 1"}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/realitycheck-target}"
cargo build -q
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A copy, so a rebuild while the sweep runs cannot mix two versions in one table.
bin="$tmp/realitycheck"
cp "$CARGO_TARGET_DIR/debug/realitycheck" "$bin"
echo "| spec | scale | seeds | pass | fail | error | failing findings (kind: count) |"
echo "|---:|---:|---:|---:|---:|---:|---|"
for scale in $scales; do
  pass=0 fail=0 err=0
  : > "$tmp/kinds"
  for seed in $(seq 1 "$n"); do
    db="$tmp/prod.sqlite"
    rm -f "$db"
    "$bin" generate "$spec" --seed $((seed + 1000)) --scale "$scale" --out "$tmp/gen" --to "sqlite://$db" >/dev/null 2>&1
    set +e
    CI=true "$bin" verify "$spec" --source "sqlite://$db" --scale "$scale" --report "$tmp/r" >/dev/null 2>&1
    rc=$?
    set -e
    case $rc in
      0) pass=$((pass + 1)) ;;
      1) fail=$((fail + 1))
         python3 -c "import json,sys; [print(f['kind']+'/'+f['metric']) for f in json.load(open(sys.argv[1]))['findings'] if f['severity']=='fail']" "$tmp/r/report.json" >> "$tmp/kinds" ;;
      *) err=$((err + 1)) ;;
    esac
  done
  kinds=$(sort "$tmp/kinds" | uniq -c | awk '{printf "%s%s: %s", sep, $2, $1; sep=", "}')
  echo "| $spec | $scale | $n | $pass | $fail | $err | ${kinds:--} |"
done
