// The delivery state machine as pure functions: given an assignment's and a submission's state and a
// command (submit, or a review decision), the next state or the reason it is refused. No I/O, no clock:
// the caller passes the time. Handlers and the auto-acceptance job both go through here, so the rules
// live in one place.
//
// Assignment:  working --submit--> in_review --accept--> accepted          (final)
//                                            --reject--> rejected          (final)
//                                            --revise--> revision_requested --submit--> in_review ...
//              working | revision_requested --deadline + grace passed--> expired (final)
// Submission:  pending_review --accept--> accepted | --revise--> revision_requested | --reject--> rejected
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace crowd::delivery {

enum class AssignmentStatus { working, in_review, revision_requested, accepted, rejected, expired };
enum class SubmissionStatus { pending_review, revision_requested, accepted, rejected };
enum class Decision { accept, revise, reject };

std::string_view to_string(AssignmentStatus s);
std::string_view to_string(SubmissionStatus s);
std::string_view to_string(Decision d);
std::optional<AssignmentStatus> assignment_status_from(std::string_view s);
std::optional<SubmissionStatus> submission_status_from(std::string_view s);
std::optional<Decision> decision_from(std::string_view s);

// A refused command. `type` is the stable problem slug the API returns with 409.
struct RuleError {
  std::string type;
  std::string detail;
};

template <class T>
using Result = std::variant<T, RuleError>;

// ---- Submitting ----

struct SubmitState {
  AssignmentStatus assignment = AssignmentStatus::working;
  int revision_round = 0;  // revision rounds requested so far
};

struct SubmitOutcome {
  int round = 1;  // the new submission's round: 1 for the first, revision_round + 1 after revisions
  AssignmentStatus assignment = AssignmentStatus::in_review;
  SubmissionStatus submission = SubmissionStatus::pending_review;
};

Result<SubmitOutcome> on_submit(const SubmitState& state);

// ---- Reviewing ----

struct ReviewState {
  AssignmentStatus assignment = AssignmentStatus::in_review;
  SubmissionStatus submission = SubmissionStatus::pending_review;
  int revision_round = 0;
  int max_revisions = 3;
  std::int64_t review_deadline_ms = 0;
};

struct ReviewCommand {
  Decision decision = Decision::accept;
  bool automatic = false;  // the review window ended (auto-acceptance job), not the enterprise
  std::int64_t now_ms = 0;
};

struct ReviewOutcome {
  SubmissionStatus submission = SubmissionStatus::accepted;
  AssignmentStatus assignment = AssignmentStatus::accepted;
  int revision_round = 0;  // after the decision (incremented by revise)
};

Result<ReviewOutcome> on_review(const ReviewState& state, const ReviewCommand& cmd);

// ---- Expiring ----

// Whether an assignment expires at now_ms: nothing of it is pending review (working, or revision_requested
// with no new round submitted) and its deadline plus the grace period has passed. An assignment in review
// never expires here (the review and the auto-acceptance decide it); final ones stay as they are.
bool expires(AssignmentStatus status, std::int64_t deadline_ms, std::int64_t grace_ms, std::int64_t now_ms);

// Review deadline of a submission made at submitted_at_ms (review window in seconds, ≥ 0).
std::int64_t review_deadline_ms(std::int64_t submitted_at_ms, std::int64_t review_window_s);

}  // namespace crowd::delivery
