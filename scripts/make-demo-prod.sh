#!/usr/bin/env bash
# Rebuilds specs/shop/prod.sqlite, the bundled demo "production": data generated from
# specs/shop.toml with another seed, then the quirks of specs/shop/quirks.sql applied.
# Reproducible: the same spec, seed and quirks give the same rows.
set -euo pipefail
cd "$(dirname "$0")/.."
out=specs/shop/prod.sqlite
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cargo run -q -- generate specs/shop.toml --seed 7 --out "$tmp/data" --to "sqlite://$tmp/prod.sqlite"
if command -v sqlite3 >/dev/null; then
  sqlite3 "$tmp/prod.sqlite" < specs/shop/quirks.sql
  sqlite3 "$tmp/prod.sqlite" 'VACUUM'
else
  python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(open(sys.argv[2]).read()); c.commit(); c.execute("VACUUM")' \
    "$tmp/prod.sqlite" specs/shop/quirks.sql
fi
mv "$tmp/prod.sqlite" "$out"
echo "wrote $out"
