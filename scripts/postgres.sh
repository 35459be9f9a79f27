#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster on 127.0.0.1, for the tests and the fault script. Source it:
#   . scripts/postgres.sh        # exports GUARANTOR_TEST_POSTGRES, PGHOST, PGPORT, PGUSER, PGBIN, PGDATA_DIR
# It installs Debian's postgresql-15 if missing, runs initdb in a temporary folder, starts the server and creates
# the database guarantor_test; the cluster stops and its folder is removed when the calling shell exits.
# When any step fails it says which and returns 1: the tests that need PostgreSQL never pass silently without it.
postgres_fail() { echo "FAILED to start PostgreSQL for the tests: $1" >&2; return 1; }
export DEBIAN_FRONTEND=noninteractive
if [ ! -x /usr/lib/postgresql/15/bin/initdb ] || ! dpkg -s libpq-dev >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql-15 libpq-dev >/dev/null \
    || postgres_fail "apt-get install postgresql-15 libpq-dev" || return 1
fi
export PGBIN=/usr/lib/postgresql/15/bin PGPORT=${PGPORT:-54329} PGHOST=127.0.0.1 PGUSER=postgres
PGDATA_DIR=$(mktemp -d /tmp/guarantor-pg.XXXXXX); export PGDATA_DIR
chown postgres:postgres "$PGDATA_DIR" 2>/dev/null || true
as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -c "$*"; else sh -c "$*"; fi; }
as_postgres "$PGBIN/initdb -D $PGDATA_DIR/data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >/dev/null \
  || postgres_fail "initdb in $PGDATA_DIR" || return 1
# wal_level replica and a replication slot's worth of senders: the replica test runs pg_basebackup against it.
as_postgres "$PGBIN/pg_ctl -D $PGDATA_DIR/data -l $PGDATA_DIR/server.log -o '-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGDATA_DIR -c max_connections=200 -c wal_level=replica -c max_wal_senders=4' -w -t 30 start" >/dev/null \
  || { cat "$PGDATA_DIR/server.log" >&2; postgres_fail "pg_ctl start on port $PGPORT (see the log above)" || return 1; }
echo "host replication postgres 127.0.0.1/32 trust" >> "$PGDATA_DIR/data/pg_hba.conf"
as_postgres "$PGBIN/pg_ctl -D $PGDATA_DIR/data reload" >/dev/null
postgres_stop() {
  as_postgres "$PGBIN/pg_ctl -D $PGDATA_DIR/data -m fast -w stop" >/dev/null 2>&1 || true
  rm -rf "$PGDATA_DIR"
}
trap postgres_stop EXIT
"$PGBIN/pg_isready" -h 127.0.0.1 -p "$PGPORT" -t 10 >/dev/null || postgres_fail "pg_isready on port $PGPORT" || return 1
psql -qc 'CREATE DATABASE guarantor_test' >/dev/null || postgres_fail "CREATE DATABASE guarantor_test" || return 1
export GUARANTOR_TEST_POSTGRES="postgres://postgres@127.0.0.1:$PGPORT/guarantor_test"
echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PGPORT for the tests ($GUARANTOR_TEST_POSTGRES)"
