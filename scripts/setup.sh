#!/usr/bin/env bash
# Installs the Debian 12 packages the project builds, tests and runs with. Idempotent: when every
# package is already installed it does nothing (no apt-get update), so a second run takes well under a
# second.
#
#   scripts/setup.sh                  # build tools, libraries, redis-server, nginx-light, curl
#   scripts/setup.sh --with-postgres  # the same plus PostgreSQL 15 (scripts/pg.sh, CI)
set -euo pipefail

# Build: compiler, CMake/Ninja, ccache. Libraries: Boost 1.81 headers (Asio, Beast), hiredis, SOCI
# (+ SQLite, libpq), nlohmann/json, doctest, libsodium, OpenSSL, spdlog. Run: redis-server, nginx.
# Tests: python3-jsonschema (scripts/check_events.py validates the events the tests publish).
packages=(
  cmake ninja-build g++ ccache
  libboost1.81-dev libhiredis-dev libsoci-dev libsqlite3-dev libpq-dev
  nlohmann-json3-dev doctest-dev libsodium-dev libssl-dev libspdlog-dev
  redis-server nginx-light curl ca-certificates
  python3 python3-jsonschema
)

for arg in "$@"; do
  case "$arg" in
    --with-postgres) packages+=(postgresql) ;;
    -h | --help)
      sed -n '2,7p' "$0"
      exit 0
      ;;
    *)
      echo "setup.sh: unknown option: $arg" >&2
      exit 2
      ;;
  esac
done

# Packages whose status is not "install ok installed" (one dpkg-query call; it skips unknown names).
declare -A installed=()
while read -r pkg status; do
  [[ "$status" == "install ok installed" ]] && installed[$pkg]=1
done < <(dpkg-query -W -f='${Package} ${Status}\n' "${packages[@]}" 2>/dev/null || true)
missing=()
for pkg in "${packages[@]}"; do
  [[ -n "${installed[$pkg]:-}" ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  echo "setup.sh: all ${#packages[@]} packages already installed"
  exit 0
fi

if ((EUID == 0)); then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "setup.sh: need root (or sudo) to install: ${missing[*]}" >&2
  exit 1
fi

echo "setup.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
# --no-install-recommends keeps out what the build does not need (e.g. docs, extra Boost bits).
"${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
