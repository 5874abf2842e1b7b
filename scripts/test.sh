#!/usr/bin/env bash
# Runs every test: starts (or installs) PostgreSQL and MariaDB, then the whole cargo test suite.
# Extra arguments go to `cargo test` (e.g. `scripts/test.sh postgres` to filter by name).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh
cargo test "$@"
