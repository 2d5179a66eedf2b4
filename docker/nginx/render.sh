#!/bin/sh
# Renders the edge's nginx config from crowd.conf.template by replacing its @NAME@ placeholders.
# Used by scripts/run.sh (local run) and as the entrypoint step of the edge image (compose).
# POSIX sh and sed only, so the image needs nothing beyond nginx.
#
#   render.sh TEMPLATE OUTPUT
#
# Environment (defaults suit a local run with every service on 127.0.0.1):
#   EDGE_LISTEN      listen argument                 (127.0.0.1:8080)
#   EDGE_ERROR_LOG   error log path                  (/dev/stderr)
#   EDGE_ACCESS_LOG  access log path                 (/dev/stdout)
#   EDGE_PID_FILE    pid file path                   (/tmp/crowd-nginx.pid)
#   EDGE_TEMP_DIR    folder for nginx temp folders   (/tmp/crowd-nginx)
#   ACCOUNTS_ADDR TASKS_ADDR MATCHING_ADDR DELIVERY_ADDR SETTLEMENT_ADDR INVOICING_ADDR
#                    host:port of each service       (127.0.0.1:8101 ... 127.0.0.1:8106)
set -eu

if [ "$#" -ne 2 ]; then
  echo "usage: render.sh TEMPLATE OUTPUT" >&2
  exit 2
fi
template=$1
output=$2

# Escapes a value for the replacement side of a sed s|||g command.
escape() {
  printf '%s' "$1" | sed -e 's/[|&\\]/\\&/g'
}

sed \
  -e "s|@LISTEN@|$(escape "${EDGE_LISTEN:-127.0.0.1:8080}")|g" \
  -e "s|@ERROR_LOG@|$(escape "${EDGE_ERROR_LOG:-/dev/stderr}")|g" \
  -e "s|@ACCESS_LOG@|$(escape "${EDGE_ACCESS_LOG:-/dev/stdout}")|g" \
  -e "s|@PID_FILE@|$(escape "${EDGE_PID_FILE:-/tmp/crowd-nginx.pid}")|g" \
  -e "s|@TEMP_DIR@|$(escape "${EDGE_TEMP_DIR:-/tmp/crowd-nginx}")|g" \
  -e "s|@ACCOUNTS_ADDR@|$(escape "${ACCOUNTS_ADDR:-127.0.0.1:8101}")|g" \
  -e "s|@TASKS_ADDR@|$(escape "${TASKS_ADDR:-127.0.0.1:8102}")|g" \
  -e "s|@MATCHING_ADDR@|$(escape "${MATCHING_ADDR:-127.0.0.1:8103}")|g" \
  -e "s|@DELIVERY_ADDR@|$(escape "${DELIVERY_ADDR:-127.0.0.1:8104}")|g" \
  -e "s|@SETTLEMENT_ADDR@|$(escape "${SETTLEMENT_ADDR:-127.0.0.1:8105}")|g" \
  -e "s|@INVOICING_ADDR@|$(escape "${INVOICING_ADDR:-127.0.0.1:8106}")|g" \
  "$template" >"$output.tmp"

if grep -n '@[A-Z_]*@' "$output.tmp" >&2; then
  echo "render.sh: placeholders left unreplaced in $output" >&2
  rm -f "$output.tmp"
  exit 1
fi
mv "$output.tmp" "$output"
