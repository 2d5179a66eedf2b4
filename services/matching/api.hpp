// Matching's HTTP API (all under /v1, workers only):
//   PUT  /v1/me/availability        go online/offline, report a place; going online fetches offers
//   GET  /v1/me/offers              pending, unexpired offers with their task summary
//   POST /v1/offers/{id}/accept     take one unit (201 new assignment, 200 the same one again)
//   POST /v1/offers/{id}/decline    decline (the unit goes to the next candidate)
//   GET  /v1/me/assignments         the worker's assignments
// Writes take an optional Idempotency-Key header (outcome.hpp, common/idempotency.hpp).
#pragma once

#include <functional>

#include "common/http.hpp"
#include "services/matching/engine.hpp"

namespace crowd::db {
class Database;
}

namespace crowd::matching {

class Api {
 public:
  // db is looked up at each request: the Service opens its database only in run().
  using DbRef = std::function<db::Database&()>;
  Api(DbRef db, Settings cfg) : db_(std::move(db)), cfg_(cfg) {}

  void add_routes(http::Router& router);

  http::Response put_availability(http::Request& req);
  http::Response get_offers(http::Request& req);
  http::Response accept(http::Request& req);
  http::Response decline(http::Request& req);
  http::Response get_assignments(http::Request& req);

 private:
  DbRef db_;
  Settings cfg_;
};

}  // namespace crowd::matching
