// The task lifecycle as pure functions: the table of allowed status moves, and how the task reacts to each
// command and event. Each reaction takes the current Progress and returns the next one plus the events to
// publish; the caller (api.cpp, consumers.cpp) persists and publishes. Reactions are total: an event that
// arrives late, twice or out of order across streams yields a no-op Step (with a warning when it hints at a
// bug elsewhere), never an exception. A move outside the table is a programmer error (std::logic_error).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "services/tasks/task.hpp"

namespace crowd::tasks {

struct Transition {
  Status from;
  Status to;
};

// Every allowed move; anything else is refused.
const std::vector<Transition>& transition_table();
bool can_transition(Status from, Status to);

// Workers may read (and list) tasks in these statuses; other statuses are visible to them only through
// an assignment of theirs.
bool open_to_workers(Status s);

// Events the tasks service publishes (schemas/events/CATALOGUE.md).
enum class Emit { created, opened, funding_failed, cancel_requested, cancelled, completed };
std::string emit_type(Emit e);  // "task.opened", ...

struct Step {
  Progress next;
  std::vector<Emit> emit;
  std::int64_t units_released = 0;  // for Emit::cancelled: units that will never be worked
  std::string warning;              // non-empty: worth a log line (a late or inconsistent event)
  // For Emit::cancelled: the task opened, so matching's task.units_released events returned its escrow
  // and settlement must not release on task.cancelled (it releases only for a task that never opened).
  bool released_by_matching = false;
};

// settlement escrow.held: pending_funding → open. For a task already cancelled the money is held for
// nothing: the task stays cancelled and task.cancelled is published again, so settlement (which keys
// releases by task id) sees a cancel after its hold whatever order it processed them in.
Step on_escrow_held(const Progress& p);
// settlement escrow.rejected: pending_funding → funding_failed.
Step on_escrow_rejected(const Progress& p);
// matching assignment.created (a new assignment only: the caller dedupes by assignment id).
Step on_assigned(const Progress& p, std::int64_t units);
// settlement settlement.completed (a new settlement only). The caller calls on_assigned first when the
// assignment was never seen (settlement overtook matching's stream).
Step on_settled(const Progress& p, std::int64_t units);
// matching task.units_released: matching closed the task to new accepts and reports units_assigned
// (authoritative) after this release: its answer to a cancel request (every request is answered, a repeat
// too) or a unit that came back after the cancel (rejected, expired). Each one recomputes, from
// cancelling or in_progress alike: units_total = max(units_assigned, units_completed), never above the
// current units_total; 0 → cancelled (task.cancelled once, flagged released_by_matching); all settled →
// completed; else in_progress.
Step on_units_released(const Progress& p, std::int64_t units_assigned_reported);
// delivery delivery.rejected / assignment.expired of an assignment counted here (the caller dedupes by
// assignment id, and calls this only for an assignment that was counted and neither settled nor ended):
// its units leave units_assigned, as if it had never been made. The task goes back to open (visible in
// workers' lists, matching offers the unit again) when nothing of it is assigned any more, only from
// in_progress, while the deadline is ahead (past it nobody can take the unit: matching refuses) and while
// the task still has its posted units (units_total below `posted_units` means a cancel was answered:
// matching keeps the task closed and releases the unit with task.units_released "asg:{id}"). In
// cancelling the units leave the count and matching's answer recomputes it.
Step on_assignment_ended(const Progress& p, std::int64_t units, std::int64_t posted_units, std::int64_t deadline_ms,
                         std::int64_t now_ms);

enum class CancelKind {
  cancelled_now,      // nothing was funded or open to workers: cancelled at once (200)
  requested,          // open or in progress (also after an earlier cancel was answered): cancelling until
                      // matching answers with task.units_released (202)
  already_requested,  // a repeated cancel while cancelling: no change (202)
  refused,            // completed or cancelled: 409
};
struct CancelDecision {
  CancelKind kind;
  Step step;
};
// POST /v1/tasks/{id}/cancel by the owner.
CancelDecision on_cancel(const Progress& p);

}  // namespace crowd::tasks
