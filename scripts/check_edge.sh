#!/usr/bin/env bash
# Checks the edge configuration without building anything: renders docker/nginx/crowd.conf.template, checks
# it with `nginx -t`, runs it in front of six stand-in upstreams (a second nginx answering its service's name)
# and asks, for every route a service registers in its source (`.get("/v1/...")`, `.post(...)`, ...), whether
# the edge sends it to that service. Also checks the edge's own problem answers (404, 413).
#
#   scripts/check_edge.sh     exit 0 when every route reaches its service
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERVICES=(accounts tasks matching delivery settlement invoicing)

work=$(mktemp -d "${TMPDIR:-/tmp}/crowd-edge-check.XXXXXX")
chmod 755 "$work"  # nginx workers (nobody when run as root) only read what the masters opened
edge_conf=$work/edge/nginx.conf
fake_conf=$work/fake/nginx.conf
cleanup() {
  [[ -s "$work/edge.pid" ]] && kill -QUIT "$(<"$work/edge.pid")" 2>/dev/null
  [[ -s "$work/fake.pid" ]] && kill -QUIT "$(<"$work/fake.pid")" 2>/dev/null
  sleep 0.2
  rm -rf "$work"
}
trap cleanup EXIT

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Free ports from a random start in 20000-29999.
declare -a ports=()
candidate=$((20000 + RANDOM % 9000))
while ((${#ports[@]} < 7)); do
  port_busy "$candidate" || ports+=("$candidate")
  candidate=$((candidate + 1))
done
edge_port=${ports[0]}

# The stand-ins: one server per service, answering every request with the service's name.
mkdir -p "$work/fake/tmp" "$work/edge/tmp"
{
  echo "worker_processes 1; pid $work/fake.pid; error_log $work/fake-error.log;"
  echo "events { worker_connections 256; }"
  echo "http { access_log off; client_body_temp_path $work/fake/tmp; client_max_body_size 2m;"
  for i in "${!SERVICES[@]}"; do
    echo "  server { listen 127.0.0.1:${ports[$((i + 1))]}; location / { return 200 '${SERVICES[$i]}'; } }"
  done
  echo "}"
} >"$fake_conf"

env EDGE_LISTEN="127.0.0.1:$edge_port" EDGE_ERROR_LOG="$work/edge-error.log" EDGE_ACCESS_LOG="$work/edge-access.log" \
  EDGE_PID_FILE="$work/edge.pid" EDGE_TEMP_DIR="$work/edge/tmp" \
  ACCOUNTS_ADDR="127.0.0.1:${ports[1]}" TASKS_ADDR="127.0.0.1:${ports[2]}" MATCHING_ADDR="127.0.0.1:${ports[3]}" \
  DELIVERY_ADDR="127.0.0.1:${ports[4]}" SETTLEMENT_ADDR="127.0.0.1:${ports[5]}" INVOICING_ADDR="127.0.0.1:${ports[6]}" \
  "$ROOT/docker/nginx/render.sh" "$ROOT/docker/nginx/crowd.conf.template" "$edge_conf"

nginx -t -q -e "$work/edge-error.log" -p "$work/edge" -c "$edge_conf"
nginx -e "$work/fake-error.log" -p "$work/fake" -c "$fake_conf"
nginx -e "$work/edge-error.log" -p "$work/edge" -c "$edge_conf"
for ((i = 0; i < 50; i++)); do
  curl -fsS -o /dev/null "http://127.0.0.1:$edge_port/healthz" 2>/dev/null && break
  sleep 0.1
done

passed=0
failed=0
expect() {  # expect WHAT GOT DESCRIPTION
  if [[ "$1" == "$2" ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    printf 'FAIL %s: expected %s, got %s\n' "$3" "$1" "$2"
  fi
}

# Every route a service registers, with {params} replaced by a sample id.
for svc in "${SERVICES[@]}"; do
  [[ -d "$ROOT/services/$svc" ]] || continue
  while read -r method path; do
    [[ -n "$path" ]] || continue
    sample=$(sed -E 's/\{[A-Za-z_]+\}/id1/g' <<<"$path")
    got=$(curl -s -X "$method" "http://127.0.0.1:$edge_port$sample")
    expect "$svc" "$got" "$method $path"
  done < <(grep -rhoE '\.(get|post|put|del|patch)\("/v1/[^"]*"' "$ROOT/services/$svc" --include='*.cpp' |
    sed -E 's/^\.(get|post|put|del|patch)\("([^"]*)"$/\1 \2/; s/^del /DELETE /; s/^get /GET /; s/^post /POST /;
            s/^put /PUT /; s/^patch /PATCH /' | sort -u)
done

# The edge's own answers.
status_type() { curl -s -o /dev/null -w '%{http_code} %{content_type}' "$@"; }
expect "404 application/problem+json" "$(status_type "http://127.0.0.1:$edge_port/v1/no-such-thing")" "unknown /v1 path"
expect "404 application/problem+json" "$(status_type "http://127.0.0.1:$edge_port/")" "path outside /v1"
expect '{"type":"https://errors.crowd.example/not-found","title":"Not found","status":404,"detail":"no such resource"}' \
  "$(curl -s "http://127.0.0.1:$edge_port/v1/no-such-thing")" "404 problem body"
expect "413 application/problem+json" \
  "$(head -c 1100000 /dev/zero | status_type -X POST --data-binary @- "http://127.0.0.1:$edge_port/v1/tasks")" \
  "body over 1 MiB"
expect "accounts" "$(curl -s "http://127.0.0.1:$edge_port/v1/me")" "exact /v1/me"
expect "matching" "$(curl -s "http://127.0.0.1:$edge_port/v1/me/offers")" "/v1/me/ prefix"
expect "settlement" "$(curl -s "http://127.0.0.1:$edge_port/v1/offers/id1/net-pay-preview")" "net-pay-preview regex"
rid=$(curl -s -o /dev/null -D - -H 'X-Request-Id: check-edge-1' "http://127.0.0.1:$edge_port/v1/tasks" |
  tr -d '\r' | sed -n 's/^X-Request-Id: //Ip')
expect "check-edge-1" "$rid" "X-Request-Id passthrough"

echo "check_edge: $passed passed, $failed failed"
((failed == 0))
