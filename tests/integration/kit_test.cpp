// The service kit as a client sees it: health, readiness, metrics, keep-alive, read deadlines and a
// graceful stop on SIGTERM, on a real service binary.
#include <doctest/doctest.h>

#include "flows.hpp"

using namespace crowd::test;

namespace {
int count_of(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}
}  // namespace

TEST_CASE("kit: health, readiness, metrics, keep-alive, deadlines and SIGTERM") {
  Platform p("kit", {{"CROWD_HEADER_TIMEOUT_MS", "400"},
                     {"CROWD_IDLE_TIMEOUT_MS", "600"},
                     {"CROWD_HEADER_LIMIT_BYTES", "4096"},
                     {"CROWD_HOUSEKEEPING_PERIOD_MS", "200"}});
  p.start("accounts");
  p.start("settlement");
  int port = p.port("accounts");

  CHECK(http_request(port, "GET", "/healthz").status == 200);
  auto ready = http_request(port, "GET", "/readyz");
  CHECK(ready.status == 200);
  CHECK(ready.json_body()["database"] == true);
  CHECK(ready.json_body()["redis"] == true);
  CHECK(!ready.header("x-request-id").empty());
  CHECK(http_request(port, "GET", "/healthz", {}, {{"X-Request-Id", "trace-abc-1"}}).header("x-request-id") ==
        "trace-abc-1");

  register_enterprise(p, "丙公司", "91350100M000100Y43");
  auto metrics = http_request(port, "GET", "/metrics");
  CHECK(metrics.status == 200);
  CHECK(metrics.body.find("crowd_http_requests_total{service=\"accounts\",route=\"/v1/enterprises\",method=\"POST\","
                          "status=\"201\"} 1") != std::string::npos);
  CHECK(
      metrics.body.find("crowd_http_request_duration_seconds_bucket{service=\"accounts\",route=\"/v1/enterprises\"") !=
      std::string::npos);
  // settlement consumes streams: its lag gauge appears once its consumer has looked.
  CHECK(eventually([&] {
    return http_request(p.port("settlement"), "GET", "/metrics").body.find("crowd_stream_lag") != std::string::npos;
  }));

  // A consuming service reports its consumer; it runs, and its halt gauge says so.
  auto settlement_ready = http_request(p.port("settlement"), "GET", "/readyz");
  CHECK(settlement_ready.status == 200);
  CHECK(settlement_ready.json_body()["consumer"] == "running");
  CHECK(eventually([&] {
    auto m = http_request(p.port("settlement"), "GET", "/metrics").body;
    return m.find("crowd_consumer_halted{service=\"settlement\"} 0") != std::string::npos &&
           m.find("crowd_housekeeping_failures_total{service=\"settlement\"} 0") != std::string::npos;
  }));
  // The header limit comes from CROWD_HEADER_LIMIT_BYTES.
  auto big_header = http_raw(port, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(5000, 'a') + "\r\n\r\n");
  CHECK(big_header.status == 431);
  CHECK(http_request(port, "GET", "/healthz", {}, {{"X-Pad", std::string(2000, 'a')}}).status == 200);

  // Two requests on one connection (keep-alive), then the server closes as asked.
  std::string two = http_raw_text(port,
                                  "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                                  "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(count_of(two, "HTTP/1.1 200") == 2);

  // A client that never finishes its header is cut off at the deadline, not held forever.
  auto cut = ms_until_closed(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n", std::chrono::seconds(5));
  CHECK(cut >= 300);
  CHECK(cut < 3000);
  // An idle keep-alive connection is closed after the idle limit.
  auto idle = ms_until_closed(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", std::chrono::seconds(5));
  CHECK(idle >= 500);
  CHECK(idle < 3000);
  // Malformed HTTP gets a 400 problem, not a hang.
  auto bad = http_raw(port, "NOT HTTP AT ALL\r\n\r\n");
  CHECK(bad.status == 400);

  // SIGTERM: the services stop accepting and exit 0.
  CHECK(p.stop("accounts") == 0);
  CHECK(p.stop("settlement") == 0);
  CHECK(http_request(port, "GET", "/healthz").status == 0);
}
