#!/usr/bin/env bash
# The floors of the house (ARCHITECTURE.md), checked: the kit (common/) includes no service; a service includes
# the kit and itself, never another service; tests/ may include anything. Also: no doctest name holds ';'.
# Prints everything that breaks a rule and exits 1 when there is one.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

bad=0
while IFS= read -r hit; do
  echo "kit includes a service: $hit"
  bad=1
done < <(grep -rnE '^\s*#\s*include\s*"services/' common --include='*.hpp' --include='*.cpp' || true)

for dir in services/*/; do
  svc=$(basename "$dir")
  while IFS= read -r hit; do
    echo "$svc includes another service: $hit"
    bad=1
  done < <(grep -rnE '^\s*#\s*include\s*"services/' "$dir" --include='*.hpp' --include='*.cpp' |
    grep -vE "#\s*include\s*\"services/$svc/" || true)
done

# Not an include, but a rule of the house no compiler checks either: ctest's doctest discovery splits a test
# name at ';', and each half matches no test case, so the test never runs and ctest says it passed.
while IFS= read -r hit; do
  echo "test name with ';' (ctest would run nothing): $hit"
  bad=1
done < <(grep -rnE 'TEST_CASE\("[^"]*;' common services tests --include='*.cpp' || true)

if ((bad)); then
  echo "check_includes: FAILED (see ARCHITECTURE.md, \"Floors\")"
  exit 1
fi
echo "check_includes: the kit includes no service; no service includes another"
