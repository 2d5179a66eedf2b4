#include "services/delivery/delivery_rules.hpp"

#include <array>
#include <utility>

namespace crowd::delivery {

namespace {

constexpr std::array<std::pair<AssignmentStatus, std::string_view>, 6> kAssignmentNames{{
    {AssignmentStatus::working, "working"},
    {AssignmentStatus::in_review, "in_review"},
    {AssignmentStatus::revision_requested, "revision_requested"},
    {AssignmentStatus::accepted, "accepted"},
    {AssignmentStatus::rejected, "rejected"},
    {AssignmentStatus::expired, "expired"},
}};

constexpr std::array<std::pair<SubmissionStatus, std::string_view>, 4> kSubmissionNames{{
    {SubmissionStatus::pending_review, "pending_review"},
    {SubmissionStatus::revision_requested, "revision_requested"},
    {SubmissionStatus::accepted, "accepted"},
    {SubmissionStatus::rejected, "rejected"},
}};

constexpr std::array<std::pair<Decision, std::string_view>, 3> kDecisionNames{{
    {Decision::accept, "accept"},
    {Decision::revise, "revise"},
    {Decision::reject, "reject"},
}};

template <class E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& table, E value) {
  for (const auto& [v, n] : table) {
    if (v == value) return n;
  }
  return "unknown";
}

template <class E, std::size_t N>
std::optional<E> parse(const std::array<std::pair<E, std::string_view>, N>& table, std::string_view s) {
  for (const auto& [v, n] : table) {
    if (n == s) return v;
  }
  return std::nullopt;
}

RuleError refuse(std::string type, std::string detail) {
  return RuleError{std::move(type), std::move(detail)};
}

}  // namespace

std::string_view to_string(AssignmentStatus s) {
  return name_of(kAssignmentNames, s);
}
std::string_view to_string(SubmissionStatus s) {
  return name_of(kSubmissionNames, s);
}
std::string_view to_string(Decision d) {
  return name_of(kDecisionNames, d);
}
std::optional<AssignmentStatus> assignment_status_from(std::string_view s) {
  return parse(kAssignmentNames, s);
}
std::optional<SubmissionStatus> submission_status_from(std::string_view s) {
  return parse(kSubmissionNames, s);
}
std::optional<Decision> decision_from(std::string_view s) {
  return parse(kDecisionNames, s);
}

Result<SubmitOutcome> on_submit(const SubmitState& state) {
  // Only an assignment waiting for work takes a submission: one submission is reviewed at a time, and a
  // decided assignment (accepted / rejected) is closed.
  if (state.assignment != AssignmentStatus::working && state.assignment != AssignmentStatus::revision_requested) {
    return refuse("assignment-not-open", "the assignment is " + std::string(to_string(state.assignment)) +
                                             "; a submission is taken only while it is working or "
                                             "revision_requested");
  }
  if (state.revision_round < 0) return refuse("invalid-state", "negative revision round");
  SubmitOutcome out;
  out.round = state.revision_round + 1;
  return out;
}

Result<ReviewOutcome> on_review(const ReviewState& state, const ReviewCommand& cmd) {
  if (state.submission != SubmissionStatus::pending_review) {
    return refuse("submission-not-pending",
                  "the submission is " + std::string(to_string(state.submission)) + ", not pending_review");
  }
  // A pending submission always belongs to an assignment in review; anything else is a broken invariant
  // that must not be papered over by a decision.
  if (state.assignment != AssignmentStatus::in_review) {
    return refuse("invalid-state", "the assignment is " + std::string(to_string(state.assignment)) +
                                       " while its submission is pending_review");
  }
  const bool window_ended = cmd.now_ms >= state.review_deadline_ms;
  if (cmd.automatic && (cmd.decision != Decision::accept || !window_ended)) {
    return refuse("review-window-open", "automatic acceptance applies only once the review window ended");
  }
  ReviewOutcome out;
  out.revision_round = state.revision_round;
  switch (cmd.decision) {
    case Decision::accept:
      // The enterprise may still accept after the window ended: the outcome is the same as automatic.
      out.submission = SubmissionStatus::accepted;
      out.assignment = AssignmentStatus::accepted;
      return out;
    case Decision::revise:
      if (window_ended) return refuse("review-window-ended", "the review window ended: the delivery is accepted");
      if (state.revision_round >= state.max_revisions) {
        return refuse("revision-limit", "all " + std::to_string(state.max_revisions) +
                                            " revision rounds are used: accept or reject the delivery");
      }
      out.submission = SubmissionStatus::revision_requested;
      out.assignment = AssignmentStatus::revision_requested;
      out.revision_round = state.revision_round + 1;
      return out;
    case Decision::reject:
      if (window_ended) return refuse("review-window-ended", "the review window ended: the delivery is accepted");
      out.submission = SubmissionStatus::rejected;
      out.assignment = AssignmentStatus::rejected;
      return out;
  }
  return refuse("invalid-state", "unknown decision");
}

bool expires(AssignmentStatus status, std::int64_t deadline_ms, std::int64_t grace_ms, std::int64_t now_ms) {
  if (status != AssignmentStatus::working && status != AssignmentStatus::revision_requested) return false;
  // now − grace rather than deadline + grace: both are far from the int64 limits, but a huge deadline is not.
  return deadline_ms <= now_ms - grace_ms;
}

std::int64_t review_deadline_ms(std::int64_t submitted_at_ms, std::int64_t review_window_s) {
  return submitted_at_ms + (review_window_s < 0 ? 0 : review_window_s) * 1000;
}

}  // namespace crowd::delivery
