#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the store's tests.
#
# Source it, then start and stop:
#
#   source scripts/postgres-test-cluster.sh
#   pg_test_cluster_start          # exports CRMT_TEST_POSTGRES_URL
#   trap pg_test_cluster_stop EXIT
#   cargo test -p crm-tiering-store
#
# or run it directly (`scripts/postgres-test-cluster.sh`) to start a cluster and print its
# URL and stop command.
#
# It installs PostgreSQL from Debian's packages when initdb is missing, creates a cluster in a
# temporary directory (as the `postgres` user when run as root: initdb refuses root), listens
# on 127.0.0.1 at a free port and on a socket in that directory only, with trust
# authentication for local connections, and removes everything on stop.

pg_test_cluster_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
      echo "$d"
      return 0
    fi
  done
  return 1
}

pg_test_cluster_start() {
  local bindir port dir
  if ! bindir=$(pg_test_cluster_bindir); then
    echo "postgres-test-cluster: installing PostgreSQL from Debian's packages" >&2
    if [ "$(id -u)" -ne 0 ]; then
      echo "postgres-test-cluster: PostgreSQL is missing and this is not root: install the postgresql package" >&2
      return 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2 || return 1
    # The package starts a cluster of its own on 5432; the tests do not use it.
    bindir=$(pg_test_cluster_bindir) || { echo "postgres-test-cluster: initdb not found after install" >&2; return 1; }
  fi
  dir=$(mktemp -d "${TMPDIR:-/tmp}/crmt-pg.XXXXXX") || return 1
  local run=()
  if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
      useradd --system --no-create-home --shell /usr/sbin/nologin postgres || return 1
    fi
    chown postgres "$dir"
    chmod 700 "$dir"
    run=(runuser -u postgres --)
  fi
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null ||
    echo $((20000 + RANDOM % 20000)))
  if ! "${run[@]}" "$bindir/initdb" -D "$dir/data" -U crmt -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1; then
    if ! "${run[@]}" "$bindir/initdb" -D "$dir/data" -U crmt -A trust -E UTF8 --locale=C >"$dir/initdb.log" 2>&1; then
      cat "$dir/initdb.log" >&2
      rm -rf "$dir"
      return 1
    fi
  fi
  if ! "${run[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c fsync=on -c max_connections=40" start >&2; then
    cat "$dir/server.log" >&2
    rm -rf "$dir"
    return 1
  fi
  export CRMT_PG_TEST_DIR="$dir" CRMT_PG_TEST_BINDIR="$bindir"
  export CRMT_TEST_POSTGRES_URL="postgres://crmt@127.0.0.1:$port/postgres"
  echo "postgres-test-cluster: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on $CRMT_TEST_POSTGRES_URL (data in $dir)" >&2
}

pg_test_cluster_stop() {
  local dir="${CRMT_PG_TEST_DIR:-}" bindir="${CRMT_PG_TEST_BINDIR:-}"
  [ -n "$dir" ] && [ -d "$dir" ] || return 0
  local run=()
  [ "$(id -u)" -eq 0 ] && run=(runuser -u postgres --)
  "${run[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  unset CRMT_PG_TEST_DIR CRMT_PG_TEST_BINDIR CRMT_TEST_POSTGRES_URL
}

# Run directly: start, print the URL and how to stop.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  pg_test_cluster_start
  echo "export CRMT_TEST_POSTGRES_URL=$CRMT_TEST_POSTGRES_URL"
  echo "# stop with: CRMT_PG_TEST_DIR=$CRMT_PG_TEST_DIR CRMT_PG_TEST_BINDIR=$CRMT_PG_TEST_BINDIR bash -c 'source $0; pg_test_cluster_stop'"
fi
