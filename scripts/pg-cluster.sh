#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests.
#
#   scripts/pg-cluster.sh start DIR [PORT]   initdb (once) and start a cluster in DIR, listening on
#                                            127.0.0.1:PORT (default 55432) with trust auth, fsync on,
#                                            and a database ecs_secgroup_test; the last line printed
#                                            on stdout is DATABASE_URL=postgres://...
#                                            (a restart without PORT reuses the previous one)
#   scripts/pg-cluster.sh stop DIR           stop it (fast shutdown); the data stays in DIR
#
# Both are idempotent. When initdb/pg_ctl are missing, PostgreSQL is installed from the
# Debian packages (without creating or starting the system cluster). As root, the cluster
# runs as the unprivileged user ecssg-pg, so DIR's parent must be reachable by that user
# (a directory under /tmp is).
set -euo pipefail

PG_USER=ecssg-pg
DB_NAME=ecs_secgroup_test
DEFAULT_PORT=55432

log() { echo "pg-cluster: $*" >&2; }
die() {
  log "$*"
  exit 1
}

usage() {
  echo "usage: $0 start DIR [PORT] | stop DIR" >&2
  exit 2
}

# Prints the directory holding initdb and pg_ctl, or nothing.
find_bindir() {
  local cand
  if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    cand=$(dirname "$(readlink -f "$(command -v pg_ctl)")")
    if [ -x "$cand/initdb" ] && [ -x "$cand/pg_ctl" ] && [ -x "$cand/postgres" ]; then
      echo "$cand"
      return
    fi
  fi
  # Debian keeps the server binaries out of PATH; take the newest version.
  for cand in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
    if [ -x "$cand/initdb" ] && [ -x "$cand/pg_ctl" ] && [ -x "$cand/postgres" ]; then
      echo "$cand"
      return
    fi
  done
}

install_postgres() {
  [ "$(id -u)" -eq 0 ] || die "PostgreSQL is not installed and installing it needs root (apt-get install postgresql)"
  command -v apt-get >/dev/null 2>&1 || die "PostgreSQL is not installed and apt-get is not available"
  log "installing PostgreSQL from the Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  # Keep the package scripts from starting any service while installing.
  local policy=/usr/sbin/policy-rc.d ours=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    ours=1
  fi
  local apt_opts=(-y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
  apt-get update -q >&2
  # postgresql-common first, so the package's default "main" cluster is never created.
  apt-get install "${apt_opts[@]}" --no-install-recommends postgresql-common >&2
  local conf=/etc/postgresql-common/createcluster.conf
  if [ -f "$conf" ]; then
    if grep -Eq '^[#[:space:]]*create_main_cluster' "$conf"; then
      sed -i -E 's/^[#[:space:]]*create_main_cluster.*/create_main_cluster = false/' "$conf"
    else
      echo 'create_main_cluster = false' >>"$conf"
    fi
  fi
  apt-get install "${apt_opts[@]}" --no-install-recommends postgresql >&2
  if [ "$ours" -eq 1 ]; then rm -f "$policy"; fi
}

# Runs a command as the cluster's owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$PG_USER" -- "$@"
  else
    "$@"
  fi
}

ensure_owner() {
  [ "$(id -u)" -eq 0 ] || return 0
  if ! id -u "$PG_USER" >/dev/null 2>&1; then
    log "creating OS user $PG_USER"
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin "$PG_USER"
  fi
}

is_running() {
  [ -f "$DATA/PG_VERSION" ] && as_owner "$BIN/pg_ctl" status -D "$DATA" >/dev/null 2>&1
}

cmd_start() {
  BIN=$(find_bindir)
  if [ -z "$BIN" ]; then
    install_postgres
    BIN=$(find_bindir)
    [ -n "$BIN" ] || die "PostgreSQL was installed but initdb/pg_ctl were not found"
  fi
  log "using $("$BIN/postgres" --version) from $BIN"
  ensure_owner

  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd -P)
  DATA="$DIR/data"
  if [ "$(id -u)" -eq 0 ]; then
    chown "$PG_USER:" "$DIR"
    runuser -u "$PG_USER" -- test -w "$DIR" ||
      die "$PG_USER cannot reach $DIR; use a directory whose parents are world-searchable (e.g. under /tmp)"
  fi

  if [ ! -f "$DATA/PG_VERSION" ]; then
    log "initdb $DATA"
    as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth-local=trust --auth-host=trust \
      --encoding=UTF8 --locale=C >"$DIR/initdb.log" 2>&1 || {
      cat "$DIR/initdb.log" >&2
      die "initdb failed"
    }
    cat >>"$DATA/postgresql.conf" <<EOF

# --- scripts/pg-cluster.sh
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
fsync = on
synchronous_commit = on
full_page_writes = on
max_connections = 200
EOF
  fi

  local port_file="$DIR/port"
  if is_running; then
    PORT=$(cat "$port_file" 2>/dev/null || echo "$PORT")
    log "already running on port $PORT"
  else
    echo "$PORT" >"$port_file"
    log "starting on 127.0.0.1:$PORT"
    as_owner "$BIN/pg_ctl" start -D "$DATA" -w -t 60 -l "$DIR/postgres.log" \
      -o "-p $PORT" >&2 || {
      tail -n 30 "$DIR/postgres.log" >&2 || true
      die "pg_ctl start failed"
    }
  fi

  local psql="$BIN/psql"
  [ -x "$psql" ] || psql=$(command -v psql) || die "psql not found"
  local exists
  exists=$("$psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -Atq \
    -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")
  if [ "$exists" != 1 ]; then
    log "creating database $DB_NAME"
    "$psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -q -v ON_ERROR_STOP=1 \
      -c "CREATE DATABASE $DB_NAME" >&2
  fi
  echo "DATABASE_URL=postgres://postgres@127.0.0.1:$PORT/$DB_NAME"
}

cmd_stop() {
  BIN=$(find_bindir)
  [ -n "$BIN" ] || die "PostgreSQL is not installed"
  DATA="$DIR/data"
  if is_running; then
    log "stopping $DATA"
    as_owner "$BIN/pg_ctl" stop -D "$DATA" -m fast -w -t 60 >&2
  else
    log "not running: $DATA"
  fi
}

[ $# -ge 2 ] || usage
CMD=$1
DIR=$2
# Without PORT, a cluster started before keeps its port.
PORT=${3:-$(cat "$DIR/port" 2>/dev/null || echo "$DEFAULT_PORT")}
[[ "$PORT" =~ ^[0-9]+$ ]] || die "PORT must be a number, got $PORT"
case "$CMD" in
start) cmd_start ;;
stop) cmd_stop ;;
*) usage ;;
esac
