#include "services/matching/rules.hpp"

#include <doctest/doctest.h>

using namespace crowd::matching;

TEST_CASE("offer status names round-trip") {
  for (auto s : {OfferStatus::pending, OfferStatus::accepted, OfferStatus::declined, OfferStatus::expired,
                 OfferStatus::withdrawn}) {
    CHECK(offer_status_from(to_string(s)) == s);
  }
  CHECK_FALSE(offer_status_from("open"));
}

TEST_CASE("an offer is live while pending and before its expiry") {
  CHECK(offer_is_live(OfferStatus::pending, 1000, 999));
  CHECK_FALSE(offer_is_live(OfferStatus::pending, 1000, 1000));  // expiry instant is already too late
  CHECK_FALSE(offer_is_live(OfferStatus::accepted, 1000, 0));
}

TEST_CASE("accept steps by offer state") {
  CHECK(accept_step(OfferStatus::pending, 1000, 999) == AcceptStep::take_unit);
  CHECK(accept_step(OfferStatus::pending, 1000, 1000) == AcceptStep::expired);
  CHECK(accept_step(OfferStatus::expired, 1000, 0) == AcceptStep::expired);
  CHECK(accept_step(OfferStatus::accepted, 1000, 5000) == AcceptStep::replay);  // replay even after expiry
  CHECK(accept_step(OfferStatus::declined, 1000, 0) == AcceptStep::declined);
  CHECK(accept_step(OfferStatus::withdrawn, 1000, 0) == AcceptStep::withdrawn);
}

TEST_CASE("decline steps by offer state") {
  CHECK(decline_step(OfferStatus::pending, 1000, 0) == DeclineStep::decline);
  CHECK(decline_step(OfferStatus::pending, 1000, 1000) == DeclineStep::expired);
  CHECK(decline_step(OfferStatus::declined, 1000, 5000) == DeclineStep::replay);
  CHECK(decline_step(OfferStatus::accepted, 1000, 0) == DeclineStep::accepted);
  CHECK(decline_step(OfferStatus::expired, 1000, 0) == DeclineStep::expired);
  CHECK(decline_step(OfferStatus::withdrawn, 1000, 0) == DeclineStep::withdrawn);
}

TEST_CASE("task gate: closed before overdue before full") {
  CHECK(task_gate(true, 1000, 0, 1, 0) == TaskGate::open);
  CHECK(task_gate(true, 1000, 1, 1, 0) == TaskGate::full);
  CHECK(task_gate(true, 1000, 0, 1, 1000) == TaskGate::deadline_passed);
  CHECK(task_gate(false, 1000, 1, 1, 2000) == TaskGate::closed);
  CHECK(task_gate(true, 1000, 4, 5, 999) == TaskGate::open);
}

TEST_CASE("assignments move once from active to completed or rejected") {
  CHECK(assignment_after(AssignmentStatus::active, DeliveryVerdict::accepted) == AssignmentStatus::completed);
  CHECK(assignment_after(AssignmentStatus::active, DeliveryVerdict::rejected) == AssignmentStatus::rejected);
  // Final states ignore late or duplicate verdicts.
  CHECK_FALSE(assignment_after(AssignmentStatus::completed, DeliveryVerdict::rejected));
  CHECK_FALSE(assignment_after(AssignmentStatus::rejected, DeliveryVerdict::accepted));
  CHECK_FALSE(assignment_after(AssignmentStatus::rejected, DeliveryVerdict::rejected));
  for (auto s : {AssignmentStatus::active, AssignmentStatus::completed, AssignmentStatus::rejected}) {
    CHECK(assignment_status_from(to_string(s)) == s);
  }
}

TEST_CASE("an active assignment expires once, final ones ignore an expiry") {
  CHECK(assignment_after(AssignmentStatus::active, DeliveryVerdict::expired) == AssignmentStatus::expired);
  for (auto s : {AssignmentStatus::completed, AssignmentStatus::rejected, AssignmentStatus::expired}) {
    CHECK_FALSE(assignment_after(s, DeliveryVerdict::expired));
    CHECK_FALSE(assignment_after(AssignmentStatus::expired, DeliveryVerdict::accepted));
  }
  CHECK(assignment_status_from("expired") == AssignmentStatus::expired);
  CHECK(to_string(AssignmentStatus::expired) == "expired");
}

TEST_CASE("units released on close: what was never assigned") {
  auto u = units_released(10, 4);
  CHECK(u.units_released == 6);
  CHECK(u.units_assigned == 4);
  CHECK(u.units_total == 10);
  CHECK(units_released(1, 1).units_released == 0);
  CHECK(units_released(3, 0).units_released == 3);
  CHECK(u.release_id == "cancel");
}

TEST_CASE("cancel answers: the first records what was free, a repeat carries that figure and the current count") {
  auto first = cancel_release(3, 1, std::nullopt);
  CHECK(first.release_id == "cancel");
  CHECK(first.units_released == 2);
  CHECK(first.units_assigned == 1);
  // The assigned unit came back (released on its own) before the enterprise asked again.
  auto repeat = cancel_release(3, 0, 2);
  CHECK(repeat.release_id == "cancel");
  CHECK(repeat.units_released == 2);
  CHECK(repeat.units_assigned == 0);
  CHECK(repeat.units_total == 3);
}

TEST_CASE("a unit back to a closed task is released under its assignment's id") {
  auto u = assignment_release("asg_1", 1, 3, 0);
  CHECK(u.release_id == "asg:asg_1");
  CHECK(u.units_released == 1);
  CHECK(u.units_assigned == 0);
  CHECK(u.units_total == 3);
  CHECK(assignment_release_id("asg_9") == "asg:asg_9");
}
