#include "common/service.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <condition_variable>
#include <csignal>
#include <iostream>
#include <thread>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/redis.hpp"
#include "common/server.hpp"

namespace crowd {

namespace asio = boost::asio;

struct Service::Impl {
  asio::io_context io{1};
  std::unique_ptr<asio::thread_pool> pool;
  std::unique_ptr<http::Server> server;
  Metrics metrics;
  std::vector<std::thread> loops;
  std::atomic<bool> stopping{false};
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  struct Job {
    std::string name;
    std::chrono::milliseconds period;
    std::function<void()> fn;
  };
  std::vector<Job> jobs;
  std::mutex halt_mu;
  std::string halted;  // why the consumer halted (empty: it runs)

  // Sleeps up to `d` unless the service is stopping; returns false when stopping.
  bool sleep_for(std::chrono::milliseconds d) {
    std::unique_lock lock(stop_mu);
    return !stop_cv.wait_for(lock, d, [this] { return stopping.load(); });
  }
};

namespace {

// Redis client per worker thread (hiredis contexts are not thread-safe).
redis::Client& thread_redis(const std::string& url) {
  thread_local std::unique_ptr<redis::Client> client;
  if (!client)
    client = std::make_unique<redis::Client>(redis::Endpoint::from_url(url), std::chrono::milliseconds(2000));
  return *client;
}

http::Response problem_response(const http::Problem& p, const http::Request& req) {
  http::Response r = http::Response::json_of(p.status, p.to_json(req.path));
  r.content_type = "application/problem+json";
  if (p.status == 405) {
    std::string allow;
    for (const auto& m : p.extra.value("allow", nlohmann::json::array()))
      allow += (allow.empty() ? "" : ", ") + m.get<std::string>();
    r.headers.emplace_back("Allow", allow);
  }
  return r;
}

}  // namespace

Service::Service(std::string name, int default_port, db::DatabaseOptions db_options)
    : cfg_(config::ServiceConfig::from_env(name, default_port)), impl_(std::make_unique<Impl>()) {
  log::init(cfg_.service, cfg_.log_level);
  clock::init_from_env();
  events::set_producer(cfg_.service);
  if (cfg_.token_secret.size() < 32) {
    log::error("CROWD_TOKEN_SECRET must be set to at least 32 characters");
    throw std::runtime_error("CROWD_TOKEN_SECRET must be set to at least 32 characters");
  }
  db_ = std::make_unique<db::Database>(cfg_.db_url, static_cast<std::size_t>(cfg_.workers + 3), db_options);
  housekeeping_ = housekeeping::Settings::from(cfg_);
}

Service::~Service() = default;

void Service::every(std::string name, std::chrono::milliseconds period, std::function<void()> job) {
  impl_->jobs.push_back({std::move(name), period, std::move(job)});
}

void Service::publishes(std::vector<std::string> types) {
  published_ = std::move(types);
  events::declare_published(published_);
}

nlohmann::json Service::describe_events() const {
  nlohmann::json subscribes = nlohmann::json::array();
  for (const auto& [producer, type] : subs_.list()) subscribes.push_back({{"producer", producer}, {"type", type}});
  return {{"service", cfg_.service}, {"publishes", published_}, {"subscribes", subscribes}};
}

int Service::run(const std::vector<db::Migration>& migrations) {
  Impl& im = *impl_;
  db_->migrate_service(migrations);
  for (const auto& fn : on_start_) fn();
  housekeeping_ = housekeeping::with_safe_inbox(housekeeping_, cfg_.claim_idle_ms);
  every("housekeeping", std::chrono::milliseconds(housekeeping_.period_ms), [this] {
    const auto r = housekeeping::run_once(*db_, thread_redis(cfg_.redis_url), cfg_.service, subs_.streams(),
                                          clock::now_ms(), housekeeping_);
    Metrics& m = impl_->metrics;
    m.count("crowd_idempotency_keys_pruned_total", "Idempotency-Key records pruned after their retention.",
            r.idempotency_keys);
    m.count("crowd_outbox_pruned_total", "Sent outbox rows pruned after their retention.", r.outbox);
    m.count("crowd_inbox_pruned_total", "Inbox rows pruned after their retention.", r.inbox);
    m.count("crowd_stream_trimmed_total", "Acknowledged entries trimmed from this service's stream.", r.stream_entries);
    m.count("crowd_dead_letters_dropped_total", "Dead letters dropped over their retention or the cap.",
            r.dead_letters);
    m.count("crowd_housekeeping_failures_total", "Housekeeping steps that failed (logged).", r.failures);
  });

  router_.get("/healthz", [](http::Request&) { return http::Response::json_of(200, {{"status", "ok"}}); });
  router_.get("/readyz", [this](http::Request&) {
    bool db_ok = db_->ping();
    bool redis_ok = false;
    try {
      redis_ok = thread_redis(cfg_.redis_url).ping();
    } catch (const std::exception&) {
    }
    std::string halted;
    {
      std::lock_guard lock(impl_->halt_mu);
      halted = impl_->halted;
    }
    int status = db_ok && redis_ok && halted.empty() ? 200 : 503;
    nlohmann::json body = {{"status", status == 200 ? "ready" : "not ready"}, {"database", db_ok}, {"redis", redis_ok}};
    if (!subs_.empty()) body["consumer"] = halted.empty() ? "running" : "halted";
    if (!halted.empty()) body["reason"] = halted;
    return http::Response::json_of(status, body);
  });
  router_.get("/metrics", [this](http::Request&) {
    http::Response r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = impl_->metrics.render(cfg_.service);
    return r;
  });

  register_admin_routes();

  http::ServerHooks hooks;
  hooks.dispatch = [this](http::Request& req) -> http::Response {
    try {
      auto auth = req.header("authorization");
      if (auth.size() > 7 && (auth.starts_with("Bearer ") || auth.starts_with("bearer ")))
        req.principal = auth::verify_token(cfg_.token_secret, auth.substr(7), clock::now_ms());
      auto m = router_.match(req);
      if (m.handler == nullptr) {
        if (!m.allowed.empty()) {
          http::Problem p(405, "method-not-allowed", "Method not allowed",
                          req.method + " is not allowed on " + req.path);
          p.extra["allow"] = m.allowed;
          throw p;
        }
        req.route = "unmatched";
        throw http::not_found("no route for " + req.path);
      }
      req.route = m.pattern;
      return (*m.handler)(req);
    } catch (const http::Problem& p) {
      return problem_response(p, req);
    } catch (const std::exception& e) {
      log::error("handler failed", {{"route", req.route}, {"request_id", req.request_id}, {"error", e.what()}});
      return problem_response(http::Problem(500, "internal", "Internal error", "request " + req.request_id + " failed"),
                              req);
    }
  };
  hooks.done = [this](const http::Request& req, const http::Response& res, double seconds) {
    impl_->metrics.observe(req.route.empty() ? "unmatched" : req.route, req.method, res.status, seconds);
    if (req.route == "/healthz" || req.route == "/metrics") return;
    nlohmann::json line = {{"request_id", req.request_id}, {"method", req.method}, {"path", req.path},
                           {"route", req.route},           {"status", res.status}, {"ms", seconds * 1000}};
    if (req.principal) line["party"] = req.principal->party_id;
    log::info("access", line);
  };

  hooks.limited = [this](std::string_view what) {
    Metrics& m = impl_->metrics;
    if (what == "in_flight") {
      m.count("crowd_http_shed_total", "Requests answered 503 over the limit of requests in flight.");
    } else if (what == "handler_timeout") {
      m.count("crowd_http_handler_timeouts_total", "Requests answered 504 when their handler overran its budget.");
    } else {
      m.count("crowd_http_session_failures_total", "Connections ended by an exception (logged).");
    }
  };

  im.pool = std::make_unique<asio::thread_pool>(static_cast<std::size_t>(cfg_.workers));
  im.server = std::make_unique<http::Server>(im.io, *im.pool, cfg_, std::move(hooks));
  start_loops();
  im.server->start();

  asio::signal_set signals(im.io, SIGTERM, SIGINT);
  signals.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    log::info("shutting down", {{"signal", sig}});
    shutdown();
  });
  log::info("listening", {{"host", cfg_.host}, {"port", im.server->port()}, {"workers", cfg_.workers}});
  im.io.run();
  for (auto& t : im.loops) t.join();
  im.pool->join();
  log::info("stopped");
  return 0;
}

