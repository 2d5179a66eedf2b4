// The delivery service: submissions, reviews, revision rounds, automatic acceptance and the IP evidence
// chain. Handlers are thin: they validate, check who is asking, and call the pure rules
// (delivery_rules.hpp) and the evidence chain (evidence.hpp) inside one transaction with the outbox event.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/db.hpp"
#include "common/events.hpp"
#include "common/http.hpp"
#include "services/delivery/delivery_rules.hpp"
#include "services/delivery/store.hpp"

namespace crowd {
class Service;
}

namespace crowd::delivery {

struct Settings {
  int max_revisions = 3;                                  // CROWD_MAX_REVISIONS (0..100)
  int auto_accept_batch = 100;                            // due submissions accepted per job run
  std::int64_t idempotency_ttl_ms = 24LL * 3600 * 1000;   // Idempotency-Key kept this long
  std::int64_t assignment_grace_ms = 24LL * 3600 * 1000;  // CROWD_ASSIGNMENT_GRACE_S [86400] (0..30 days):
                                                          // an assignment expires this long after its deadline
  int expire_batch = 100;                                 // assignments expired per job run
  static Settings from_env();                             // throws std::invalid_argument on bad values
};

class DeliveryService {
 public:
  DeliveryService(db::Database& db, Settings settings);

  // Routes, the assignment.created consumer and the periodic jobs.
  void install(Service& svc);
  void add_routes(http::Router& router);

  // ---- HTTP (contracts at the definitions) ----
  http::Response submit(http::Request& req);
  http::Response assignment_submissions(http::Request& req);
  http::Response get_submission(http::Request& req);
  http::Response list_submissions(http::Request& req);
  http::Response review(http::Request& req);
  http::Response get_evidence(http::Request& req);

  // ---- Events ----
  void on_assignment_created(soci::session& s, const events::Event& e);

  // ---- Jobs ----
  // Accepts every pending submission whose review window ended at now_ms (up to one batch); returns
  // how many it accepted.
  int auto_accept_due(std::int64_t now_ms);
  long long purge_idempotency_keys(std::int64_t now_ms);
  // Expires every assignment without a submission pending review whose deadline + grace passed at now_ms
  // (up to one batch), each with assignment.expired; returns how many it expired.
  int expire_due(std::int64_t now_ms);

 private:
  struct Decided {
    store::Submission submission;
    store::Assignment assignment;
  };
  // Applies a review decision to a pending submission within the caller's transaction: state rules,
  // conditional updates, evidence entry (on acceptance) and the outbox event. Throws Problem 409 when
  // the rules refuse or another writer decided first.
  Decided decide(soci::session& s, store::Submission sub, store::Assignment a, const ReviewCommand& cmd,
                 const std::optional<std::string>& reason, const std::string& trace_id);
  bool auto_accept_one(const std::string& submission_id, std::int64_t now_ms);
  bool expire_one(const std::string& assignment_id, std::int64_t now_ms);

  db::Database& db_;
  Settings settings_;
};

}  // namespace crowd::delivery
