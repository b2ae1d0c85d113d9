#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the store's tests.
#
# Source it, then start and stop:
#
#   source scripts/postgres-test-cluster.sh
#   pg_test_cluster_start          # exports CRMT_TEST_POSTGRES_URL (and the TLS and password
#                                  # settings below)
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
#
# TLS is on (plain connections work too): a throwaway CA and a server certificate for
# localhost and 127.0.0.1 are made with the openssl command in the cluster's directory
# (`ssl/`), and a second, unrelated CA for the tests of a wrong root certificate. Members of
# the role `crmt_password_users` (none at start: the tests make their own) must give a
# password (scram-sha-256) over TCP. Exported for the tests:
#
#   CRMT_TEST_POSTGRES_URL             the server, as the trusted user crmt
#   CRMT_TEST_POSTGRES_CA              the CA of the server's certificate (PEM)
#   CRMT_TEST_POSTGRES_OTHER_CA        a CA that did not sign it
#   CRMT_TEST_POSTGRES_PASSWORD_GROUP  crmt_password_users

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

# The cluster's certificates, in DIR/ssl: a CA, a server certificate it signed for localhost
# and 127.0.0.1 (its key readable by the server only), and an unrelated CA. The rest of the
# arguments run a command as the server's user (nothing when not root).
pg_test_cluster_tls() {
  local dir="$1" ssl="$1/ssl"
  shift
  if ! command -v openssl >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "postgres-test-cluster: the openssl command is missing and this is not root: install the openssl package" >&2
      return 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >&2 || return 1
  fi
  mkdir -p "$ssl" || return 1
  local key=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  if ! {
    openssl req -x509 "${key[@]}" -days 7 -subj "/CN=crm-tiering test CA" \
      -keyout "$ssl/ca.key" -out "$ssl/ca.crt" &&
      openssl req -x509 "${key[@]}" -days 7 -subj "/CN=crm-tiering other CA" \
        -keyout "$ssl/other-ca.key" -out "$ssl/other-ca.crt" &&
      openssl req "${key[@]}" -subj "/CN=localhost" -keyout "$ssl/server.key" -out "$ssl/server.csr" &&
      printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >"$ssl/server.ext" &&
      openssl x509 -req -in "$ssl/server.csr" -CA "$ssl/ca.crt" -CAkey "$ssl/ca.key" -CAcreateserial \
        -days 7 -extfile "$ssl/server.ext" -out "$ssl/server.crt"
  } >"$dir/openssl.log" 2>&1; then
    cat "$dir/openssl.log" >&2
    return 1
  fi
  chmod 600 "$ssl/server.key" "$ssl/ca.key" "$ssl/other-ca.key"
  chmod 644 "$ssl/ca.crt" "$ssl/other-ca.crt" "$ssl/server.crt"
  if [ "$#" -gt 0 ]; then
    chown -R postgres "$ssl" || return 1
  fi
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
  if ! pg_test_cluster_tls "$dir" "${run[@]}"; then
    rm -rf "$dir"
    return 1
  fi
  # Password authentication for the members of crmt_password_users, before the trust lines.
  { printf 'host all +crmt_password_users 127.0.0.1/32 scram-sha-256\n'; cat "$dir/data/pg_hba.conf"; } >"$dir/pg_hba.conf.new" &&
    cat "$dir/pg_hba.conf.new" >"$dir/data/pg_hba.conf" && rm -f "$dir/pg_hba.conf.new" || return 1
  if ! "${run[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c fsync=on -c max_connections=40 -c ssl=on -c ssl_cert_file=$dir/ssl/server.crt -c ssl_key_file=$dir/ssl/server.key -c password_encryption=scram-sha-256" start >&2; then
    cat "$dir/server.log" >&2
    rm -rf "$dir"
    return 1
  fi
  if ! "${run[@]}" "$bindir/psql" -q -X -h "$dir" -p "$port" -U crmt -d postgres -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE crmt_password_users NOLOGIN" >&2; then
    "${run[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    return 1
  fi
  export CRMT_PG_TEST_DIR="$dir" CRMT_PG_TEST_BINDIR="$bindir"
  export CRMT_TEST_POSTGRES_URL="postgres://crmt@127.0.0.1:$port/postgres"
  export CRMT_TEST_POSTGRES_CA="$dir/ssl/ca.crt" CRMT_TEST_POSTGRES_OTHER_CA="$dir/ssl/other-ca.crt"
  export CRMT_TEST_POSTGRES_PASSWORD_GROUP=crmt_password_users
  echo "postgres-test-cluster: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on $CRMT_TEST_POSTGRES_URL (data in $dir)" >&2
}

pg_test_cluster_stop() {
  local dir="${CRMT_PG_TEST_DIR:-}" bindir="${CRMT_PG_TEST_BINDIR:-}"
  [ -n "$dir" ] && [ -d "$dir" ] || return 0
  local run=()
  [ "$(id -u)" -eq 0 ] && run=(runuser -u postgres --)
  "${run[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  unset CRMT_PG_TEST_DIR CRMT_PG_TEST_BINDIR CRMT_TEST_POSTGRES_URL CRMT_TEST_POSTGRES_CA CRMT_TEST_POSTGRES_OTHER_CA \
    CRMT_TEST_POSTGRES_PASSWORD_GROUP
}

# Run directly: start, print the URL and how to stop.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  pg_test_cluster_start
  echo "export CRMT_TEST_POSTGRES_URL=$CRMT_TEST_POSTGRES_URL CRMT_TEST_POSTGRES_CA=$CRMT_TEST_POSTGRES_CA"
  echo "export CRMT_TEST_POSTGRES_OTHER_CA=$CRMT_TEST_POSTGRES_OTHER_CA CRMT_TEST_POSTGRES_PASSWORD_GROUP=$CRMT_TEST_POSTGRES_PASSWORD_GROUP"
  echo "# stop with: CRMT_PG_TEST_DIR=$CRMT_PG_TEST_DIR CRMT_PG_TEST_BINDIR=$CRMT_PG_TEST_BINDIR bash -c 'source $0; pg_test_cluster_stop'"
fi
