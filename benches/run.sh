#!/usr/bin/env bash
# The benchmark command (issue 8): builds the release binary, installs the peers in a scratch
# Python virtual environment, and measures every stage beside them in one run, rewriting the
# tables in benches/README.md.
#
#   benches/run.sh quick   # 1M orders rows, 3 runs each: minutes
#   benches/run.sh full    # 10M orders rows, 3 runs each, one generation of 100M rows (about
#                          # 10 GB of Parquet in $BENCH_TMP), then the shop-domain table
#
# Needs PostgreSQL and psql ($REALITYCHECK_TEST_PG, default postgres://postgres@127.0.0.1:5432;
# scripts/services.sh starts it) and GNU time (/usr/bin/time; apt-get install time).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-quick}
case "$mode" in
  quick) rows=1000000; big=0 ;;
  full) rows=10000000; big=100000000 ;;
  *) echo "usage: benches/run.sh [quick|full]" >&2; exit 2 ;;
esac
scripts/services.sh
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/realitycheck-target}"
cargo build --release --locked
venv=${BENCH_VENV:-/var/tmp/realitycheck-bench-venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q numpy pyarrow pandas faker duckdb polars scipy
# A fixed-schema Rust generator, the ceiling for generation (optional: skipped if it will not install).
"$venv/bin/pip" install -q tpchgen-cli || echo "tpchgen-cli not installed: its row is left out" >&2
export PATH="$venv/bin:$PATH"
"$venv/bin/python" benches/scale.py --rows "$rows" --big "$big" --runs 3 --bin "$CARGO_TARGET_DIR/release/realitycheck"
if [ "$mode" = full ]; then
  "$venv/bin/pip" install -q ydata-profiling whylogs || true
  "$venv/bin/python" benches/run.py --scale 5 --runs 5 --bin "$CARGO_TARGET_DIR/release/realitycheck"
fi
