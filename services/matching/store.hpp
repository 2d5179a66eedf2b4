// Matching's SQL: one function per statement or small read, on a session the caller owns (inside its
// transaction). No decisions here: rules.hpp and ranking.hpp decide, these functions read and write.
// Same SQL on SQLite and PostgreSQL (schemas/sql/README.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "services/matching/ranking.hpp"
#include "services/matching/rules.hpp"

namespace soci {
class session;
}

namespace crowd::matching::store {

// ---- workers ----
struct WorkerRow {
  WorkerProfile profile;
  std::int64_t updated_at_ms = 0;
};
// worker.registered: inserts, or refreshes the profile fields of a known worker (never online/load).
void upsert_worker(soci::session& s, const WorkerProfile& w, std::int64_t now_ms);
std::optional<WorkerRow> find_worker(soci::session& s, const std::string& worker_id);
// place: nullopt keeps the reported place; a value of nullopt inside clears it (home is used again).
void set_availability(soci::session& s, const std::string& worker_id, bool online,
                      const std::optional<std::optional<GeoPoint>>& place, std::int64_t now_ms);
// Online, verified workers without a non-withdrawn offer of the task, inside the box when given.
std::vector<WorkerProfile> candidate_workers(soci::session& s, const std::string& task_id,
                                             const std::optional<BoxE6>& box);
void add_load(soci::session& s, const std::string& worker_id, int delta);

// ---- tasks ----
struct TaskRow {
  TaskProfile profile;
  std::string enterprise_id;
  std::string category;
  std::string mode;
  std::string title;
  std::int64_t units_total = 0;
  std::int64_t units_assigned = 0;
  std::int64_t pay_per_unit_fen = 0;
  std::string currency = "CNY";
  std::int64_t deadline_ms = 0;
  std::int64_t review_window_s = 0;
  bool is_open = false;
  bool opened = false;  // false: placeholder made by an early cancel request
  std::optional<std::int64_t> units_released_at_ms;
  std::optional<std::int64_t> cancel_units_released;  // what the first answer to a cancel request released

  std::int64_t units_free() const { return units_total - units_assigned; }
};
// Returns false when the task was already known (a placeholder is filled in by fill_placeholder_task).
bool insert_task(soci::session& s, const TaskRow& t, std::int64_t now_ms);
void fill_placeholder_task(soci::session& s, const TaskRow& t, std::int64_t now_ms);
// A closed placeholder for a cancel request that came before task.opened. False when the task exists.
bool insert_placeholder_task(soci::session& s, const std::string& task_id, const std::string& enterprise_id,
                             std::int64_t now_ms);
std::optional<TaskRow> find_task(soci::session& s, const std::string& task_id);
// Writes the task row (PostgreSQL takes its row lock; SQLite already holds the database write lock) so
// every writer of one task queues in the same order: task, then offers, then worker, then assignments.
// Also sets match_after_ms when given. False when the task does not exist.
bool lock_task(soci::session& s, const std::string& task_id, std::optional<std::int64_t> match_after_ms = {});
// The one statement that hands out a unit: true when it took one (affected rows = 1).
bool claim_unit(soci::session& s, const std::string& task_id);
// Gives units back (delivery rejected, assignment expired). False when that would go below zero.
bool release_units(soci::session& s, const std::string& task_id, std::int64_t units);
// open → closed; false when it was not open.
bool close_task(soci::session& s, const std::string& task_id, std::int64_t now_ms);
// Records the first answer to a cancel request (its time and units_released); false when one already was,
// so the figure of the first answer is the one every repeat carries.
bool mark_units_released(soci::session& s, const std::string& task_id, std::int64_t units_released,
                         std::int64_t now_ms);
// Open tasks with free units, deadline ahead, no pending offer and match_after_ms reached.
std::vector<std::string> tasks_needing_offers(soci::session& s, std::int64_t now_ms, int limit);
// Every open task the worker may fit, whatever its age (no LIMIT: the caller ranks them all): opened, free
// units, deadline ahead, no non-withdrawn offer of it to this worker (so none they hold, declined, let
// expire or took), and what SQL can check of evaluate(): no required skill or at least one the worker has,
// and for a task with a place and a radius a worker place inside the radius' latitude/longitude box.
// evaluate() decides exactly.
std::vector<TaskRow> open_tasks_for_worker(soci::session& s, const WorkerProfile& worker, std::int64_t now_ms);

// ---- offers ----
struct OfferRow {
  std::string id;
  std::string task_id;
  std::string worker_id;
  OfferStatus status = OfferStatus::pending;
  std::int64_t score = 0;
  std::optional<std::int64_t> distance_m;
  std::int64_t created_at_ms = 0;
  std::int64_t expires_at_ms = 0;
  std::optional<std::int64_t> decided_at_ms;
  std::optional<std::string> assignment_id;
};
// False when the worker already holds a non-withdrawn offer of the task (a concurrent round).
bool insert_offer(soci::session& s, const OfferRow& o);
std::optional<OfferRow> find_offer(soci::session& s, const std::string& offer_id);
std::int64_t count_live_offers(soci::session& s, const std::string& task_id, std::int64_t now_ms);
// pending → to, only while pending; false otherwise.
bool decide_offer(soci::session& s, const std::string& offer_id, OfferStatus to, std::int64_t now_ms,
                  const std::optional<std::string>& assignment_id = {});
std::int64_t withdraw_pending_offers(soci::session& s, const std::string& task_id, std::int64_t now_ms);
std::int64_t expire_offers(soci::session& s, std::int64_t now_ms);

// An offer with the task summary a worker sees.
struct OfferView {
  OfferRow offer;
  TaskRow task;
};
std::vector<OfferView> live_offers_of_worker(soci::session& s, const std::string& worker_id, std::int64_t now_ms,
                                             const std::string& after_id, int limit);

// ---- assignments ----
struct AssignmentRow {
  std::string id;
  std::string offer_id;
  std::string task_id;
  std::string enterprise_id;
  std::string worker_id;
  std::int64_t units = 1;
  std::int64_t pay_per_unit_fen = 0;
  std::int64_t amount_fen = 0;
  std::string currency = "CNY";
  AssignmentStatus status = AssignmentStatus::active;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
  // From the task, for the worker's view.
  std::string title;
  std::string category;
  std::int64_t deadline_ms = 0;
  std::int64_t review_window_s = 0;
};
void insert_assignment(soci::session& s, const AssignmentRow& a);
std::optional<AssignmentRow> find_assignment(soci::session& s, const std::string& assignment_id);
std::optional<AssignmentRow> find_assignment_by_offer(soci::session& s, const std::string& offer_id);
// from → to, only while in `from`; false otherwise.
bool move_assignment(soci::session& s, const std::string& assignment_id, AssignmentStatus from, AssignmentStatus to,
                     std::int64_t now_ms);
std::vector<AssignmentRow> assignments_of_worker(soci::session& s, const std::string& worker_id,
                                                 const std::string& after_id, int limit);

}  // namespace crowd::matching::store
