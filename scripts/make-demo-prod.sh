#!/usr/bin/env bash
# Rebuilds a bundled demo "production": data generated from specs/DOMAIN.toml with another seed,
# then the quirks of specs/DOMAIN/quirks.sql applied. DOMAIN is `shop` (the default) or
# `billing`. Reproducible: the same spec, seed and quirks give the same rows.
set -euo pipefail
cd "$(dirname "$0")/.."
domain=${1:-shop}
out=specs/$domain/prod.sqlite
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cargo run -q -- generate "specs/$domain.toml" --seed 7 --out "$tmp/data" --to "sqlite://$tmp/prod.sqlite"
if command -v sqlite3 >/dev/null; then
  sqlite3 "$tmp/prod.sqlite" < "specs/$domain/quirks.sql"
  sqlite3 "$tmp/prod.sqlite" 'VACUUM'
else
  python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(open(sys.argv[2]).read()); c.commit(); c.execute("VACUUM")' \
    "$tmp/prod.sqlite" "specs/$domain/quirks.sql"
fi
mv "$tmp/prod.sqlite" "$out"
echo "wrote $out"
