#!/usr/bin/env bash
# Starts the system services the tests use and writes .test-services.env with their URLs.
# PostgreSQL (Debian's package) on 127.0.0.1:5432 for the ledger tests. Needs root and apt-get;
# idempotent. Chroma and llama_cpp.server are started by the test fixtures themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f .test-services.env
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "test-services: not root or no apt-get; skipping PostgreSQL" >&2
  exit 1
fi
if ! command -v pg_ctlcluster >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
PGVER=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | awk -v v="$PGVER" '$1 == v && $2 == "main"' | grep -q .; then
  pg_createcluster "$PGVER" main --port 5432
fi
printf "listen_addresses = '127.0.0.1'\n" > "/etc/postgresql/$PGVER/main/conf.d/firstline.conf"
if ! pg_lsclusters -h | awk -v v="$PGVER" '$1 == v && $2 == "main" {print $4}' | grep -q online; then
  pg_ctlcluster "$PGVER" main start
fi
for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
pg_isready -h 127.0.0.1 -p 5432 -q
psql_q() { su postgres -c "psql -p 5432 -tAc \"$1\""; }
psql_q "SELECT 1 FROM pg_roles WHERE rolname = 'firstline'" | grep -q 1 \
  || psql_q "CREATE ROLE firstline LOGIN PASSWORD 'firstline'"
psql_q "SELECT 1 FROM pg_database WHERE datname = 'firstline_test'" | grep -q 1 \
  || su postgres -c "createdb -p 5432 -O firstline firstline_test"
echo "export FIRSTLINE_TEST_POSTGRES_URL='postgresql+psycopg://firstline:firstline@127.0.0.1:5432/firstline_test'" > .test-services.env
echo "test-services: PostgreSQL $PGVER ready on 127.0.0.1:5432"