// Stop accepting, let in-flight requests finish (bounded by the grace period), then stop the loops
// after their current batch and end the IO loop.
void Service::shutdown() {
  Impl& im = *impl_;
  im.server->drain();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(cfg_.shutdown_grace_ms);
  auto timer = std::make_shared<asio::steady_timer>(im.io);
  auto poll = std::make_shared<std::function<void()>>();
  *poll = [this, timer, deadline, poll]() {
    Impl& im = *impl_;
    if (im.server->in_flight() == 0 || std::chrono::steady_clock::now() > deadline) {
      {
        std::lock_guard lock(im.stop_mu);
        im.stopping = true;
      }
      im.stop_cv.notify_all();
      im.io.stop();
      *poll = nullptr;  // break the self-reference
      return;
    }
    timer->expires_after(std::chrono::milliseconds(10));
    timer->async_wait([poll](const boost::system::error_code&) {
      if (*poll) (*poll)();
    });
  };
  (*poll)();
}

// Operator endpoints every consuming service has: its dead letters, and a redrive of one after a fix.
void Service::register_admin_routes() {
  if (subs_.empty()) return;
  const std::string base = "/v1/admin/" + cfg_.service + "/dead-letters";
  router_.get(base, [this](http::Request& req) {
    http::require_role(req, {auth::Role::operator_});
    http::Page page = http::page_of(req, 50, 500);
    auto items = events::dead_letters(thread_redis(cfg_.redis_url), cfg_.service, page.cursor, page.limit);
    nlohmann::json out = nlohmann::json::array();
    for (const auto& d : items)
      out.push_back({{"id", d.entry_id}, {"stream", d.stream}, {"reason", d.reason}, {"event", d.event}});
    nlohmann::json next = items.size() == static_cast<std::size_t>(page.limit) ? nlohmann::json(items.back().entry_id)
                                                                               : nlohmann::json(nullptr);
    return http::Response::json_of(200, {{"items", out}, {"next_cursor", next}});
  });
  router_.post(base + "/{id}/redrive", [this](http::Request& req) {
    const auto& op = http::require_role(req, {auth::Role::operator_});
    std::string id = req.param("id");
    std::string error;
    try {
      if (!events::redrive(*db_, thread_redis(cfg_.redis_url), subs_, cfg_.service, id))
        throw http::not_found("no dead letter " + id);
    } catch (const http::Problem&) {
      throw;
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (!error.empty()) {
      throw http::Problem(409, "redrive-failed", "The event still fails", error.substr(0, error.find('\n')));
    }
    log::info("operator redrive", {{"operator", op.party_id}, {"entry_id", id}});
    return http::Response::json_of(200, {{"id", id}, {"status", "applied"}});
  });
}

void Service::start_loops() {
  Impl& im = *impl_;
  // Outbox relay: sends as fast as rows appear; idles 10 ms when nothing is pending.
  im.loops.emplace_back([this] {
    Impl& im = *impl_;
    redis::Client redis(redis::Endpoint::from_url(cfg_.redis_url));
    while (!im.stopping) {
      int sent = 0;
      try {
        sent = events::relay_once(*db_, redis, cfg_.event_batch);
        if (sent > 0) im.metrics.count("crowd_outbox_sent_total", "Events relayed from the outbox to Redis.", sent);
      } catch (const std::exception& e) {
        log::warn("outbox relay failed", {{"error", e.what()}});
        im.sleep_for(std::chrono::milliseconds(500));
      }
      if (sent == 0) im.sleep_for(std::chrono::milliseconds(10));
    }
  });
  if (!subs_.empty()) {
    im.loops.emplace_back([this] {
      Impl& im = *impl_;
      events::ConsumerOptions opt{cfg_.service,        cfg_.consumer_name,  cfg_.event_batch,
                                  cfg_.event_block_ms, cfg_.max_deliveries, cfg_.claim_idle_ms};
      redis::Client redis(redis::Endpoint::from_url(cfg_.redis_url),
                          std::chrono::milliseconds(cfg_.event_block_ms + 3000));
      bool groups_ready = false;
      auto last_reclaim = std::chrono::steady_clock::now() - std::chrono::hours(1);
      std::int64_t transient_backoff_ms = 0;
      events::ReadAhead ahead(redis::Endpoint::from_url(cfg_.redis_url), subs_, opt);
      im.metrics.set_gauge("crowd_consumer_halted", "1 when the consumer stopped on a broken invariant.", 0);
      while (!im.stopping) {
        try {
          if (!groups_ready) {
            events::ensure_groups(redis, subs_, opt);
            groups_ready = true;
          }
          int n = ahead.consume(*db_, redis);
          if (n > 0) im.metrics.count("crowd_events_consumed_total", "Stream entries read by this consumer.", n);
          auto now = std::chrono::steady_clock::now();
          if (now - last_reclaim > std::chrono::milliseconds(std::max<std::int64_t>(cfg_.claim_idle_ms / 2, 100))) {
            last_reclaim = now;
            events::reclaim_once(*db_, redis, subs_, opt);
            im.metrics.set_gauge("crowd_stream_lag", "Entries of subscribed streams not yet processed by this group.",
                                 static_cast<double>(events::lag(redis, subs_, opt)));
          }
          transient_backoff_ms = 0;
        } catch (const events::ConsumerHalted& e) {
          // A broken invariant of our own: an assertion, not a retry. Stop consuming (the batch stays
          // pending for after the fix) and alert; the HTTP side keeps serving.
          log::error(
              "consumer halted: an invariant is broken; the event stays pending until the cause is fixed "
              "and the service restarted",
              {{"event_id", e.event_id},
               {"type", e.type},
               {"stream", e.stream},
               {"entry_id", e.entry_id},
               {"error", e.what()}});
          im.metrics.count("crowd_invariant_broken_total", "Broken invariants met by the consumer (it halted).");
          im.metrics.set_gauge("crowd_consumer_halted", "1 when the consumer stopped on a broken invariant.", 1);
          {
            std::lock_guard lock(im.halt_mu);
            im.halted =
                std::string(e.what()) + (e.event_id.empty() ? "" : " (event " + e.event_id + ", " + e.type + ")");
          }
          return;
        } catch (const events::TransientFailure& e) {
          // The database (most likely) is in trouble: back off, up to 5 s, and try the same entries again.
          transient_backoff_ms = std::min<std::int64_t>(std::max<std::int64_t>(transient_backoff_ms * 2, 100), 5000);
          im.metrics.count("crowd_events_transient_failures_total", "Event applications that failed transiently.",
                           e.count);
          im.sleep_for(std::chrono::milliseconds(transient_backoff_ms));
        } catch (const std::exception& e) {
          log::warn("consumer failed", {{"error", e.what()}});
          groups_ready = false;
          im.sleep_for(std::chrono::milliseconds(500));
        }
      }
      // A batch already read is applied before the process ends, not left for the next one to reclaim.
      try {
        ahead.stop_and_drain(*db_, redis);
      } catch (const std::exception& e) {
        log::warn("consumer failed applying its last batch; it stays pending", {{"error", e.what()}});
      }
    });
  }
  for (const auto& job : im.jobs) {
    im.loops.emplace_back([this, job] {
      Impl& im = *impl_;
      while (im.sleep_for(job.period)) {
        try {
          job.fn();
        } catch (const std::exception& e) {
          log::warn("job failed", {{"job", job.name}, {"error", e.what()}});
        }
      }
    });
  }
}

}  // namespace crowd
