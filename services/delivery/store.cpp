#include "services/delivery/store.hpp"

#include <soci/soci.h>

#include <stdexcept>

#include "common/db.hpp"

namespace crowd::delivery::store {

using db::get_str;

namespace {

constexpr const char* kAssignmentCols =
    "assignment_id, offer_id, task_id, enterprise_id, worker_id, units, pay_per_unit_fen, amount_fen, currency, "
    "category, title, review_window_s, deadline_ms, status, revision_round, created_at_ms, updated_at_ms";

constexpr const char* kSubmissionCols =
    "submission_id, assignment_id, task_id, enterprise_id, worker_id, round_no, status, content_sha256, size_bytes, "
    "media_type, storage_ref, note, submitted_at_ms, review_deadline_ms, evidence_hash, decision, reason, automatic, "
    "reviewed_at_ms";

constexpr const char* kEntryCols = "seq, kind, submission_id, payload, prev_hash, hash, recorded_at_ms";

// A stored status the code does not know means the database and the code disagree: stop, do not guess.
template <class E>
E known(std::optional<E> v, const std::string& raw) {
  if (!v) throw std::logic_error("unknown status in the delivery database: " + raw);
  return *v;
}

Assignment assignment_from(const soci::row& row) {
  db::RowReader r(row, db::column_count(kAssignmentCols));
  Assignment a;
  r.fields(a.id, a.offer_id, a.task_id, a.enterprise_id, a.worker_id, a.units, a.pay_per_unit_fen, a.amount_fen,
           a.currency, a.category, a.title, a.review_window_s, a.deadline_ms);
  const auto status = r.str();
  a.status = known(assignment_status_from(status), status);
  r.into(a.revision_round, a.created_at_ms, a.updated_at_ms);
  return a;
}

Submission submission_from(const soci::row& row) {
  db::RowReader r(row, db::column_count(kSubmissionCols));
  Submission sub;
  r.fields(sub.id, sub.assignment_id, sub.task_id, sub.enterprise_id, sub.worker_id, sub.round);
  const auto status = r.str();
  sub.status = known(submission_status_from(status), status);
  r.fields(sub.content_sha256, sub.size_bytes, sub.media_type, sub.storage_ref, sub.note, sub.submitted_at_ms,
           sub.review_deadline_ms, sub.evidence_hash);
  const auto decision = r.opt_str();
  const auto reason = r.opt_str();
  const auto automatic = r.opt_i64();
  const auto reviewed_at = r.opt_i64();
  r.done();
  if (decision) {
    Review rv;
    rv.decision = known(decision_from(*decision), *decision);
    rv.reason = reason;
    rv.automatic = automatic.value_or(0) != 0;
    rv.reviewed_at_ms = reviewed_at.value_or(0);
    sub.review = rv;
  }
  return sub;
}

evidence::Entry entry_from(const soci::row& row) {
  evidence::Entry e;
  db::RowReader(row, db::column_count(kEntryCols))
      .into(e.seq, e.kind, e.submission_id, e.payload, e.prev_hash, e.hash, e.recorded_at_ms);
  return e;
}

long long execute_counting(soci::details::prepare_temp_type prep) {
  soci::statement st(prep);
  st.execute(true);
  return st.get_affected_rows();
}

}  // namespace

// ---- assignments ----

bool insert_assignment(soci::session& s, const Assignment& a) {
  const std::string status(to_string(a.status));
  return execute_counting((s.prepare << "INSERT INTO assignments (" << kAssignmentCols
                                     << ") VALUES (:id, :offer, :task, :ent, :wkr, :units, :ppu, :amount, :cur, "
                                        ":cat, :title, :window, :deadline, :status, :round, :created, :updated) "
                                        "ON CONFLICT (assignment_id) DO NOTHING",
                           soci::use(a.id), soci::use(a.offer_id), soci::use(a.task_id), soci::use(a.enterprise_id),
                           soci::use(a.worker_id), soci::use(a.units), soci::use(a.pay_per_unit_fen),
                           soci::use(a.amount_fen), soci::use(a.currency), soci::use(a.category), soci::use(a.title),
                           soci::use(a.review_window_s), soci::use(a.deadline_ms), soci::use(status),
                           soci::use(a.revision_round), soci::use(a.created_at_ms), soci::use(a.updated_at_ms))) > 0;
}

std::optional<Assignment> find_assignment(soci::session& s, const std::string& id) {
  soci::rowset<soci::row> rows =
      (s.prepare << "SELECT " << kAssignmentCols << " FROM assignments WHERE assignment_id = :id", soci::use(id));
  for (const auto& r : rows) return assignment_from(r);
  return std::nullopt;
}

std::vector<std::string> expiring_assignments(soci::session& s, std::int64_t cutoff_ms, int limit) {
  std::vector<std::string> out;
  soci::rowset<soci::row> rows = (s.prepare << "SELECT assignment_id FROM assignments WHERE status IN ('working', "
                                               "'revision_requested') AND deadline_ms <= :cutoff "
                                               "ORDER BY deadline_ms, assignment_id LIMIT :limit",
                                  soci::use(cutoff_ms), soci::use(limit));
  for (const auto& r : rows) out.push_back(get_str(r, 0));
  return out;
}

bool move_assignment(soci::session& s, const std::string& id, AssignmentStatus from, AssignmentStatus to,
                     int revision_round, std::int64_t now_ms) {
  const std::string from_s(to_string(from)), to_s(to_string(to));
  return execute_counting((s.prepare << "UPDATE assignments SET status = :to, revision_round = :round, "
                                        "updated_at_ms = :now WHERE assignment_id = :id AND status = :from",
                           soci::use(to_s), soci::use(revision_round), soci::use(now_ms), soci::use(id),
                           soci::use(from_s))) == 1;
}

// ---- submissions ----

void insert_submission(soci::session& s, const Submission& sub) {
  const std::string status(to_string(sub.status));
  const std::string note = sub.note.value_or("");
  soci::indicator note_ind = sub.note ? soci::i_ok : soci::i_null;
  // Reviews are recorded by decide_submission; a new submission is always undecided.
  s << "INSERT INTO submissions (submission_id, assignment_id, task_id, enterprise_id, worker_id, round_no, status, "
       "content_sha256, size_bytes, media_type, storage_ref, note, submitted_at_ms, review_deadline_ms, "
       "evidence_hash) VALUES (:id, :asg, :task, :ent, :wkr, :round, :status, :sha, :size, :media, :ref, :note, "
       ":at, :deadline, :hash)",
      soci::use(sub.id), soci::use(sub.assignment_id), soci::use(sub.task_id), soci::use(sub.enterprise_id),
      soci::use(sub.worker_id), soci::use(sub.round), soci::use(status), soci::use(sub.content_sha256),
      soci::use(sub.size_bytes), soci::use(sub.media_type), soci::use(sub.storage_ref), soci::use(note, note_ind),
      soci::use(sub.submitted_at_ms), soci::use(sub.review_deadline_ms), soci::use(sub.evidence_hash);
}

std::optional<Submission> find_submission(soci::session& s, const std::string& id) {
  soci::rowset<soci::row> rows =
      (s.prepare << "SELECT " << kSubmissionCols << " FROM submissions WHERE submission_id = :id", soci::use(id));
  for (const auto& r : rows) return submission_from(r);
  return std::nullopt;
}

std::vector<Submission> submissions_of_assignment(soci::session& s, const std::string& assignment_id) {
  std::vector<Submission> out;
  soci::rowset<soci::row> rows =
      (s.prepare << "SELECT " << kSubmissionCols << " FROM submissions WHERE assignment_id = :id ORDER BY round_no",
       soci::use(assignment_id));
  for (const auto& r : rows) out.push_back(submission_from(r));
  return out;
}

std::vector<Submission> list_submissions(soci::session& s, const ListFilter& f) {
  // Only the filters given become predicates, so each query can use its index.
  std::string sql = std::string("SELECT ") + kSubmissionCols + " FROM submissions WHERE 1 = 1";
  std::vector<std::string> binds;
  binds.reserve(4);
  auto where = [&](const char* predicate, std::string value) {
    sql += predicate;
    binds.push_back(std::move(value));
  };
  if (f.enterprise_id) where(" AND enterprise_id = :ent", *f.enterprise_id);
  if (f.task_id) where(" AND task_id = :task", *f.task_id);
  if (f.status) where(" AND status = :status", std::string(to_string(*f.status)));
  if (!f.cursor.empty()) where(" AND submission_id < :cursor", f.cursor);
  sql += " ORDER BY submission_id DESC LIMIT :limit";
  const int limit = f.limit + 1;

  auto prep = (s.prepare << sql);
  for (const auto& b : binds) prep, soci::use(b);  // binds is complete: the references stay valid
  prep, soci::use(limit);
  soci::rowset<soci::row> rows(prep);
  std::vector<Submission> out;
  for (const auto& r : rows) out.push_back(submission_from(r));
  return out;
}

bool decide_submission(soci::session& s, const std::string& id, SubmissionStatus to, const Review& review) {
  const std::string to_s(to_string(to)), decision(to_string(review.decision));
  const std::string reason = review.reason.value_or("");
  soci::indicator reason_ind = review.reason ? soci::i_ok : soci::i_null;
  const int automatic = review.automatic ? 1 : 0;
  return execute_counting((s.prepare << "UPDATE submissions SET status = :to, decision = :decision, reason = :reason, "
                                        "automatic = :automatic, reviewed_at_ms = :at "
                                        "WHERE submission_id = :id AND status = 'pending_review'",
                           soci::use(to_s), soci::use(decision), soci::use(reason, reason_ind), soci::use(automatic),
                           soci::use(review.reviewed_at_ms), soci::use(id))) == 1;
}

std::vector<std::string> due_submissions(soci::session& s, std::int64_t now_ms, int limit) {
  std::vector<std::string> out;
  soci::rowset<soci::row> rows = (s.prepare << "SELECT submission_id FROM submissions WHERE status = "
                                               "'pending_review' AND review_deadline_ms <= :now "
                                               "ORDER BY review_deadline_ms LIMIT :limit",
                                  soci::use(now_ms), soci::use(limit));
  for (const auto& r : rows) out.push_back(get_str(r, 0));
  return out;
}

// ---- evidence log ----

std::optional<evidence::Entry> last_entry(soci::session& s) {
  soci::rowset<soci::row> rows =
      (s.prepare << "SELECT " << kEntryCols << " FROM evidence_log ORDER BY seq DESC LIMIT 1");
  for (const auto& r : rows) return entry_from(r);
  return std::nullopt;
}

void insert_entry(soci::session& s, const evidence::Entry& e) {
  s << "INSERT INTO evidence_log (" << kEntryCols << ") VALUES (:seq, :kind, :sub, :payload, :prev, :hash, :at)",
      soci::use(e.seq), soci::use(e.kind), soci::use(e.submission_id), soci::use(e.payload), soci::use(e.prev_hash),
      soci::use(e.hash), soci::use(e.recorded_at_ms);
}

evidence::Entry append_entry(soci::session& s, std::string_view kind, const std::string& submission_id,
                             const nlohmann::json& payload, std::int64_t now_ms) {
  // Lock the chain first (see evidence_head in the migration), then read its head.
  if (execute_counting(
          (s.prepare << "UPDATE evidence_head SET appended_at_ms = :now WHERE id = 1", soci::use(now_ms))) != 1) {
    throw std::logic_error("evidence_head has no row 1: the delivery migration did not run");
  }
  const auto head = last_entry(s);
  auto e = evidence::next_entry(head ? &*head : nullptr, std::string(kind), submission_id, payload, now_ms);
  insert_entry(s, e);
  return e;
}

std::vector<evidence::Entry> entries_of_submission(soci::session& s, const std::string& submission_id) {
  std::vector<evidence::Entry> out;
  soci::rowset<soci::row> rows =
      (s.prepare << "SELECT " << kEntryCols << " FROM evidence_log WHERE submission_id = :id ORDER BY seq",
       soci::use(submission_id));
  for (const auto& r : rows) out.push_back(entry_from(r));
  return out;
}

evidence::ChainVerifier verify_chain(soci::session& s, std::int64_t through_seq) {
  evidence::ChainVerifier v;
  soci::rowset<soci::row> rows =
      (s.prepare << "SELECT " << kEntryCols << " FROM evidence_log WHERE seq <= :seq ORDER BY seq",
       soci::use(through_seq));
  for (const auto& r : rows) {
    if (!v.feed(entry_from(r))) break;
  }
  return v;
}

}  // namespace crowd::delivery::store
