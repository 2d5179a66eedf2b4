#!/usr/bin/env bash
# A throwaway PostgreSQL 15 for tests and trials: a fresh cluster in a temp folder, listening on
# 127.0.0.1 only, role `crowd` (may create databases: the integration harness makes one per service and
# test), one database per service (crowd_accounts ... crowd_invoicing) and crowd_test for the kit's
# database tests (common/db_test.cpp, CROWD_TEST_PG_URL).
# Trust authentication on loopback and fsync off: for tests only, never for real data.
#
#   scripts/pg.sh start        prints shell `export` lines on stdout (messages go to stderr), so:
#                                eval "$(scripts/pg.sh start)"
#                              sets CROWD_TEST_PG=1, CROWD_TEST_PG_HOST/PORT/USER, CROWD_TEST_PG_URL
#                              and CROWD_PG_DIR
#   scripts/pg.sh stop DIR     stops that server and deletes DIR
#
# Environment: CROWD_PG_PORT (default 55432; when not set and 55432 is taken, the next free port is
# used), CROWD_PG_BIN (default /usr/lib/postgresql/15/bin). Needs `scripts/setup.sh --with-postgres`.
set -euo pipefail

PG_BIN=${CROWD_PG_BIN:-/usr/lib/postgresql/15/bin}
SERVICES=(accounts tasks matching delivery settlement invoicing)
MARKER=.crowd-pg  # marks a folder this script made, so `stop` never deletes anything else

say() { printf '[pg] %s\n' "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# initdb and the server refuse to run as root: as root, run them as the `postgres` system user.
as_pg() {
  if ((EUID == 0)); then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pick_port() {
  if [[ -n "${CROWD_PG_PORT:-}" ]]; then
    port_busy "$CROWD_PG_PORT" && die "port $CROWD_PG_PORT is taken"
    echo "$CROWD_PG_PORT"
    return 0
  fi
  local port
  for ((port = 55432; port < 55532; port++)); do
    port_busy "$port" || {
      echo "$port"
      return 0
    }
  done
  die "no free port in 55432-55531: set CROWD_PG_PORT"
}

start() {
  [[ -x "$PG_BIN/initdb" ]] || die "$PG_BIN/initdb not found: run scripts/setup.sh --with-postgres"
  if ((EUID == 0)); then
    id postgres >/dev/null 2>&1 || die "no postgres system user (install the postgresql package)"
  fi
  local port dir
  port=$(pick_port)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/crowd-pg.XXXXXX")
  touch "$dir/$MARKER"
  # Whatever fails from here on, leave no server or folder behind.
  # shellcheck disable=SC2064 # expand $dir now: it is local to this function
  trap "stop $(printf '%q' "$dir") 2>/dev/null" EXIT
  ((EUID == 0)) && chown -R postgres:postgres "$dir"
  chmod 700 "$dir"

  # C collation (byte order) and UTF-8: the same ordering on every machine.
  as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust --no-locale -E UTF8 >"$dir/initdb.log" 2>&1 ||
    {
      cat "$dir/initdb.log" >&2
      die "initdb failed"
    }
  # fsync, synchronous_commit and full_page_writes off: a throwaway cluster trades durability for speed.
  local opts="-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
  opts+=" -c full_page_writes=off -c max_connections=200"
  as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 -o "$opts" start >/dev/null ||
    {
      cat "$dir/postgres.log" >&2
      die "postgres did not start"
    }

  # One statement per -c: psql runs each on its own (CREATE DATABASE refuses a transaction block).
  local -a args=(-c "CREATE ROLE crowd LOGIN CREATEDB")
  local svc
  for svc in "${SERVICES[@]}" test; do
    args+=(-c "CREATE DATABASE crowd_$svc OWNER crowd")
  done
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres "${args[@]}" >&2 ||
    die "creating the role and databases failed"

  say "PostgreSQL 15 on 127.0.0.1:$port, folder $dir (stop: scripts/pg.sh stop $dir)"
  for svc in "${SERVICES[@]}"; do
    say "  $svc: postgresql://host=127.0.0.1 port=$port dbname=crowd_$svc user=crowd"
  done
  trap - EXIT
  cat <<EOF
export CROWD_PG_DIR='$dir'
export CROWD_TEST_PG=1 CROWD_TEST_PG_HOST=127.0.0.1 CROWD_TEST_PG_PORT=$port CROWD_TEST_PG_USER=crowd
export CROWD_TEST_PG_URL='postgresql://host=127.0.0.1 port=$port dbname=crowd_test user=crowd'
EOF
}

stop() {
  local dir=${1:-}
  [[ -n "$dir" ]] || die "usage: pg.sh stop DIR"
  [[ -f "$dir/$MARKER" ]] || die "$dir was not made by pg.sh start"
  local pidfile=$dir/data/postmaster.pid pid i
  if [[ -s "$pidfile" ]]; then
    pid=$(head -n 1 "$pidfile")
    # SIGINT: "fast" shutdown (roll back open transactions, then exit cleanly).
    if kill -INT "$pid" 2>/dev/null; then
      for ((i = 0; i < 300; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    fi
  fi
  rm -rf "$dir"
  say "stopped and removed $dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *)
    sed -n '2,15p' "$0" >&2
    exit 2
    ;;
esac
