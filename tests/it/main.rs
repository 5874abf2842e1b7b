//! The integration tests: the real binary in a fresh folder per test, against real SQLite,
//! PostgreSQL and MariaDB databases that each test creates under a unique name and drops.
//!
//! Servers: PostgreSQL at `$REALITYCHECK_TEST_PG` (default postgres://postgres@127.0.0.1:5432)
//! and MariaDB at `$REALITYCHECK_TEST_MYSQL` (default mysql://root@127.0.0.1:3306);
//! `scripts/test.sh` installs and starts them where they are missing.

#![allow(clippy::unwrap_used)]

mod attacks;
mod chunks;
mod common;
mod databases;
mod demo;
mod drift;
mod fuzz;
mod init;
mod privacy;
mod spec_errors;
mod streaming;
mod types;
mod verdict;
