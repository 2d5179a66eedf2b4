#include "services/delivery/delivery_rules.hpp"

#include <doctest/doctest.h>

using namespace crowd::delivery;

namespace {

template <class T>
const T& ok(const Result<T>& r) {
  REQUIRE_MESSAGE(std::holds_alternative<T>(r), "refused: " << std::get<RuleError>(r).type);
  return std::get<T>(r);
}

template <class T>
std::string refused(const Result<T>& r) {
  REQUIRE(std::holds_alternative<RuleError>(r));
  return std::get<RuleError>(r).type;
}

ReviewState pending(int revision_round = 0, std::int64_t deadline_ms = 10'000) {
  ReviewState s;
  s.revision_round = revision_round;
  s.max_revisions = 3;
  s.review_deadline_ms = deadline_ms;
  return s;
}

ReviewCommand by_enterprise(Decision d, std::int64_t now_ms = 5'000) {
  return ReviewCommand{d, false, now_ms};
}

}  // namespace

TEST_CASE("names round-trip") {
  for (auto s : {AssignmentStatus::working, AssignmentStatus::in_review, AssignmentStatus::revision_requested,
                 AssignmentStatus::accepted, AssignmentStatus::rejected}) {
    CHECK(assignment_status_from(to_string(s)) == s);
  }
  for (auto s : {SubmissionStatus::pending_review, SubmissionStatus::revision_requested, SubmissionStatus::accepted,
                 SubmissionStatus::rejected}) {
    CHECK(submission_status_from(to_string(s)) == s);
  }
  CHECK(decision_from("revise") == Decision::revise);
  CHECK_FALSE(decision_from("Accept").has_value());
  CHECK_FALSE(assignment_status_from("").has_value());
}

TEST_CASE("submit: first round from working, next round after a revision") {
  auto first = ok(on_submit({AssignmentStatus::working, 0}));
  CHECK(first.round == 1);
  CHECK(first.assignment == AssignmentStatus::in_review);
  CHECK(first.submission == SubmissionStatus::pending_review);

  auto again = ok(on_submit({AssignmentStatus::revision_requested, 2}));
  CHECK(again.round == 3);
}

TEST_CASE("submit: refused while in review or once decided") {
  CHECK(refused(on_submit({AssignmentStatus::in_review, 0})) == "assignment-not-open");
  CHECK(refused(on_submit({AssignmentStatus::accepted, 0})) == "assignment-not-open");
  CHECK(refused(on_submit({AssignmentStatus::rejected, 1})) == "assignment-not-open");
  CHECK(refused(on_submit({AssignmentStatus::expired, 0})) == "assignment-not-open");
}

TEST_CASE("review: accept, revise, reject from pending_review") {
  auto a = ok(on_review(pending(), by_enterprise(Decision::accept)));
  CHECK(a.submission == SubmissionStatus::accepted);
  CHECK(a.assignment == AssignmentStatus::accepted);
  CHECK(a.revision_round == 0);

  auto v = ok(on_review(pending(1), by_enterprise(Decision::revise)));
  CHECK(v.submission == SubmissionStatus::revision_requested);
  CHECK(v.assignment == AssignmentStatus::revision_requested);
  CHECK(v.revision_round == 2);

  auto r = ok(on_review(pending(), by_enterprise(Decision::reject)));
  CHECK(r.submission == SubmissionStatus::rejected);
  CHECK(r.assignment == AssignmentStatus::rejected);
}

TEST_CASE("review: only a pending submission") {
  for (auto s : {SubmissionStatus::accepted, SubmissionStatus::rejected, SubmissionStatus::revision_requested}) {
    auto st = pending();
    st.submission = s;
    CHECK(refused(on_review(st, by_enterprise(Decision::accept))) == "submission-not-pending");
  }
  auto broken = pending();
  broken.assignment = AssignmentStatus::working;
  CHECK(refused(on_review(broken, by_enterprise(Decision::accept))) == "invalid-state");
}

TEST_CASE("review: the revision limit leaves accept and reject") {
  CHECK(ok(on_review(pending(2), by_enterprise(Decision::revise))).revision_round == 3);
  CHECK(refused(on_review(pending(3), by_enterprise(Decision::revise))) == "revision-limit");
  CHECK(ok(on_review(pending(3), by_enterprise(Decision::accept))).assignment == AssignmentStatus::accepted);
  CHECK(ok(on_review(pending(3), by_enterprise(Decision::reject))).assignment == AssignmentStatus::rejected);

  auto none = pending();
  none.max_revisions = 0;
  CHECK(refused(on_review(none, by_enterprise(Decision::revise))) == "revision-limit");
}

TEST_CASE("review: after the window only acceptance remains") {
  const std::int64_t deadline = 10'000;
  CHECK(refused(on_review(pending(0, deadline), by_enterprise(Decision::revise, deadline))) == "review-window-ended");
  CHECK(refused(on_review(pending(0, deadline), by_enterprise(Decision::reject, deadline + 1))) ==
        "review-window-ended");
  CHECK(ok(on_review(pending(0, deadline), by_enterprise(Decision::accept, deadline + 1))).assignment ==
        AssignmentStatus::accepted);
  CHECK(ok(on_review(pending(0, deadline), by_enterprise(Decision::reject, deadline - 1))).assignment ==
        AssignmentStatus::rejected);
}

TEST_CASE("automatic acceptance: only accept, only once the window ended") {
  const std::int64_t deadline = 10'000;
  CHECK(refused(on_review(pending(0, deadline), {Decision::accept, true, deadline - 1})) == "review-window-open");
  CHECK(refused(on_review(pending(0, deadline), {Decision::reject, true, deadline})) == "review-window-open");
  auto a = ok(on_review(pending(0, deadline), {Decision::accept, true, deadline}));
  CHECK(a.submission == SubmissionStatus::accepted);
  // The job losing the race against the enterprise sees a decided submission.
  auto decided = pending(0, deadline);
  decided.submission = SubmissionStatus::rejected;
  CHECK(refused(on_review(decided, {Decision::accept, true, deadline})) == "submission-not-pending");
}

TEST_CASE("review deadline") {
  CHECK(review_deadline_ms(1'000, 60) == 61'000);
  CHECK(review_deadline_ms(1'000, 0) == 1'000);
  CHECK(review_deadline_ms(1'000, -5) == 1'000);
}

TEST_CASE("expiry: only assignments without a submission pending review, once deadline + grace passed") {
  const std::int64_t deadline = 1'000'000, grace = 60'000;
  CHECK_FALSE(expires(AssignmentStatus::working, deadline, grace, deadline + grace - 1));
  CHECK(expires(AssignmentStatus::working, deadline, grace, deadline + grace));
  CHECK(expires(AssignmentStatus::revision_requested, deadline, grace, deadline + grace + 5));
  CHECK(expires(AssignmentStatus::working, deadline, 0, deadline));
  for (auto s : {AssignmentStatus::in_review, AssignmentStatus::accepted, AssignmentStatus::rejected,
                 AssignmentStatus::expired}) {
    CHECK_FALSE(expires(s, deadline, grace, deadline * 10));
  }
  CHECK(assignment_status_from("expired") == AssignmentStatus::expired);
  CHECK(to_string(AssignmentStatus::expired) == "expired");
}
