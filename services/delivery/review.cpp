#include "services/delivery/review.hpp"

#include <map>

#include "common/events.hpp"

namespace crowd::delivery {

http::Problem refused(const RuleError& e) {
  static const std::map<std::string, std::string> titles = {
      {"assignment-not-open", "The assignment does not take a submission now"},
      {"submission-not-pending", "The submission is already reviewed"},
      {"revision-limit", "No revision rounds left"},
      {"review-window-ended", "The review window ended"},
      {"review-window-open", "The review window is still open"},
      {"invalid-state", "Inconsistent delivery state"},
  };
  auto it = titles.find(e.type);
  return http::Problem(409, e.type, it != titles.end() ? it->second : "Conflict", e.detail);
}

Decided decide(soci::session& s, const Settings& settings, store::Submission sub, store::Assignment a,
               const ReviewCommand& cmd, const std::optional<std::string>& reason, const std::string& trace_id) {
  const ReviewState state{a.status, sub.status, a.revision_round, settings.max_revisions, sub.review_deadline_ms};
  const auto result = on_review(state, cmd);
  if (const auto* err = std::get_if<RuleError>(&result)) throw refused(*err);
  const auto& next = std::get<ReviewOutcome>(result);

  const store::Review review{cmd.decision, reason, cmd.automatic, cmd.now_ms};
  // The conditional update decides a race (enterprise against the auto-acceptance job, or two reviews).
  if (!store::decide_submission(s, sub.id, next.submission, review)) {
    throw refused({"submission-not-pending", "another review decided this submission first"});
  }
  if (!store::move_assignment(s, a.id, a.status, next.assignment, next.revision_round, cmd.now_ms)) {
    throw refused({"invalid-state", "the assignment changed while the submission was reviewed"});
  }
  sub.status = next.submission;
  sub.review = review;
  a.status = next.assignment;
  a.revision_round = next.revision_round;

  switch (cmd.decision) {
    case Decision::accept: {
      // Seam for IP terms: assignment.created carries none, so every acceptance is recorded as the moment
      // rights would pass; the terms decide later whether they did.
      evidence::AcceptanceFacts facts{sub.id,        a.id,      a.enterprise_id, a.worker_id, sub.content_sha256,
                                      cmd.automatic, cmd.now_ms};
      store::append_entry(s, evidence::kAcceptedKind, sub.id, evidence::acceptance_payload(facts), cmd.now_ms);
      events::publish(s, "delivery.accepted", a.id,
                      {{"submission_id", sub.id},
                       {"assignment_id", a.id},
                       {"task_id", a.task_id},
                       {"enterprise_id", a.enterprise_id},
                       {"worker_id", a.worker_id},
                       {"units", a.units},
                       {"amount_fen", a.amount_fen},
                       {"currency", a.currency},
                       {"category", a.category},
                       {"title", a.title},
                       {"automatic", cmd.automatic},
                       {"accepted_at_ms", cmd.now_ms}},
                      trace_id);
      break;
    }
    case Decision::revise:
      events::publish(s, "delivery.revision_requested", a.id,
                      {{"submission_id", sub.id},
                       {"assignment_id", a.id},
                       {"task_id", a.task_id},
                       {"worker_id", a.worker_id},
                       {"round", sub.round},
                       {"reason", reason.value_or("")}},
                      trace_id);
      break;
    case Decision::reject:
      events::publish(s, "delivery.rejected", a.id,
                      {{"submission_id", sub.id},
                       {"assignment_id", a.id},
                       {"task_id", a.task_id},
                       {"enterprise_id", a.enterprise_id},
                       {"worker_id", a.worker_id},
                       {"units", a.units},
                       {"reason", reason.value_or("")}},
                      trace_id);
      break;
  }
  return Decided{std::move(sub), std::move(a)};
}

}  // namespace crowd::delivery
