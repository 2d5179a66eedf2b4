#include "services/delivery/jobs.hpp"

#include <chrono>
#include <stdexcept>

#include "common/clock.hpp"
#include "common/crash.hpp"
#include "common/events.hpp"
#include "common/log.hpp"
#include "common/service.hpp"
#include "services/delivery/review.hpp"
#include "services/delivery/writes.hpp"

namespace crowd::delivery {

namespace {

constexpr const char* kAutoAcceptReason = "review window ended";

bool auto_accept_one(db::Database& db, const Settings& settings, const std::string& submission_id,
                     std::int64_t now_ms) {
  return retrying_tx(db, [&](soci::session& s) {
    auto sub = store::find_submission(s, submission_id);
    if (!sub || sub->status != SubmissionStatus::pending_review) return false;
    auto a = store::find_assignment(s, sub->assignment_id);
    if (!a) throw std::logic_error("submission " + submission_id + " without its assignment");
    decide(s, settings, std::move(*sub), std::move(*a), ReviewCommand{Decision::accept, true, now_ms},
           kAutoAcceptReason, "");
    crash_point("delivery.auto_accept.before_commit");
    return true;
  });
}

// One expiry: status expired and assignment.expired commit together. The conditional move from the status
// just read decides a race with a submission (which moves working → in_review the same way): exactly one
// of them changes the row; the loser sees no change (here: nothing published; there: 409).
bool expire_one(db::Database& db, const Settings& settings, const std::string& assignment_id, std::int64_t now_ms) {
  return retrying_tx(db, [&](soci::session& s) {
    const auto a = store::find_assignment(s, assignment_id);
    if (!a || !expires(a->status, a->deadline_ms, settings.assignment_grace_ms, now_ms)) return false;
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

}  // namespace

void add_jobs(Service& svc, const Settings& settings) {
  // One second keeps acceptance at most about a second late; a run handles one batch, the next run the rest.
  svc.every("auto-accept", std::chrono::seconds(1),
            [&svc, &settings] { auto_accept_due(svc.db(), settings, clock::now_ms()); });
  // Same cadence: an abandoned assignment's unit (and escrow) comes back about a second after its grace.
  svc.every("expire-assignments", std::chrono::seconds(1),
            [&svc, &settings] { expire_due(svc.db(), settings, clock::now_ms()); });
}

// Job: accepts due submissions, each in its own transaction so one failure does not hold back the rest.
int auto_accept_due(db::Database& db, const Settings& settings, std::int64_t now_ms) {
  const auto due =
      db.with([&](soci::session& s) { return store::due_submissions(s, now_ms, settings.auto_accept_batch); });
  int accepted = 0;
  for (const auto& id : due) {
    try {
      if (auto_accept_one(db, settings, id, now_ms)) ++accepted;
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

// Job: expires assignments whose worker let the deadline (plus the grace period) pass without a submission
// pending review, each in its own transaction. matching takes the unit back (offered again, or released to
// the enterprise when the task was cancelled).
int expire_due(db::Database& db, const Settings& settings, std::int64_t now_ms) {
  const auto due = db.with([&](soci::session& s) {
    return store::expiring_assignments(s, now_ms - settings.assignment_grace_ms, settings.expire_batch);
  });
  int expired = 0;
  for (const auto& id : due) {
    try {
      if (expire_one(db, settings, id, now_ms)) ++expired;
    } catch (const std::exception& e) {
      log::error("assignment expiry failed", {{"assignment_id", id}, {"error", e.what()}});
    }
  }
  if (expired > 0) log::info("assignments expired", {{"count", expired}});
  return expired;
}

}  // namespace crowd::delivery
