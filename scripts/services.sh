#!/usr/bin/env bash
# Makes sure the test databases run: PostgreSQL on 127.0.0.1:5432 (user postgres, trust) and
# MariaDB on 127.0.0.1:3306 (root, empty password). On a fresh Debian machine it installs them
# with apt-get and starts them, and installs headless Chromium for the report.html browser test.
# Idempotent; does nothing when all are there.
# Test machines only: it opens trust/empty-password access on localhost.
set -euo pipefail

log() { echo "services: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

pg_ok() { PGCONNECT_TIMEOUT=3 psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; }
my_ok() { mariadb --connect-timeout=3 -h 127.0.0.1 -u root -e 'select 1' >/dev/null 2>&1; }

if ! pg_ok; then
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    log "installing PostgreSQL"
    apt_install postgresql postgresql-client
  fi
  version=$(ls /etc/postgresql | sort -V | tail -1)
  log "starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 30); do pg_isready -h 127.0.0.1 -q && break; sleep 1; done
  if ! pg_ok; then
    log "allowing trust auth for postgres on localhost (test machine)"
    hba=/etc/postgresql/$version/main/pg_hba.conf
    as_root sed -i '1i host all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust' "$hba"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload
    sleep 1
  fi
  pg_ok || { log "PostgreSQL does not answer on 127.0.0.1:5432"; exit 1; }
fi

if ! my_ok; then
  if [ ! -x /usr/sbin/mariadbd ]; then
    log "installing MariaDB"
    apt_install mariadb-server mariadb-client
  fi
  if ! mariadb-admin ping >/dev/null 2>&1; then
    log "starting MariaDB"
    as_root mkdir -p /run/mysqld && as_root chown mysql:mysql /run/mysqld 2>/dev/null || true
    as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
    for _ in $(seq 30); do mariadb-admin ping >/dev/null 2>&1 && break; sleep 1; done
  fi
  if ! my_ok; then
    log "allowing root with an empty password on localhost (test machine)"
    as_root mariadb -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD(''); \
      CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY ''; \
      GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;"
  fi
  my_ok || { log "MariaDB does not answer on 127.0.0.1:3306"; exit 1; }
fi
log "PostgreSQL and MariaDB are up"

# Headless Chromium for the browser test of report.html; without it that test says it skipped.
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  log "installing Chromium (for the report.html browser test)"
  apt_install chromium || log "could not install Chromium: the browser test will be skipped"
fi
