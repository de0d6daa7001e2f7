#!/usr/bin/env bash
# Runs the whole node:test suite. PostgreSQL tests need TEST_DATABASE_URL: when it is not
# set, a throwaway server is started here (and stopped afterwards).
set -uo pipefail
cd "$(dirname "$0")/.."
shopt -s globstar nullglob

started=""
if [ -z "${TEST_DATABASE_URL:-}" ]; then
  # shellcheck disable=SC1091
  if source scripts/throwaway-postgres.sh start; then started=1; fi
fi
cleanup() { [ -n "$started" ] && bash scripts/throwaway-postgres.sh stop; return 0; }
trap cleanup EXIT

node --import tsx --test --test-concurrency=1 test/**/*.test.ts
