#!/usr/bin/env bash
# The long fuzz run (`npm run fuzz`): FUZZ_RUNS generated requests (default 100000) per
# wide-open run, on SQLite and PostgreSQL, plus a fifth of that with the shipped limits.
# Extra arguments go to node's test runner, e.g. --test-name-pattern=sqlite.
# Without TEST_DATABASE_URL a throwaway PostgreSQL is started here, as scripts/test.sh does.
set -uo pipefail
cd "$(dirname "$0")/../.."
export FUZZ_RUNS=${FUZZ_RUNS:-100000}

started=""
if [ -z "${TEST_DATABASE_URL:-}" ]; then
  # shellcheck disable=SC1091
  if source scripts/throwaway-postgres.sh start; then started=1; fi
fi
cleanup() { [ -n "$started" ] && bash scripts/throwaway-postgres.sh stop; return 0; }
trap cleanup EXIT

node --import tsx --test --test-concurrency=1 "$@" test/fuzz/http-surface.test.ts
