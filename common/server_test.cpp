// The HTTP server's limits in process: header size, requests in flight, the handler time budget, and an
// exception escaping a connection's coroutine (logged; no counter leaked).
#include "common/server.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "common/http_client.hpp"

namespace {

namespace asio = boost::asio;
using namespace crowd::http;

// A server on a free port with its IO thread and a pool of `workers`.
struct Running {
  Running(crowd::config::ServiceConfig cfg, ServerHooks hooks, int workers = 4) : pool(workers) {
    cfg.host = "127.0.0.1";
    cfg.port = 0;
    server = std::make_unique<Server>(io, pool, cfg, std::move(hooks));
    server->start();
    io_thread = std::thread([this] { io.run(); });
    base = {"127.0.0.1", std::to_string(server->port())};
  }
  ~Running() {
    work.reset();
    io.stop();
    io_thread.join();
    pool.join();
  }
  ClientResponse get(const std::string& target, std::map<std::string, std::string> headers = {}) {
    ClientRequest req;
    req.target = target;
    req.headers = std::move(headers);
    req.timeout = std::chrono::milliseconds(5000);
    return fetch(base, req);
  }
  // Waits up to 2 s for `pred`.
  template <class P>
  bool eventually(P pred) {
    for (int i = 0; i < 200; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return pred();
  }

  asio::io_context io{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work{std::in_place, io.get_executor()};
  asio::thread_pool pool;
  std::unique_ptr<Server> server;
  std::thread io_thread;
  BaseUrl base;
};

// A latch the handlers wait on until the test opens it.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  std::atomic<int> waiting{0};
  void wait() {
    ++waiting;
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return open; });
  }
  void release() {
    {
      std::lock_guard lock(mu);
      open = true;
    }
    cv.notify_all();
  }
};

struct Limits {
  std::mutex mu;
  std::vector<std::string> seen;
  void add(std::string_view w) {
    std::lock_guard lock(mu);
    seen.emplace_back(w);
  }
  int count(const std::string& w) {
    std::lock_guard lock(mu);
    return static_cast<int>(std::count(seen.begin(), seen.end(), w));
  }
};

}  // namespace

TEST_CASE("requests over max_in_flight get a 503 problem with Retry-After, counted, without running") {
  crowd::config::ServiceConfig cfg;
  cfg.max_in_flight = 2;
  cfg.handler_timeout_ms = 0;  // no budget here
  Gate gate;
  Limits limits;
  std::atomic<int> ran{0};
  ServerHooks hooks;
  hooks.dispatch = [&](Request& req) {
    ++ran;
    if (req.path == "/slow") gate.wait();
    return Response::json_of(200, {{"ok", true}});
  };
  hooks.limited = [&](std::string_view w) { limits.add(w); };
  Running r(cfg, std::move(hooks));
  auto a = std::async(std::launch::async, [&] { return r.get("/slow"); });
  auto b = std::async(std::launch::async, [&] { return r.get("/slow"); });
  REQUIRE(r.eventually([&] { return gate.waiting.load() == 2; }));
  CHECK(r.server->in_flight() == 2);

  ClientResponse shed = r.get("/fast");
  CHECK(shed.status == 503);
  CHECK(shed.headers["content-type"] == "application/problem+json");
  CHECK(shed.headers["retry-after"] == "1");
  CHECK(nlohmann::json::parse(shed.body)["type"].get<std::string>().find("overloaded") != std::string::npos);
  CHECK(ran.load() == 2);  // its handler never ran
  CHECK(limits.count("in_flight") == 1);

  gate.release();
  CHECK(a.get().status == 200);
  CHECK(b.get().status == 200);
  CHECK(r.eventually([&] { return r.server->in_flight() == 0; }));
  CHECK(r.get("/fast").status == 200);
}

TEST_CASE("a handler over its time budget is answered 504, it runs on, counted in flight until it ends") {
  crowd::config::ServiceConfig cfg;
  cfg.handler_timeout_ms = 100;
  Gate gate;
  Limits limits;
  std::atomic<int> finished{0};
  ServerHooks hooks;
  hooks.dispatch = [&](Request& req) {
    if (req.path == "/stuck") gate.wait();
    ++finished;
    return Response::json_of(200, {{"ok", true}});
  };
  hooks.limited = [&](std::string_view w) { limits.add(w); };
  std::atomic<int> timeouts_logged{0};
  hooks.done = [&](const Request& req, const Response& res, double) {
    if (res.status == 504 && req.route == "timeout") ++timeouts_logged;
  };
  Running r(cfg, std::move(hooks));
  ClientResponse res = r.get("/stuck");
  CHECK(res.status == 504);
  CHECK(res.headers["content-type"] == "application/problem+json");
  CHECK(nlohmann::json::parse(res.body)["type"].get<std::string>().find("handler-timeout") != std::string::npos);
  CHECK(limits.count("handler_timeout") == 1);
  // The access hook runs after the answer is written, so the client can read it first.
  CHECK(r.eventually([&] { return timeouts_logged.load() == 1; }));
  CHECK(finished.load() == 0);
  CHECK(r.server->in_flight() == 1);  // the worker is still busy with it

  // The connection and the other workers still serve.
  CHECK(r.get("/fast").status == 200);
  gate.release();
  CHECK(r.eventually([&] { return finished.load() == 2 && r.server->in_flight() == 0; }));
  CHECK(r.eventually([&] { return r.server->connections() == 0; }));
}

TEST_CASE("the header limit comes from the configuration") {
  crowd::config::ServiceConfig cfg;
  cfg.header_limit_bytes = 2048;
  ServerHooks hooks;
  hooks.dispatch = [](Request&) { return Response::json_of(200, {{"ok", true}}); };
  Running r(cfg, std::move(hooks));
  CHECK(r.get("/", {{"X-Pad", std::string(1000, 'a')}}).status == 200);
  ClientResponse big = r.get("/", {{"X-Pad", std::string(3000, 'a')}});
  CHECK(big.status == 431);
  CHECK(big.body.find("2048") != std::string::npos);
}

TEST_CASE("an exception escaping a connection's coroutine is reported, and no counter leaks") {
  crowd::config::ServiceConfig cfg;
  Limits limits;
  ServerHooks hooks;
  hooks.dispatch = [](Request& req) {
    if (req.path == "/throw") throw std::runtime_error("dispatch must not throw, but did");
    return Response::json_of(200, {{"ok", true}});
  };
  hooks.done = [](const Request& req, const Response&, double) {
    if (req.path == "/done-throws") throw std::runtime_error("the access log broke");
  };
  hooks.limited = [&](std::string_view w) { limits.add(w); };
  Running r(cfg, std::move(hooks));
  // A dispatch that throws anyway: answered 500, not a lost request.
  CHECK(r.get("/throw").status == 500);
  // A throw after the response was written ends the connection's coroutine: logged and counted.
  CHECK(r.get("/done-throws").status == 200);
  CHECK(r.eventually([&] { return limits.count("session_failed") == 1; }));
  CHECK(r.eventually([&] { return r.server->connections() == 0 && r.server->in_flight() == 0; }));
  CHECK(r.get("/").status == 200);
}
