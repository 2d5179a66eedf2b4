// HTTP handlers for submitting and reading submissions.
#include <optional>
#include <string>

#include "common/clock.hpp"
#include "common/crash.hpp"
#include "common/events.hpp"
#include "common/idempotency.hpp"
#include "common/ids.hpp"
#include "services/delivery/access.hpp"
#include "services/delivery/api.hpp"
#include "services/delivery/store.hpp"
#include "services/delivery/submission_input.hpp"
#include "services/delivery/views.hpp"

namespace crowd::delivery {

namespace {

using auth::Role;

struct SubmissionInput {
  std::string content_sha256;
  std::int64_t size_bytes = 0;
  std::string media_type;
  std::string storage_ref;
  std::optional<std::string> note;
};

// Reads and checks the whole body before anything changes; every bad field is reported at once (422).
SubmissionInput parse_submission(const nlohmann::json& body) {
  http::Fields f(body);
  SubmissionInput in;
  // A format check only makes sense on a value that passed the basic read.
  auto check = [&f](const std::string& name, bool passed_read, bool valid, const char* message) {
    if (passed_read && !valid) f.fail(name, message);
  };
  auto errors = f.errors().size();
  in.content_sha256 = f.str("content_sha256", 64, 64);
  check("content_sha256", f.errors().size() == errors, is_sha256_hex(in.content_sha256),
        "must be 64 lower-case hexadecimal characters");
  in.size_bytes = f.i64("size_bytes", 1, kMaxSubmissionBytes);
  errors = f.errors().size();
  in.media_type = ascii_lower(f.str("media_type", 3, 255));
  check("media_type", f.errors().size() == errors, is_media_type(in.media_type),
        "must be a media type such as application/pdf (no parameters)");
  errors = f.errors().size();
  in.storage_ref = f.str("storage_ref", 1, kMaxStorageRefLen);
  check("storage_ref", f.errors().size() == errors, is_storage_ref(in.storage_ref),
        "must contain no whitespace or control characters");
  in.note = f.opt_str("note", kMaxNoteLen);
  f.done();
  return in;
}

nlohmann::json submission_created(const store::Submission& sub) {
  return {{"submission_id", sub.id},
          {"assignment_id", sub.assignment_id},
          {"task_id", sub.task_id},
          {"enterprise_id", sub.enterprise_id},
          {"worker_id", sub.worker_id},
          {"round", sub.round},
          {"content_sha256", sub.content_sha256},
          {"evidence_hash", sub.evidence_hash}};
}

}  // namespace

// POST /v1/assignments/{id}/submissions — the assigned worker only (anyone else: 404; not a worker: 403).
// Body {content_sha256, size_bytes, media_type, storage_ref, note?}. Allowed while the assignment is
// working or revision_requested (else 409 assignment-not-open). Creates the submission (pending_review),
// its evidence entry and submission.created in one transaction; 201 with the submission.
// Idempotency-Key (per worker) replays the first response.
http::Response Api::submit(http::Request& req) {
  const auto& who = http::require_role(req, {Role::worker});
  const auto in = parse_submission(req.json_body());
  const std::string assignment_id = req.param("id");

  return idempotency::run(db_, idempotency::key_of(req, who.party_id), [&](soci::session& s) {
    auto a = store::find_assignment(s, assignment_id);
    if (!a || !is_assigned_worker(who, a->worker_id)) throw http::not_found("assignment " + assignment_id);
    const auto result = on_submit(SubmitState{a->status, a->revision_round});
    if (const auto* err = std::get_if<RuleError>(&result)) {
      throw http::Problem(409, err->type, "The assignment does not take a submission now", err->detail);
    }
    const auto& next = std::get<SubmitOutcome>(result);
    const std::int64_t now = clock::now_ms();
    // The conditional move decides between two concurrent submissions of one assignment.
    if (!store::move_assignment(s, a->id, a->status, next.assignment, a->revision_round, now)) {
      throw http::Problem(409, "assignment-not-open", "The assignment does not take a submission now",
                          "another submission of this assignment was made at the same time");
    }
    store::Submission sub;
    sub.id = ids::make("sub");
    sub.assignment_id = a->id;
    sub.task_id = a->task_id;
    sub.enterprise_id = a->enterprise_id;
    sub.worker_id = a->worker_id;
    sub.round = next.round;
    sub.status = next.submission;
    sub.content_sha256 = in.content_sha256;
    sub.size_bytes = in.size_bytes;
    sub.media_type = in.media_type;
    sub.storage_ref = in.storage_ref;
    sub.note = in.note;
    sub.submitted_at_ms = now;
    sub.review_deadline_ms = review_deadline_ms(now, a->review_window_s);
    const evidence::SubmissionFacts facts{sub.id,         sub.assignment_id,  sub.worker_id, sub.content_sha256,
                                          sub.size_bytes, sub.submitted_at_ms};
    sub.evidence_hash =
        store::append_entry(s, evidence::kSubmissionKind, sub.id, evidence::submission_payload(facts), now).hash;
    store::insert_submission(s, sub);
    events::publish(s, "submission.created", sub.id, submission_created(sub), req.request_id);
    crash_point("delivery.submit.before_commit");
    auto resp = http::Response::json_of(201, views::submission(sub));
    resp.headers.emplace_back("Location", "/v1/submissions/" + sub.id);
    return resp;
  });
}

// GET /v1/assignments/{id}/submissions — the worker or the enterprise of the assignment, operators
// (anyone else: 404). {assignment, items: [submission...]} oldest round first; at most max_revisions + 1.
http::Response Api::assignment_submissions(http::Request& req) {
  const auto& who = http::require_role(req, {Role::worker, Role::enterprise, Role::operator_});
  const std::string id = req.param("id");
  return db_.with([&](soci::session& s) {
    auto a = store::find_assignment(s, id);
    if (!a || !can_view(who, a->worker_id, a->enterprise_id)) throw http::not_found("assignment " + id);
    auto items = nlohmann::json::array();
    for (const auto& sub : store::submissions_of_assignment(s, id)) items.push_back(views::submission(sub));
    return http::Response::json_of(
        200, {{"assignment", views::assignment(*a, settings_.max_revisions)}, {"items", std::move(items)}});
  });
}

// GET /v1/submissions/{id} — the worker or the enterprise of it, operators (anyone else: 404).
http::Response Api::get_submission(http::Request& req) {
  const auto& who = http::require_role(req, {Role::worker, Role::enterprise, Role::operator_});
  const std::string id = req.param("id");
  auto sub = db_.with([&](soci::session& s) { return store::find_submission(s, id); });
  if (!sub || !can_view(who, sub->worker_id, sub->enterprise_id)) throw http::not_found("submission " + id);
  return http::Response::json_of(200, views::submission(*sub));
}

// GET /v1/submissions?task_id=&status=&limit=&cursor= — enterprises (their own submissions only) and
// operators (all). Newest first; {items, next_cursor} where next_cursor is null on the last page.
http::Response Api::list_submissions(http::Request& req) {
  const auto& who = http::require_role(req, {Role::enterprise, Role::operator_});
  const auto page = http::page_of(req);
  store::ListFilter filter;
  filter.limit = page.limit;
  filter.cursor = page.cursor;
  std::vector<http::FieldError> errors;
  if (!filter.cursor.empty() && !ids::looks_like(filter.cursor, "sub")) errors.push_back({"cursor", "not a cursor"});
  if (auto task_id = req.query_param("task_id")) {
    if (task_id->empty() || task_id->size() > 100) errors.push_back({"task_id", "must be 1..100 characters"});
    filter.task_id = *task_id;
  }
  if (auto status = req.query_param("status")) {
    filter.status = submission_status_from(*status);
    if (!filter.status) {
      errors.push_back({"status", "must be one of pending_review, revision_requested, accepted, rejected"});
    }
  }
  if (!errors.empty()) throw http::invalid(std::move(errors));
  if (who.role == Role::enterprise) filter.enterprise_id = who.party_id;

  auto rows = db_.with([&](soci::session& s) { return store::list_submissions(s, filter); });
  nlohmann::json next_cursor = nullptr;
  if (static_cast<int>(rows.size()) > filter.limit) {
    rows.resize(filter.limit);
    next_cursor = rows.back().id;
  }
  auto items = nlohmann::json::array();
  for (const auto& sub : rows) items.push_back(views::submission(sub));
  return http::Response::json_of(200, {{"items", std::move(items)}, {"next_cursor", next_cursor}});
}

}  // namespace crowd::delivery
