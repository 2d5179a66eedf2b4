// SQL of the tasks service (schemas/sql/tasks/001_init.sql). Every function runs on the caller's session,
// inside the caller's transaction when it writes.
#pragma once

#include <soci/soci.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "services/tasks/lifecycle.hpp"
#include "services/tasks/task.hpp"

namespace crowd::tasks::store {

void insert(soci::session& s, const Task& t);
std::optional<Task> find(soci::session& s, const std::string& id);

// Writes the lifecycle columns (status, counters, escrow and funding fields) of t when the stored version
// is still t.version, and bumps the version (in t too). False when another writer updated the row first:
// the caller retries from a fresh read or fails.
bool update(soci::session& s, Task& t, std::int64_t now_ms);

// Applies a lifecycle Step to t and publishes its events, all in the caller's transaction. Writes the row
// only when something changed (fields_changed: a column outside Progress was set by the caller).
// False on a concurrent update (nothing written or published).
bool apply(soci::session& s, Task& t, const Step& step, bool fields_changed, std::int64_t now_ms,
           const std::string& trace_id);

struct ListQuery {
  std::optional<std::string> enterprise_id;
  std::optional<std::string> status;
  std::optional<std::string> category;
  std::string before_id = "~";  // ids sort below "~": the first page
  int limit = 20;
};
// Newest first (ids are time-ordered), ids strictly below before_id.
std::vector<Task> list(soci::session& s, const ListQuery& q);

// The assignments a task counts (task_assignments). An assignment is active from its first sighting
// (assignment.created, or a settlement.completed that overtook it) until it ends, once: settled
// (settlement.completed: settlement_id, settled_at_ms) or ended without acceptance (delivery.rejected,
// assignment.expired, or matching's task.units_released "asg:{id}": ended_by, ended_at_ms). Each update
// requires both ends unset, so each assignment ends once whatever the order of arrival.

// Records an assignment once: true when it is new (its units are to be counted), false when known.
bool insert_assignment(soci::session& s, const std::string& assignment_id, const std::string& task_id,
                       const std::string& worker_id, std::int64_t units, std::int64_t now_ms);
// Marks an assignment settled once: its units when this call settled it, nullopt when it was settled
// already (or is unknown).
std::optional<std::int64_t> settle_assignment(soci::session& s, const std::string& assignment_id,
                                              const std::string& settlement_id, std::int64_t now_ms);
struct EndedAssignment {
  std::string assignment_id;
  std::string task_id;
  std::string worker_id;  // "" when unknown (a release of matching names no worker)
  std::int64_t units = 1;
  std::string why;  // "delivery.rejected", "assignment.expired", "task.units_released"
};
struct AssignmentEnd {
  enum class Kind {
    ended_active,    // it was counted and active: its units leave the count now
    recorded_first,  // first heard of by its end: recorded as ended, so a late assignment.created is a no-op
    over_already,    // settled or ended before: nothing to do
  };
  Kind kind;
  std::int64_t units;  // the assignment's units (ended_active, recorded_first)
};
// Ends an assignment without acceptance, once.
AssignmentEnd end_assignment(soci::session& s, const EndedAssignment& a, std::int64_t now_ms);
bool worker_assigned(soci::session& s, const std::string& task_id, const std::string& worker_id);

}  // namespace crowd::tasks::store
