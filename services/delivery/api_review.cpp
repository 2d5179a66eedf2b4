// HTTP handlers for reviewing a submission and reading its evidence.
#include <optional>
#include <stdexcept>
#include <string>

#include "common/clock.hpp"
#include "common/crash.hpp"
#include "common/events.hpp"
#include "common/idempotency.hpp"
#include "services/delivery/access.hpp"
#include "services/delivery/api.hpp"
#include "services/delivery/review.hpp"
#include "services/delivery/store.hpp"
#include "services/delivery/submission_input.hpp"
#include "services/delivery/views.hpp"

namespace crowd::delivery {

namespace {

using auth::Role;

struct ReviewInput {
  Decision decision = Decision::accept;
  std::optional<std::string> reason;
};

// {decision: accept|revise|reject, reason: 1..2000 characters, required for revise and reject}.
ReviewInput parse_review(const nlohmann::json& body) {
  http::Fields f(body);
  ReviewInput in;
  const auto decision = decision_from(f.one_of("decision", {"accept", "revise", "reject"}));
  const auto errors = f.errors().size();
  in.reason = f.opt_str("reason", kMaxReasonLen);
  const bool reason_read = f.errors().size() == errors;
  if (reason_read && in.reason && in.reason->empty()) f.fail("reason", "must be 1..2000 characters");
  if (reason_read && !in.reason && decision && *decision != Decision::accept) {
    f.fail("reason", "is required to revise or reject");
  }
  f.done();
  in.decision = *decision;  // done() threw unless one_of read a valid decision
  return in;
}

const evidence::Entry* entry_of_kind(const std::vector<evidence::Entry>& entries, std::string_view kind) {
  for (const auto& e : entries) {
    if (e.kind == kind) return &e;
  }
  return nullptr;
}

}  // namespace

// POST /v1/submissions/{id}/review — the enterprise of the assignment only (other parties: 404; not an
// enterprise: 403). Body {decision, reason?}. Only a pending_review submission (else 409
// submission-not-pending); revise needs a revision round left (409 revision-limit) and, like reject, an
// open review window (409 review-window-ended). Submission, assignment, evidence entry (accept) and event
// commit together; 200 {submission, assignment}. Idempotency-Key (per enterprise) replays the first response.
http::Response Api::review(http::Request& req) {
  const auto& who = http::require_role(req, {Role::enterprise});
  const auto in = parse_review(req.json_body());
  const std::string id = req.param("id");

  return idempotency::run(db_, idempotency::key_of(req, who.party_id), [&](soci::session& s) {
    auto sub = store::find_submission(s, id);
    if (!sub || !is_owning_enterprise(who, sub->enterprise_id)) throw http::not_found("submission " + id);
    auto a = store::find_assignment(s, sub->assignment_id);
    if (!a) throw std::logic_error("submission " + id + " without its assignment");
    auto decided = decide(s, settings_, std::move(*sub), std::move(*a),
                          ReviewCommand{in.decision, false, clock::now_ms()}, in.reason, req.request_id);
    crash_point("delivery.review.before_commit");
    return http::Response::json_of(200,
                                   {{"submission", views::submission(decided.submission)},
                                    {"assignment", views::assignment(decided.assignment, settings_.max_revisions)}});
  });
}

// GET /v1/evidence/{submission_id} — the worker or the enterprise of the submission, operators (anyone
// else: 404). The submission's evidence entry and, once accepted, its acceptance entry, with a fresh
// verification: the chain recomputed from its first entry through the last of these, and the entry
// compared with the submission as stored. Read-only; cost grows with the chain (see README.md).
http::Response Api::get_evidence(http::Request& req) {
  const auto& who = http::require_role(req, {Role::worker, Role::enterprise, Role::operator_});
  const std::string id = req.param("id");
  return db_.with([&](soci::session& s) {
    auto sub = store::find_submission(s, id);
    if (!sub || !can_view(who, sub->worker_id, sub->enterprise_id)) throw http::not_found("evidence of " + id);
    const auto entries = store::entries_of_submission(s, id);
    const auto* submitted = entry_of_kind(entries, evidence::kSubmissionKind);
    const auto* accepted = entry_of_kind(entries, evidence::kAcceptedKind);
    if (!submitted) throw std::logic_error("submission " + id + " has no evidence entry");

    const std::int64_t through = entries.back().seq;
    const auto chain = store::verify_chain(s, through);
    const evidence::SubmissionFacts facts{sub->id,         sub->assignment_id,  sub->worker_id, sub->content_sha256,
                                          sub->size_bytes, sub->submitted_at_ms};
    const bool matches = submitted->payload == evidence::canonical(evidence::submission_payload(facts)) &&
                         submitted->hash == sub->evidence_hash;
    nlohmann::json failure = nullptr;
    if (chain.failure()) {
      failure = *chain.failure();
    } else if (chain.checked() != through) {
      failure = "the chain ends before seq " + std::to_string(through);
    } else if (!matches) {
      failure = "the stored submission no longer matches its evidence entry";
    }
    return http::Response::json_of(
        200,
        {{"submission_id", sub->id},
         {"algorithm", "sha256_hex(prev_hash + canonical_json(payload)); first prev_hash = 64 x '0'"},
         {"entry", views::evidence_entry(*submitted)},
         {"acceptance", accepted ? views::evidence_entry(*accepted) : nlohmann::json(nullptr)},
         {"verified", failure.is_null()},
         {"verification", {{"entries_checked", chain.checked()}, {"through_seq", through}, {"failure", failure}}}});
  });
}

}  // namespace crowd::delivery
