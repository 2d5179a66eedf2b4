#include "services/tasks/consumers.hpp"

#include <stdexcept>
#include <string>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "services/tasks/lifecycle.hpp"
#include "services/tasks/store.hpp"

namespace crowd::tasks {

namespace {

std::string str_of(const events::Event& e, const char* name) {
  return e.data.at(name).get<std::string>();
}
std::int64_t int_of(const events::Event& e, const char* name) {
  return e.data.at(name).get<std::int64_t>();
}

// The task an event is about. An unknown task is not ours (or not yet migrated data): logged and skipped
// rather than retried forever.
std::optional<Task> task_of(soci::session& s, const events::Event& e) {
  const std::string id = str_of(e, "task_id");
  std::optional<Task> t = store::find(s, id);
  if (!t) log::warn("event for an unknown task ignored", {{"event_id", e.id}, {"type", e.type}, {"task_id", id}});
  return t;
}

// Persists the step and publishes its events. A concurrent writer (the cancel endpoint on PostgreSQL)
// makes this throw: the whole event rolls back and is retried from a fresh read.
void commit(soci::session& s, Task& t, const Step& step, bool fields_changed, const events::Event& e) {
  if (!step.warning.empty()) {
    log::warn(step.warning,
              {{"event_id", e.id}, {"type", e.type}, {"task_id", t.id}, {"status", status_name(t.progress.status)}});
  }
  if (!store::apply(s, t, step, fields_changed, clock::now_ms(), e.trace_id)) {
    throw std::runtime_error("tasks: task " + t.id + " changed concurrently; the event will be retried");
  }
}

}  // namespace

// settlement escrow.held {task_id, enterprise_id, amount_fen, transfer_id}: opens a pending_funding task and
// publishes task.opened. Duplicates are no-ops (status is no longer pending_funding). For a task cancelled
// meanwhile: stays cancelled, task.cancelled is published again (see lifecycle.hpp). A held amount other
// than the budget breaks the "no open task without its money" rule: thrown, so it ends dead-lettered.
void on_escrow_held_event(soci::session& s, const events::Event& e) {
  std::optional<Task> t = task_of(s, e);
  if (!t) return;
  const std::int64_t amount = int_of(e, "amount_fen");
  if (t->progress.status == Status::pending_funding && amount != t->spec.budget_fen) {
    throw events::Refusal("tasks: escrow.held amount differs from the budget of " + t->id);
  }
  const Step step = on_escrow_held(t->progress);
  bool fields_changed = false;
  if (!t->escrow_transfer_id) {
    t->escrow_transfer_id = str_of(e, "transfer_id");
    fields_changed = true;
  }
  commit(s, *t, step, fields_changed, e);
}

// settlement escrow.rejected {task_id, enterprise_id, amount_fen, reason}: pending_funding → funding_failed,
// publishes task.funding_failed with the reason. Any other status: no-op.
void on_escrow_rejected_event(soci::session& s, const events::Event& e) {
  std::optional<Task> t = task_of(s, e);
  if (!t) return;
  const Step step = on_escrow_rejected(t->progress);
  const bool failing = step.next.status == Status::funding_failed && t->progress.status != Status::funding_failed;
  if (failing) t->funding_failure_reason = e.data.value("reason", std::string("unknown"));
  commit(s, *t, step, failing, e);
}

// matching assignment.created {assignment_id, task_id, worker_id, units, ...}: units_assigned += units,
// open → in_progress. Keyed by assignment_id (also recorded when settlement.completed came first).
void on_assignment_created_event(soci::session& s, const events::Event& e) {
  std::optional<Task> t = task_of(s, e);
  if (!t) return;
  const std::int64_t units = int_of(e, "units");
  if (units <= 0) throw events::Refusal("tasks: assignment.created with non-positive units");
  if (!store::insert_assignment(s, str_of(e, "assignment_id"), t->id, str_of(e, "worker_id"), units, clock::now_ms())) {
    return;  // known already
  }
  commit(s, *t, on_assigned(t->progress, units), false, e);
}

// matching task.units_released {task_id, enterprise_id, release_id, units_released, units_assigned,
// units_total}: every release recomputes, from cancelling or in_progress (lifecycle.hpp): units_total :=
// max(units_assigned, units_completed) capped by the current total; none → cancelled (task.cancelled with
// released_by_matching, once: a cancelled task ignores later releases); otherwise in_progress, or completed
// when every remaining unit is already settled (task.completed). The release_id is settlement's concern.
void on_units_released_event(soci::session& s, const events::Event& e) {
  std::optional<Task> t = task_of(s, e);
  if (!t) return;
  const std::int64_t assigned = int_of(e, "units_assigned");
  if (assigned < 0) throw events::Refusal("tasks: task.units_released with negative units_assigned");
  commit(s, *t, on_units_released(t->progress, assigned), false, e);
}

// settlement settlement.completed {settlement_id, assignment_id, task_id, worker_id, units, ...}:
// units_completed += the assignment's units, once per assignment; when units_completed reaches units_total
// → completed (task.completed). If settlement's stream overtook matching's, the assignment is counted
// here first (and assignment.created later finds it known).
void on_settlement_completed_event(soci::session& s, const events::Event& e) {
  std::optional<Task> t = task_of(s, e);
  if (!t) return;
  const std::string assignment_id = str_of(e, "assignment_id");
  const std::int64_t units = int_of(e, "units");
  if (units <= 0) throw events::Refusal("tasks: settlement.completed with non-positive units");
  const std::int64_t now = clock::now_ms();
  Step step{t->progress, {}, 0, {}, false};
  if (store::insert_assignment(s, assignment_id, t->id, str_of(e, "worker_id"), units, now)) {
    step = on_assigned(t->progress, units);
  }
  if (auto settled = store::settle_assignment(s, assignment_id, str_of(e, "settlement_id"), now)) {
    Step after = on_settled(step.next, *settled);
    after.emit.insert(after.emit.begin(), step.emit.begin(), step.emit.end());
    if (after.warning.empty()) after.warning = step.warning;
    step = std::move(after);
  }
  commit(s, *t, step, false, e);
}

void register_consumers(events::Subscriptions& subs) {
  subs.on("settlement", "escrow.held", on_escrow_held_event);
  subs.on("settlement", "escrow.rejected", on_escrow_rejected_event);
  subs.on("settlement", "settlement.completed", on_settlement_completed_event);
  subs.on("matching", "assignment.created", on_assignment_created_event);
  subs.on("matching", "task.units_released", on_units_released_event);
}

}  // namespace crowd::tasks
