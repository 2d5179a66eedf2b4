// A whole Service in process (its HTTP server, consumer loop and housekeeping) against a real redis-server
// and a SQLite file: a broken invariant halts the consumer, and the service says so while it keeps serving.
#include "common/service.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "common/clock.hpp"
#include "common/http_client.hpp"
#include "common/ids.hpp"
#include "common/invariant.hpp"
#include "common/testing/redis_server.hpp"

namespace {

using crowd::testing::RedisServer;

// Sets environment variables for the test's duration.
struct Env {
  explicit Env(std::vector<std::pair<std::string, std::string>> vars) : vars_(std::move(vars)) {
    for (const auto& [k, v] : vars_) ::setenv(k.c_str(), v.c_str(), 1);
  }
  ~Env() {
    for (const auto& [k, v] : vars_) ::unsetenv(k.c_str());
  }
  std::vector<std::pair<std::string, std::string>> vars_;
};

}  // namespace

TEST_CASE("a broken invariant halts the consumer: /readyz not ready with the reason, metrics, HTTP still serves") {
  RedisServer redis_server;
  const auto dir = std::filesystem::temp_directory_path() / ("crowd_svc_" + crowd::ids::make("tmp"));
  std::filesystem::create_directories(dir);
  const int port = crowd::testing::free_port();
  Env env({{"CROWD_TOKEN_SECRET", std::string(40, 's')},
           {"CROWD_DB_URL", "sqlite3://db=" + (dir / "halts.db").string() + " timeout=5"},
           {"CROWD_REDIS_URL", "redis://127.0.0.1:" + std::to_string(redis_server.endpoint().port)},
           {"CROWD_HTTP_PORT", std::to_string(port)},
           {"CROWD_EVENT_BLOCK_MS", "50"},
           {"CROWD_HOUSEKEEPING_PERIOD_MS", "100"},
           {"CROWD_LOG_LEVEL", "error"}});

  crowd::redis::Client redis(redis_server.endpoint());
  crowd::events::Event e;
  e.id = "evt_halt";
  e.type = "task.opened";
  e.version = 1;
  e.occurred_at_ms = crowd::clock::now_ms();
  e.producer = "tests";
  e.key = "tsk_1";
  e.data = nlohmann::json::object();
  redis.command({"XADD", "events:tests", "*", "event", e.envelope_text()});

  int code = -1;
  std::thread runner([&] {
    crowd::Service svc("halts", port);
    svc.events().on("tests", "task.opened", [](soci::session&, const crowd::events::Event&) {
      crowd::invariant(false, "an account vanished");
    });
    code = svc.run({});
  });
  const crowd::http::BaseUrl base{"127.0.0.1", std::to_string(port)};
  auto get = [&](const std::string& target) {
    crowd::http::ClientRequest req;
    req.target = target;
    try {
      return crowd::http::fetch(base, req);
    } catch (const crowd::http::TransportError&) {
      return crowd::http::ClientResponse{};
    }
  };
  crowd::http::ClientResponse ready;
  for (int i = 0; i < 500; ++i) {
    ready = get("/readyz");
    if (ready.status == 503) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(ready.status == 503);
  if (ready.status == 503) {
    auto body = nlohmann::json::parse(ready.body);
    CHECK(body["consumer"] == "halted");
    CHECK(body["reason"].get<std::string>().find("an account vanished") != std::string::npos);
    CHECK(body["reason"].get<std::string>().find("evt_halt") != std::string::npos);
  }
  const std::string metrics = get("/metrics").body;
  CHECK(metrics.find("crowd_invariant_broken_total{service=\"halts\"} 1") != std::string::npos);
  CHECK(metrics.find("crowd_consumer_halted{service=\"halts\"} 1") != std::string::npos);
  CHECK(get("/healthz").status == 200);  // the HTTP side keeps serving
  // Still pending, never dead-lettered.
  CHECK(redis.command({"XPENDING", "events:tests", "halts"}).elements.at(0).integer == 1);
  CHECK(redis.command({"XLEN", "dead:halts"}).integer == 0);

  if (ready.status != 0) std::raise(SIGTERM);  // the service's signal_set is installed once it serves
  runner.join();
  CHECK(code == 0);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}
