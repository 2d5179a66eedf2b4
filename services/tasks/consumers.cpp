#include "services/tasks/consumers.hpp"

#include <limits>
#include <stdexcept>
#include <string>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "services/tasks/lifecycle.hpp"
#include "services/tasks/store.hpp"

namespace crowd::tasks {

namespace {

constexpr std::int64_t kUnitsMax = 1'000'000;
constexpr std::int64_t kFenMax = std::numeric_limits<std::int64_t>::max();
// The release matching names after an assignment whose unit came back to a closed task.
constexpr std::string_view kAssignmentReleasePrefix = "asg:";

// The task an event is about. An unknown task is not ours (or not yet migrated data): logged and skipped
// rather than retried forever.
std::optional<Task> task_of(soci::session& s, const events::Event& e, const std::string& id) {
  std::optional<Task> t = store::find(s, id);
  if (!t) log::warn("event for an unknown task ignored", {{"event_id", e.id}, {"type", e.type}, {"task_id", id}});
  return t;
}

// Persists the step and publishes its events. A concurrent writer (the cancel endpoint on PostgreSQL)
// makes this throw: the whole event rolls back and is retried from a fresh read.
void commit(soci::session& s, Task& t, const Step& step, bool fields_changed, const events::Event& e,
            std::int64_t now_ms) {
  if (!step.warning.empty()) {
    log::warn(step.warning,
              {{"event_id", e.id}, {"type", e.type}, {"task_id", t.id}, {"status", status_name(t.progress.status)}});
  }
  if (!store::apply(s, t, step, fields_changed, now_ms, e.trace_id)) {
    throw std::runtime_error("tasks: task " + t.id + " changed concurrently; the event will be retried");
  }
}

}  // namespace

// settlement escrow.held {task_id, enterprise_id, amount_fen, transfer_id}: opens a pending_funding task and
// publishes task.opened. Duplicates are no-ops (status is no longer pending_funding). For a task cancelled
// meanwhile: stays cancelled, task.cancelled is published again (see lifecycle.hpp). A held amount other
// than the budget breaks the "no open task without its money" rule: refused, so it ends dead-lettered.
void on_escrow_held_event(soci::session& s, const events::Event& e, std::int64_t now_ms) {
  events::Fields f(e);
  const std::string task_id = f.id("task_id");
  const std::int64_t amount = f.i64("amount_fen", 0, kFenMax);
  const std::string transfer_id = f.str("transfer_id", 1, 200);
  f.done();
  std::optional<Task> t = task_of(s, e, task_id);
  if (!t) return;
  if (t->progress.status == Status::pending_funding && amount != t->spec.budget_fen) {
    throw events::Refusal("tasks: escrow.held amount differs from the budget of " + t->id);
  }
  const Step step = on_escrow_held(t->progress);
  bool fields_changed = false;
  if (!t->escrow_transfer_id) {
    t->escrow_transfer_id = transfer_id;
    fields_changed = true;
  }
  commit(s, *t, step, fields_changed, e, now_ms);
}

// settlement escrow.rejected {task_id, enterprise_id, amount_fen, reason}: pending_funding → funding_failed,
// publishes task.funding_failed with the reason ("unknown" when absent). Any other status: no-op.
void on_escrow_rejected_event(soci::session& s, const events::Event& e, std::int64_t now_ms) {
  events::Fields f(e);
  const std::string task_id = f.id("task_id");
  const std::string reason = f.opt_str("reason", 200).value_or("unknown");
  f.done();
  std::optional<Task> t = task_of(s, e, task_id);
  if (!t) return;
  const Step step = on_escrow_rejected(t->progress);
  const bool failing = step.next.status == Status::funding_failed && t->progress.status != Status::funding_failed;
  if (failing) t->funding_failure_reason = reason;
  commit(s, *t, step, failing, e, now_ms);
}

// matching assignment.created {assignment_id, task_id, worker_id, units, ...}: units_assigned += units,
// open → in_progress. Keyed by assignment_id (also recorded when settlement.completed, delivery.rejected or
// assignment.expired came first: then it is known, and not counted again).
void on_assignment_created_event(soci::session& s, const events::Event& e, std::int64_t now_ms) {
  events::Fields f(e);
  const std::string task_id = f.id("task_id");
  const std::string assignment_id = f.id("assignment_id");
  const std::string worker_id = f.id("worker_id");
  const std::int64_t units = f.i64("units", 1, kUnitsMax);
  f.done();
  std::optional<Task> t = task_of(s, e, task_id);
  if (!t) return;
  if (!store::insert_assignment(s, assignment_id, t->id, worker_id, units, now_ms)) return;  // known already
  commit(s, *t, on_assigned(t->progress, units), false, e, now_ms);
}

// matching task.units_released {task_id, enterprise_id, release_id, units_released, units_assigned,
// units_total}: every release recomputes, from cancelling or in_progress (lifecycle.hpp): units_total :=
// max(units_assigned, units_completed) capped by the current total; none → cancelled (task.cancelled with
// released_by_matching, once: a cancelled task ignores later releases); otherwise in_progress, or completed
// when every remaining unit is already settled (task.completed). A release "asg:{assignment_id}" also ends
// that assignment here, so its delivery.rejected / assignment.expired arriving later does not take its units
// off the count a second time (matching's figure already left them out).
void on_units_released_event(soci::session& s, const events::Event& e, std::int64_t now_ms) {
  events::Fields f(e);
  const std::string task_id = f.id("task_id");
  const std::int64_t assigned = f.i64("units_assigned", 0, kUnitsMax);
  const std::optional<std::string> release_id = f.opt_str("release_id", 200);
  const std::optional<std::int64_t> released = f.opt_i64("units_released", 0, kUnitsMax);
  f.done();
  std::optional<Task> t = task_of(s, e, task_id);
  if (!t) return;
  if (release_id && release_id->starts_with(kAssignmentReleasePrefix) && released.value_or(0) > 0) {
    store::end_assignment(
        s, {release_id->substr(kAssignmentReleasePrefix.size()), t->id, "", *released, "task.units_released"}, now_ms);
  }
  commit(s, *t, on_units_released(t->progress, assigned), false, e, now_ms);
}

// settlement settlement.completed {settlement_id, assignment_id, task_id, worker_id, units, ...}:
// units_completed += the assignment's units, once per assignment; when units_completed reaches units_total
// → completed (task.completed). If settlement's stream overtook matching's, the assignment is counted
// here first (and assignment.created later finds it known). An assignment that ended unaccepted is not
// settled (settlement refuses that; logged if it ever comes).
void on_settlement_completed_event(soci::session& s, const events::Event& e, std::int64_t now_ms) {
  events::Fields f(e);
  const std::string task_id = f.id("task_id");
  const std::string assignment_id = f.id("assignment_id");
  const std::string settlement_id = f.id("settlement_id");
  const std::string worker_id = f.id("worker_id");
  const std::int64_t units = f.i64("units", 1, kUnitsMax);
  f.done();
  std::optional<Task> t = task_of(s, e, task_id);
  if (!t) return;
  Step step{t->progress, {}, 0, {}, false};
  if (store::insert_assignment(s, assignment_id, t->id, worker_id, units, now_ms)) {
    step = on_assigned(t->progress, units);
  }
  if (auto settled = store::settle_assignment(s, assignment_id, settlement_id, now_ms)) {
    Step after = on_settled(step.next, *settled);
    after.emit.insert(after.emit.begin(), step.emit.begin(), step.emit.end());
    if (after.warning.empty()) after.warning = step.warning;
    step = std::move(after);
  }
  commit(s, *t, step, false, e, now_ms);
}

// delivery delivery.rejected {submission_id, assignment_id, task_id, enterprise_id, worker_id, units, reason}
// and assignment.expired {assignment_id, task_id, enterprise_id, worker_id, units, reason, expired_at_ms}:
// the assignment ended without acceptance, once per assignment id. Counted and active → its units leave
// units_assigned and the task may go back to open (lifecycle.hpp on_assignment_ended); first heard of here
// (delivery's stream overtook matching's) → recorded as ended, so its assignment.created is a no-op;
// settled, or ended before (a repeat, or matching's release "asg:{id}" came first) → no-op.
void on_assignment_ended_event(soci::session& s, const events::Event& e, std::int64_t now_ms) {
  events::Fields f(e);
  store::EndedAssignment a;
  a.task_id = f.id("task_id");
  a.assignment_id = f.id("assignment_id");
  a.worker_id = f.id("worker_id");
  a.units = f.i64("units", 1, kUnitsMax);
  a.why = e.type;
  f.done();
  std::optional<Task> t = task_of(s, e, a.task_id);
  if (!t) return;
  const store::AssignmentEnd end = store::end_assignment(s, a, now_ms);
  if (end.kind != store::AssignmentEnd::Kind::ended_active) return;
  commit(s, *t, on_assignment_ended(t->progress, end.units, t->spec.units, t->spec.deadline_ms, now_ms), false, e,
         now_ms);
}

void add_consumers(events::Subscriptions& subs) {
  auto at_now = [](void (*fn)(soci::session&, const events::Event&, std::int64_t)) {
    return [fn](soci::session& s, const events::Event& e) { fn(s, e, clock::now_ms()); };
  };
  subs.on("settlement", "escrow.held", at_now(on_escrow_held_event));
  subs.on("settlement", "escrow.rejected", at_now(on_escrow_rejected_event));
  subs.on("settlement", "settlement.completed", at_now(on_settlement_completed_event));
  subs.on("matching", "assignment.created", at_now(on_assignment_created_event));
  subs.on("matching", "task.units_released", at_now(on_units_released_event));
  subs.on("delivery", "delivery.rejected", at_now(on_assignment_ended_event));
  subs.on("delivery", "assignment.expired", at_now(on_assignment_ended_event));
}

}  // namespace crowd::tasks
