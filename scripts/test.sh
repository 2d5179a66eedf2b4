#!/usr/bin/env bash
# Builds the debug preset (ASan + UBSan) and runs every test: the unit tests beside the code and the
# integration tests in tests/ (which start their own redis-server and service processes on SQLite) and the
# contract tests (floors' includes, every service's events against schemas/events/catalogue.json), then checks
# that the nginx edge routes every registered route to its service and, after a full run, that every event
# the tests published validates against its schema. Exits non-zero when anything fails.
#
#   scripts/test.sh                 all tests on SQLite
#   scripts/test.sh --pg            then the whole-system tests, the kit's database and event tests and
#                                   every service's unit and flow tests again on a throwaway PostgreSQL 15
#                                   (scripts/pg.sh)
#   scripts/test.sh -- ARGS...      extra arguments for ctest, e.g. -- -R settlement --repeat until-fail:3
#
# Environment: CROWD_BUILD_JOBS (parallel compile jobs, default: the number of cores),
# CTEST_PARALLEL_LEVEL (tests run at once, default: the number of cores; the integration tests are
# marked RUN_SERIAL, so they still run alone).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

with_pg=0
ctest_args=()
while (($#)); do
  case "$1" in
    --pg) with_pg=1 ;;
    --)
      shift
      ctest_args=("$@")
      break
      ;;
    -h | --help)
      sed -n '2,13p' "$0"
      exit 0
      ;;
    *)
      echo "test.sh: unknown argument: $1 (see --help)" >&2
      exit 2
      ;;
  esac
  shift
done

if ((with_pg)); then
  scripts/setup.sh --with-postgres
else
  scripts/setup.sh
fi

echo "[test] configure and build: debug preset (ASan + UBSan)"
cmake --preset debug >/dev/null
cmake --build --preset debug -j "${CROWD_BUILD_JOBS:-$(nproc)}"

export CTEST_PARALLEL_LEVEL=${CTEST_PARALLEL_LEVEL:-$(nproc)}
# Every event the tests publish is kept here and checked against its schema at the end.
export CROWD_EVENT_CAPTURE_DIR="$ROOT/build/debug/event-capture"
rm -rf "$CROWD_EVENT_CAPTURE_DIR"
# Tests that run at once must not share one PostgreSQL database: PostgreSQL runs come after, one at a time.
unset CROWD_TEST_PG_URL
echo "[test] ctest --preset debug (${CTEST_PARALLEL_LEVEL} at once)"
ctest --preset debug "${ctest_args[@]}"

echo "[test] edge routing (scripts/check_edge.sh)"
scripts/check_edge.sh

if ((with_pg)); then
  echo "[test] whole-system tests on PostgreSQL"
  pg_env=$(scripts/pg.sh start)
  eval "$pg_env"
  # shellcheck disable=SC2064 # expand the folder now
  trap "scripts/pg.sh stop $(printf '%q' "$CROWD_PG_DIR")" EXIT
  ctest --preset debug -L integration "${ctest_args[@]}"
  echo "[test] kit database, event and housekeeping tests on PostgreSQL (CROWD_TEST_PG_URL)"
  build/debug/common/common_tests --source-file='*db_test.cpp,*events_test.cpp,*housekeeping_test.cpp'
  echo "[test] every service's unit and flow tests on PostgreSQL (CROWD_TEST_PG_URL)"
  for bin in build/debug/services/*/*_tests; do "$bin"; done
fi

if ((${#ctest_args[@]} == 0)); then
  echo "[test] every event the tests published, against schemas/events/ (scripts/check_events.py)"
  python3 scripts/check_events.py validate "$CROWD_EVENT_CAPTURE_DIR" --min-events 200
fi
