// The service kit: a service is its routes, its event handlers and its periodic jobs; Service does the
// rest (configuration, logging, migrations of the kit's tables and the service's, HTTP with /healthz /readyz
// /metrics and its limits, outbox relay, consumers, housekeeping, graceful shutdown on SIGTERM/SIGINT).
//
// Two error channels in the consumer: an event that breaks the contract (events::Refusal, std::logic_error,
// a JSON error) is retried and then dead-lettered; a broken invariant of our own (crowd::InvariantBroken)
// halts the consumer loop: the batch rolls back and stays pending, the event is logged at error level,
// crowd_invariant_broken_total and crowd_consumer_halted rise, /readyz answers 503 with the reason, and the
// HTTP side keeps serving until an operator fixes the cause and restarts the service.
//
// Every service's main.cpp is the same line, service_main (common/service_main.hpp) with the service's
// spec(); its service.cpp puts it together from its roles (settings, api, consumers, jobs):
//
//   ServiceSpec spec() {
//     return {"tasks", 8102, {}, {"task.created", "task.opened", ...}, [](Service& svc) {
//       auto& api = svc.keep(std::make_unique<Api>(svc.db()));
//       add_routes(svc.router(), api);
//       add_consumers(svc.events());
//       add_jobs(svc);
//     }};
//   }
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/config.hpp"
#include "common/crash.hpp"
#include "common/db.hpp"
#include "common/events.hpp"
#include "common/housekeeping.hpp"
#include "common/http.hpp"

namespace crowd {

class Service {
 public:
  Service(std::string name, int default_port, db::DatabaseOptions db_options = {});
  ~Service();

  const config::ServiceConfig& config() const { return cfg_; }
  db::Database& db() { return *db_; }
  http::Router& router() { return router_; }
  events::Subscriptions& events() { return subs_; }
  // A job run on the worker pool every period (after the previous run ended). Exceptions are logged.
  void every(std::string name, std::chrono::milliseconds period, std::function<void()> job);

  // Keeps `owned` alive as long as the service (what routes, handlers and jobs refer to); returns it.
  template <class T>
  T& keep(std::unique_ptr<T> owned) {
    T& ref = *owned;
    kept_.push_back(std::shared_ptr<void>(std::move(owned)));
    return ref;
  }
  // The event types this service publishes: any other is refused by events::publish (std::logic_error).
  void publishes(std::vector<std::string> types);
  const std::vector<std::string>& published() const { return published_; }
  // The kit's housekeeping (common/housekeeping.hpp), from the CROWD_*_RETENTION_S settings; a service
  // changes it before run(), e.g. `svc.housekeeping().idempotency_retention_ms = 0;` for keys kept for good.
  // run() raises an inbox retention too short for the stream and dead-letter retentions (logged).
  housekeeping::Settings& housekeeping() { return housekeeping_; }
  // Run by run() after the migrations, before the service serves (e.g. a bootstrap that needs the tables).
  void on_start(std::function<void()> fn) { on_start_.push_back(std::move(fn)); }
  // {service, publishes: [type], subscribes: [{producer, type}]}: what --describe-events prints.
  nlohmann::json describe_events() const;

  // Migrates, starts everything and blocks until SIGTERM/SIGINT; returns the process exit code.
  int run(const std::vector<db::Migration>& migrations);

 private:
  void start_loops();
  void register_admin_routes();
  void shutdown();
  struct Impl;
  config::ServiceConfig cfg_;
  std::unique_ptr<db::Database> db_;
  http::Router router_;
  events::Subscriptions subs_;
  std::vector<std::string> published_;
  std::vector<std::function<void()>> on_start_;
  housekeeping::Settings housekeeping_;
  std::unique_ptr<Impl> impl_;
  std::vector<std::shared_ptr<void>> kept_;  // destroyed first: what they own may use the rest
};

}  // namespace crowd
