// The service kit: a service is its routes, its event handlers and its periodic jobs; Service does the
// rest (configuration, logging, migrations, HTTP with /healthz /readyz /metrics, outbox relay,
// consumers, graceful shutdown on SIGTERM/SIGINT).
//
//   int main() {
//     crowd::Service svc("tasks", 8102);
//     svc.router().post("/v1/tasks", [&](crowd::http::Request& r) { ... });
//     svc.events().on("settlement", "escrow.held", [&](soci::session& s, const crowd::events::Event& e) {...});
//     svc.every("expire-offers", std::chrono::seconds(1), [&] { ... });
//     return svc.run(crowd::db::embedded_migrations());
//   }
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/config.hpp"
#include "common/crash.hpp"
#include "common/db.hpp"
#include "common/events.hpp"
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
  std::unique_ptr<Impl> impl_;
};

}  // namespace crowd
