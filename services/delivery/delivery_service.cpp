#include "services/delivery/delivery_service.hpp"

#include <chrono>
#include <map>
#include <stdexcept>

#include "common/clock.hpp"
#include "common/config.hpp"
#include "common/idempotency.hpp"
#include "common/log.hpp"
#include "common/service.hpp"
#include "services/delivery/writes.hpp"

namespace crowd::delivery {

namespace {

constexpr const char* kAutoAcceptReason = "review window ended";

const nlohmann::json& field(const nlohmann::json& data, const char* name) {
  auto it = data.find(name);
  if (it == data.end()) throw std::invalid_argument(std::string("assignment.created lacks ") + name);
  return *it;
}

std::string str_field(const nlohmann::json& data, const char* name) {
  const auto& v = field(data, name);
  if (!v.is_string() || v.get_ref<const std::string&>().empty()) {
    throw std::invalid_argument(std::string("assignment.created: ") + name + " is not a non-empty string");
  }
  return v.get<std::string>();
}

std::int64_t int_field(const nlohmann::json& data, const char* name, std::int64_t min) {
  const auto& v = field(data, name);
  if (!v.is_number_integer() || v.get<std::int64_t>() < min) {
    throw std::invalid_argument(std::string("assignment.created: ") + name +
                                " is not an integer >= " + std::to_string(min));
  }
  return v.get<std::int64_t>();
}

store::Assignment assignment_from_event(const events::Event& e, std::int64_t now_ms) {
  const auto& d = e.data;
  store::Assignment a;
  a.id = str_field(d, "assignment_id");
  a.offer_id = str_field(d, "offer_id");
  a.task_id = str_field(d, "task_id");
  a.enterprise_id = str_field(d, "enterprise_id");
  a.worker_id = str_field(d, "worker_id");
  a.units = int_field(d, "units", 1);
  a.pay_per_unit_fen = int_field(d, "pay_per_unit_fen", 0);
  a.amount_fen = int_field(d, "amount_fen", 0);
  a.currency = str_field(d, "currency");
  a.category = str_field(d, "category");
  a.title = str_field(d, "title");
  a.review_window_s = int_field(d, "review_window_s", 0);
  a.deadline_ms = int_field(d, "deadline_ms", 0);
  a.status = AssignmentStatus::working;
  a.revision_round = 0;
  a.created_at_ms = now_ms;
  a.updated_at_ms = now_ms;
  return a;
}

http::Problem refused(const RuleError& e) {
  static const std::map<std::string, std::string> titles = {
      {"assignment-not-open", "The assignment does not take a submission now"},
      {"submission-not-pending", "The submission is already reviewed"},
      {"revision-limit", "No revision rounds left"},
      {"review-window-ended", "The review window ended"},
      {"review-window-open", "The review window is still open"},
      {"invalid-state", "Inconsistent delivery state"},
  };
  auto it = titles.find(e.type);
  return http::Problem(409, e.type, it != titles.end() ? it->second : "Conflict", e.detail);
}

}  // namespace

Settings Settings::from_env() {
  Settings s;
  const auto max_revisions = config::env_int("CROWD_MAX_REVISIONS", s.max_revisions);
  if (max_revisions < 0 || max_revisions > 100) throw std::invalid_argument("CROWD_MAX_REVISIONS must be 0..100");
  s.max_revisions = static_cast<int>(max_revisions);
  const auto grace_s = config::env_int("CROWD_ASSIGNMENT_GRACE_S", s.assignment_grace_ms / 1000);
  if (grace_s < 0 || grace_s > 30LL * 86400) throw std::invalid_argument("CROWD_ASSIGNMENT_GRACE_S must be 0..2592000");
  s.assignment_grace_ms = grace_s * 1000;
  return s;
}

DeliveryService::DeliveryService(db::Database& db, Settings settings) : db_(db), settings_(settings) {}

void DeliveryService::install(Service& svc) {
  add_routes(svc.router());
  svc.events().on("matching", "assignment.created",
                  [this](soci::session& s, const events::Event& e) { on_assignment_created(s, e); });
  // One second keeps acceptance at most about a second late; a run handles one batch, the next run the rest.
  svc.every("auto-accept", std::chrono::seconds(1), [this] { auto_accept_due(clock::now_ms()); });
  // Same cadence: an abandoned assignment's unit (and escrow) comes back about a second after its grace.
  svc.every("expire-assignments", std::chrono::seconds(1), [this] { expire_due(clock::now_ms()); });
  svc.every("purge-idempotency-keys", std::chrono::minutes(10), [this] { purge_idempotency_keys(clock::now_ms()); });
}

void DeliveryService::add_routes(http::Router& r) {
  r.post("/v1/assignments/{id}/submissions", [this](http::Request& q) { return submit(q); });
  r.get("/v1/assignments/{id}/submissions", [this](http::Request& q) { return assignment_submissions(q); });
  r.get("/v1/submissions", [this](http::Request& q) { return list_submissions(q); });
  r.get("/v1/submissions/{id}", [this](http::Request& q) { return get_submission(q); });
  r.post("/v1/submissions/{id}/review", [this](http::Request& q) { return review(q); });
  r.get("/v1/evidence/{id}", [this](http::Request& q) { return get_evidence(q); });
}

// Consumer of matching's assignment.created: records the assignment as "working".
// Runs inside the kit's inbox transaction. Idempotent: a replay (new event id, same assignment) inserts
// nothing thanks to the primary key. A malformed event throws: it stays pending and is dead-lettered
// after the kit's maximum deliveries (the kit also dead-letters versions above 1 before calling this).
void DeliveryService::on_assignment_created(soci::session& s, const events::Event& e) {
  const auto a = assignment_from_event(e, clock::now_ms());
  if (!store::insert_assignment(s, a)) {
    log::debug("assignment already known", {{"assignment_id", a.id}, {"event_id", e.id}});
  }
}

DeliveryService::Decided DeliveryService::decide(soci::session& s, store::Submission sub, store::Assignment a,
                                                 const ReviewCommand& cmd, const std::optional<std::string>& reason,
                                                 const std::string& trace_id) {
  const ReviewState state{a.status, sub.status, a.revision_round, settings_.max_revisions, sub.review_deadline_ms};
  const auto result = on_review(state, cmd);
  if (const auto* err = std::get_if<RuleError>(&result)) throw refused(*err);
  const auto& next = std::get<ReviewOutcome>(result);

  const store::Review review{cmd.decision, reason, cmd.automatic, cmd.now_ms};
  // The conditional update decides a race (enterprise against the auto-acceptance job, or two reviews).
  if (!store::decide_submission(s, sub.id, next.submission, review)) {
    throw refused({"submission-not-pending", "another review decided this submission first"});
  }
  if (!store::move_assignment(s, a.id, a.status, next.assignment, next.revision_round, cmd.now_ms)) {
    throw refused({"invalid-state", "the assignment changed while the submission was reviewed"});
  }
  sub.status = next.submission;
  sub.review = review;
  a.status = next.assignment;
  a.revision_round = next.revision_round;

  switch (cmd.decision) {
    case Decision::accept: {
      // Seam for IP terms: assignment.created carries none, so every acceptance is recorded as the moment
      // rights would pass; the terms decide later whether they did.
      evidence::AcceptanceFacts facts{sub.id,        a.id,      a.enterprise_id, a.worker_id, sub.content_sha256,
                                      cmd.automatic, cmd.now_ms};
      store::append_entry(s, evidence::kAcceptedKind, sub.id, evidence::acceptance_payload(facts), cmd.now_ms);
      events::publish(s, "delivery.accepted", a.id,
                      {{"submission_id", sub.id},
                       {"assignment_id", a.id},
                       {"task_id", a.task_id},
                       {"enterprise_id", a.enterprise_id},
                       {"worker_id", a.worker_id},
                       {"units", a.units},
                       {"amount_fen", a.amount_fen},
                       {"currency", a.currency},
                       {"category", a.category},
                       {"title", a.title},
                       {"automatic", cmd.automatic},
                       {"accepted_at_ms", cmd.now_ms}},
                      trace_id);
      break;
    }
    case Decision::revise:
      events::publish(s, "delivery.revision_requested", a.id,
                      {{"submission_id", sub.id},
                       {"assignment_id", a.id},
                       {"task_id", a.task_id},
                       {"worker_id", a.worker_id},
                       {"round", sub.round},
                       {"reason", reason.value_or("")}},
                      trace_id);
      break;
    case Decision::reject:
      events::publish(s, "delivery.rejected", a.id,
                      {{"submission_id", sub.id},
                       {"assignment_id", a.id},
                       {"task_id", a.task_id},
                       {"enterprise_id", a.enterprise_id},
                       {"worker_id", a.worker_id},
                       {"units", a.units},
                       {"reason", reason.value_or("")}},
                      trace_id);
      break;
  }
  return Decided{std::move(sub), std::move(a)};
}

// Job: accepts due submissions, each in its own transaction so one failure does not hold back the rest.
int DeliveryService::auto_accept_due(std::int64_t now_ms) {
  const auto due =
      db_.with([&](soci::session& s) { return store::due_submissions(s, now_ms, settings_.auto_accept_batch); });
  int accepted = 0;
  for (const auto& id : due) {
    try {
      if (auto_accept_one(id, now_ms)) ++accepted;
    } catch (const http::Problem& p) {
      // The enterprise decided it first (or the state is inconsistent): the conditional update said no.
      log::info("auto-accept skipped", {{"submission_id", id}, {"reason", p.type}});
    } catch (const std::exception& e) {
      log::error("auto-accept failed", {{"submission_id", id}, {"error", e.what()}});
    }
  }
  if (accepted > 0) log::info("auto-accepted", {{"count", accepted}});
  return accepted;
}

bool DeliveryService::auto_accept_one(const std::string& submission_id, std::int64_t now_ms) {
  return retrying_tx(db_, [&](soci::session& s) {
    auto sub = store::find_submission(s, submission_id);
    if (!sub || sub->status != SubmissionStatus::pending_review) return false;
    auto a = store::find_assignment(s, sub->assignment_id);
    if (!a) throw std::logic_error("submission " + submission_id + " without its assignment");
    decide(s, std::move(*sub), std::move(*a), ReviewCommand{Decision::accept, true, now_ms}, kAutoAcceptReason, "");
    crash_point("delivery.auto_accept.before_commit");
    return true;
  });
}

// Job: expires assignments whose worker let the deadline (plus the grace period) pass without a submission
// pending review, each in its own transaction. matching takes the unit back (offered again, or released to
// the enterprise when the task was cancelled).
int DeliveryService::expire_due(std::int64_t now_ms) {
  const auto due = db_.with([&](soci::session& s) {
    return store::expiring_assignments(s, now_ms - settings_.assignment_grace_ms, settings_.expire_batch);
  });
  int expired = 0;
  for (const auto& id : due) {
    try {
      if (expire_one(id, now_ms)) ++expired;
    } catch (const std::exception& e) {
      log::error("assignment expiry failed", {{"assignment_id", id}, {"error", e.what()}});
    }
  }
  if (expired > 0) log::info("assignments expired", {{"count", expired}});
  return expired;
}

// One expiry: status expired and assignment.expired commit together. The conditional move from the status
// just read decides a race with a submission (which moves working → in_review the same way): exactly one
// of them changes the row; the loser sees no change (here: nothing published; there: 409).
bool DeliveryService::expire_one(const std::string& assignment_id, std::int64_t now_ms) {
  return retrying_tx(db_, [&](soci::session& s) {
    const auto a = store::find_assignment(s, assignment_id);
    if (!a || !expires(a->status, a->deadline_ms, settings_.assignment_grace_ms, now_ms)) return false;
    if (!store::move_assignment(s, a->id, a->status, AssignmentStatus::expired, a->revision_round, now_ms)) {
      return false;
    }
    events::publish(s, "assignment.expired", a->id,
                    {{"assignment_id", a->id},
                     {"task_id", a->task_id},
                     {"enterprise_id", a->enterprise_id},
                     {"worker_id", a->worker_id},
                     {"units", a->units},
                     {"reason", "deadline_passed"},
                     {"expired_at_ms", now_ms}});
    crash_point("delivery.expire.before_commit");
    return true;
  });
}

long long DeliveryService::purge_idempotency_keys(std::int64_t now_ms) {
  return idempotency::purge(db_, now_ms, settings_.idempotency_ttl_ms);
}

}  // namespace crowd::delivery
