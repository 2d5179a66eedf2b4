// HTTP API of delivery: submissions (api_submissions.cpp), reviews and evidence (api_review.cpp). Handlers
// are thin: they validate, check who is asking, and call the pure rules (delivery_rules.hpp) and the evidence
// chain (evidence.hpp) inside one transaction with the outbox event. Contracts at the definitions.
#pragma once

#include "common/db.hpp"
#include "common/http.hpp"
#include "services/delivery/settings.hpp"

namespace crowd::delivery {

class Api {
 public:
  // `db` and `settings` must outlive the Api.
  Api(db::Database& db, const Settings& settings) : db_(db), settings_(settings) {}

  http::Response submit(http::Request& req);
  http::Response assignment_submissions(http::Request& req);
  http::Response get_submission(http::Request& req);
  http::Response list_submissions(http::Request& req);
  http::Response review(http::Request& req);
  http::Response get_evidence(http::Request& req);

 private:
  db::Database& db_;
  const Settings& settings_;
};

// The routes of delivery on `api` (which must outlive the router).
void add_routes(http::Router& router, Api& api);

}  // namespace crowd::delivery
