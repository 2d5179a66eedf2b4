// Rows of the delivery database and the SQL that reads and writes them. Every function takes the caller's
// session, so the caller decides the transaction; nothing here commits. Conditional updates return whether
// they changed a row: that answer (not an earlier read) decides races between writers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/delivery/delivery_rules.hpp"
#include "services/delivery/evidence.hpp"

namespace soci {
class session;
}

namespace crowd::delivery::store {

struct Assignment {
  std::string id;
  std::string offer_id;
  std::string task_id;
  std::string enterprise_id;
  std::string worker_id;
  std::int64_t units = 0;
  std::int64_t pay_per_unit_fen = 0;
  std::int64_t amount_fen = 0;
  std::string currency;
  std::string category;
  std::string title;
  std::int64_t review_window_s = 0;
  std::int64_t deadline_ms = 0;
  AssignmentStatus status = AssignmentStatus::working;
  int revision_round = 0;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
};

struct Review {
  Decision decision = Decision::accept;
  std::optional<std::string> reason;
  bool automatic = false;
  std::int64_t reviewed_at_ms = 0;
};

struct Submission {
  std::string id;
  std::string assignment_id;
  std::string task_id;
  std::string enterprise_id;
  std::string worker_id;
  int round = 1;
  SubmissionStatus status = SubmissionStatus::pending_review;
  std::string content_sha256;
  std::int64_t size_bytes = 0;
  std::string media_type;
  std::string storage_ref;
  std::optional<std::string> note;
  std::int64_t submitted_at_ms = 0;
  std::int64_t review_deadline_ms = 0;
  std::string evidence_hash;
  std::optional<Review> review;  // set once decided
};

// ---- assignments ----

// Inserts unless the id exists already (a replayed event). Returns whether a row was inserted.
bool insert_assignment(soci::session& s, const Assignment& a);
std::optional<Assignment> find_assignment(soci::session& s, const std::string& id);
// Ids of assignments that take a submission (working, revision_requested) whose deadline is at or before
// cutoff_ms (= now − grace), earliest deadline first.
std::vector<std::string> expiring_assignments(soci::session& s, std::int64_t cutoff_ms, int limit);
// Moves the assignment from `from` to `to` (and sets revision_round) only if it is still in `from`.
bool move_assignment(soci::session& s, const std::string& id, AssignmentStatus from, AssignmentStatus to,
                     int revision_round, std::int64_t now_ms);

// ---- submissions ----

void insert_submission(soci::session& s, const Submission& sub);
std::optional<Submission> find_submission(soci::session& s, const std::string& id);
std::vector<Submission> submissions_of_assignment(soci::session& s, const std::string& assignment_id);

struct ListFilter {
  std::optional<std::string> enterprise_id;  // required for enterprises; none for operators
  std::optional<std::string> task_id;
  std::optional<SubmissionStatus> status;
  std::string cursor;  // exclusive: submissions older than this id ("" = from the newest)
  int limit = 20;
};
// Newest first. Returns up to limit + 1 rows so the caller knows whether another page exists.
std::vector<Submission> list_submissions(soci::session& s, const ListFilter& f);

// Records the decision on a submission still pending_review. Returns false when another writer decided
// it first (the loser of a race gets 409 from its caller).
bool decide_submission(soci::session& s, const std::string& id, SubmissionStatus to, const Review& review);

// Ids of pending submissions whose review window ended at now_ms, oldest deadline first.
std::vector<std::string> due_submissions(soci::session& s, std::int64_t now_ms, int limit);

// ---- evidence log ----

std::optional<evidence::Entry> last_entry(soci::session& s);
// Inserts at e.seq; a concurrent append at the same seq fails with a unique violation (retry the tx).
void insert_entry(soci::session& s, const evidence::Entry& e);
// Appends the next entry after the current head: locks the chain (evidence_head row), then last_entry +
// next_entry + insert_entry. Concurrent appenders queue on the lock until the earlier one commits.
evidence::Entry append_entry(soci::session& s, std::string_view kind, const std::string& submission_id,
                             const nlohmann::json& payload, std::int64_t now_ms);
std::vector<evidence::Entry> entries_of_submission(soci::session& s, const std::string& submission_id);
// Recomputes the chain from seq 1 through `through_seq`, streaming rows.
evidence::ChainVerifier verify_chain(soci::session& s, std::int64_t through_seq);

}  // namespace crowd::delivery::store
