#!/usr/bin/env bash
# A throwaway PostgreSQL for the test suite, on 127.0.0.1 with its own port, trust auth and
# fsync off. `source scripts/throwaway-postgres.sh start` exports TEST_DATABASE_URL;
# `bash scripts/throwaway-postgres.sh stop` stops it and deletes its files.
# Needs Debian's postgresql package (apt-get install -y postgresql); .ci/run installs it.
GH_PG_DIR=${GH_PG_DIR:-/tmp/gatehouse-test-pg-$$}
# A free port unless one is given: several suites (or developers) may run at once.
GH_PG_PORT=${GH_PG_PORT:-$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")}

_gh_pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
_gh_as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

_gh_pg_stop() {
  local bin; bin=$(_gh_pg_bin)
  [ -n "$bin" ] && [ -f "$GH_PG_DIR/postmaster.pid" ] && _gh_as_pg "$bin/pg_ctl" -D "$GH_PG_DIR" -m fast -w stop >/dev/null 2>&1
  rm -rf "$GH_PG_DIR"
  return 0
}

_gh_pg_start() {
  local bin; bin=$(_gh_pg_bin)
  if [ -z "$bin" ]; then
    echo "throwaway-postgres: PostgreSQL is not installed (apt-get install -y postgresql); the PostgreSQL tests will fail." >&2
    return 1
  fi
  _gh_pg_stop
  mkdir -p "$GH_PG_DIR"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$GH_PG_DIR"
  _gh_as_pg "$bin/initdb" -D "$GH_PG_DIR" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null || return 1
  _gh_as_pg "$bin/pg_ctl" -D "$GH_PG_DIR" -l "$GH_PG_DIR/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $GH_PG_PORT -k $GH_PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null || { echo "throwaway-postgres: did not start, see $GH_PG_DIR/server.log" >&2; return 1; }
  _gh_as_pg "$bin/createdb" -h 127.0.0.1 -p "$GH_PG_PORT" -U postgres gatehouse_test || return 1
  export GH_PG_DIR GH_PG_PORT
  export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$GH_PG_PORT/gatehouse_test"
}

case "${1:-}" in
  start) _gh_pg_start ;;
  stop) _gh_pg_stop ;;
  *) echo "usage: source scripts/throwaway-postgres.sh start | bash scripts/throwaway-postgres.sh stop" >&2 ;;
esac
