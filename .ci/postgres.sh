#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the PostgresStore tests and benchmarks.
#
#   eval "$(bash .ci/postgres.sh start)"   # installs PostgreSQL if needed, starts a cluster,
#                                          # prints `export MLOPS_TEST_POSTGRES_URL=...`
#   bash .ci/postgres.sh restart           # restarts the server (the restart test uses it)
#   bash .ci/postgres.sh stop              # stops it and deletes its folder
#
# The cluster lives in a temporary folder (its path is kept in $MLOPS_PG_STATE, default
# /tmp/mlops-pg-state), runs as the `postgres` system user (initdb refuses root), listens on a
# Unix socket in that folder and on 127.0.0.1 only, and uses fsync=off (a test cluster: it must
# survive a killed client or a restarted server, not a power cut). Set MLOPS_PG_FSYNC=on for
# benchmark figures with the server's durable defaults. Only Debian packages are installed;
# nothing is downloaded at run time.
set -euo pipefail

state_file="${MLOPS_PG_STATE:-/tmp/mlops-pg-state}"
port="${MLOPS_PG_PORT:-55432}"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    elif [ "$(id -un)" = postgres ]; then
        "$@"
    else
        sudo -u postgres -- "$@"
    fi
}

bindir() {
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
        echo "postgres.sh: installing PostgreSQL from the Debian packages" >&2
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
        dir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
    fi
    printf '%s\n' "$dir"
}

start() {
    local bin dir
    # One cluster per state file: a second start would lose track of the first (and a later
    # stop would remove the wrong one). Set MLOPS_PG_STATE to run another beside it.
    if [ -f "$state_file" ] && [ -d "$(cat "$state_file")" ]; then
        echo "postgres.sh: a cluster is already running ($(cat "$state_file")); stop it first or set MLOPS_PG_STATE" >&2
        exit 1
    fi
    bin="$(bindir)"
    if ! id postgres >/dev/null 2>&1; then
        echo "postgres.sh: no \`postgres\` system user (the Debian package creates it)" >&2
        exit 1
    fi
    dir="$(mktemp -d /tmp/mlops-pg.XXXXXX)"
    chmod 755 "$dir"
    chown postgres "$dir" 2>/dev/null || as_root chown postgres "$dir"
    as_postgres "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 >/dev/null
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=${MLOPS_PG_FSYNC:-off} -c max_connections=200" \
        start >&2
    printf '%s\n' "$dir" >"$state_file"
    printf 'export MLOPS_TEST_POSTGRES_URL=%q\n' "host=$dir port=$port user=postgres dbname=postgres"
    printf 'export MLOPS_PG_DATA=%q\n' "$dir/data"
    printf 'export MLOPS_PG_BIN=%q\n' "$bin"
}

restart() {
    local dir bin
    dir="$(cat "$state_file")"
    bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -m immediate -w -t 60 restart >&2
}

stop() {
    [ -f "$state_file" ] || exit 0
    local dir bin
    dir="$(cat "$state_file")"
    bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
    as_postgres "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || true
    rm -rf "$dir" "$state_file"
}

case "${1:-}" in
    start) start ;;
    restart) restart ;;
    stop) stop ;;
    *) echo "usage: $0 start|restart|stop" >&2; exit 2 ;;
esac
