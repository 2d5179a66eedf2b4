#include "services/tasks/lifecycle.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace crowd::tasks;

namespace {

Progress at(Status s, std::int64_t total, std::int64_t assigned = 0, std::int64_t completed = 0) {
  return Progress{s, total, assigned, completed};
}

bool emits(const Step& st, Emit e) {
  for (Emit x : st.emit)
    if (x == e) return true;
  return false;
}

const Status kAll[] = {Status::pending_funding, Status::funding_failed, Status::open,     Status::in_progress,
                       Status::cancelling,      Status::cancelled,      Status::completed};

}  // namespace

TEST_CASE("status names round-trip") {
  for (Status s : kAll) CHECK(status_from(status_name(s)) == s);
  CHECK_FALSE(status_from("draft"));
  CHECK(status_name(Status::in_progress) == "in_progress");
}

TEST_CASE("transition table: exactly the allowed moves") {
  const std::set<std::pair<Status, Status>> allowed = {
      {Status::pending_funding, Status::open},
      {Status::pending_funding, Status::funding_failed},
      {Status::pending_funding, Status::cancelled},
      {Status::funding_failed, Status::cancelled},
      {Status::open, Status::in_progress},
      {Status::open, Status::cancelling},
      {Status::open, Status::cancelled},
      {Status::in_progress, Status::cancelling},
      {Status::in_progress, Status::completed},
      {Status::in_progress, Status::cancelled},
      {Status::in_progress, Status::open},
      {Status::cancelling, Status::cancelled},
      {Status::cancelling, Status::in_progress},
      {Status::cancelling, Status::completed},
  };
  for (Status from : kAll)
    for (Status to : kAll) CHECK(can_transition(from, to) == (allowed.count({from, to}) == 1));
  // Terminal statuses go nowhere.
  for (Status to : kAll) {
    CHECK_FALSE(can_transition(Status::completed, to));
    CHECK_FALSE(can_transition(Status::cancelled, to));
  }
}

TEST_CASE("escrow.held opens a pending task once") {
  Step st = on_escrow_held(at(Status::pending_funding, 5));
  CHECK(st.next.status == Status::open);
  CHECK(st.emit == std::vector<Emit>{Emit::opened});
  CHECK(st.warning.empty());

  Step dup = on_escrow_held(st.next);
  CHECK(dup.next == st.next);
  CHECK(dup.emit.empty());
}

TEST_CASE("escrow.held for a cancelled task: stays cancelled, task.cancelled again") {
  Step st = on_escrow_held(at(Status::cancelled, 5));
  CHECK(st.next.status == Status::cancelled);
  CHECK(st.emit == std::vector<Emit>{Emit::cancelled});
  CHECK(st.units_released == 5);
  CHECK_FALSE(st.warning.empty());
}

TEST_CASE("escrow.held after a rejection: no change, a warning") {
  Step st = on_escrow_held(at(Status::funding_failed, 1));
  CHECK(st.next.status == Status::funding_failed);
  CHECK(st.emit.empty());
  CHECK_FALSE(st.warning.empty());
}

TEST_CASE("escrow.rejected fails funding of a pending task only") {
  Step st = on_escrow_rejected(at(Status::pending_funding, 1));
  CHECK(st.next.status == Status::funding_failed);
  CHECK(st.emit == std::vector<Emit>{Emit::funding_failed});
  CHECK(on_escrow_rejected(st.next).emit.empty());
  Step late = on_escrow_rejected(at(Status::cancelled, 1));
  CHECK(late.next.status == Status::cancelled);
  CHECK(late.warning.empty());
  CHECK_FALSE(on_escrow_rejected(at(Status::open, 1)).warning.empty());
}

TEST_CASE("assignments move open to in_progress and count units") {
  Step a = on_assigned(at(Status::open, 10), 3);
  CHECK(a.next == at(Status::in_progress, 10, 3));
  Step b = on_assigned(a.next, 2);
  CHECK(b.next == at(Status::in_progress, 10, 5));
  Step c = on_assigned(at(Status::cancelling, 10, 5), 1);  // accepted before matching closed the task
  CHECK(c.next == at(Status::cancelling, 10, 6));
  CHECK(c.warning.empty());
  Step d = on_assigned(at(Status::cancelled, 10), 1);
  CHECK(d.next.status == Status::cancelled);
  CHECK_FALSE(d.warning.empty());
}

TEST_CASE("settlements complete the task when every unit is settled") {
  Step a = on_settled(at(Status::in_progress, 3, 3, 1), 1);
  CHECK(a.next == at(Status::in_progress, 3, 3, 2));
  CHECK(a.emit.empty());
  Step b = on_settled(a.next, 1);
  CHECK(b.next == at(Status::completed, 3, 3, 3));
  CHECK(b.emit == std::vector<Emit>{Emit::completed});
  // A settlement that overtook its assignment on an open task still counts.
  Step c = on_settled(at(Status::open, 1, 1, 0), 1);
  CHECK(c.next.status == Status::completed);
  // While cancelling: all the work got done, the cancel is moot.
  Step d = on_settled(at(Status::cancelling, 2, 2, 1), 1);
  CHECK(d.next.status == Status::completed);
  CHECK(emits(d, Emit::completed));
  // After completion, an extra settlement changes no status.
  Step e = on_settled(at(Status::completed, 2, 2, 2), 1);
  CHECK(e.next.status == Status::completed);
  CHECK(e.emit.empty());
  CHECK_FALSE(e.warning.empty());
}

TEST_CASE("cancel decisions by status") {
  auto pending = on_cancel(at(Status::pending_funding, 4));
  CHECK(pending.kind == CancelKind::cancelled_now);
  CHECK(pending.step.next.status == Status::cancelled);
  CHECK(pending.step.emit == std::vector<Emit>{Emit::cancelled});
  CHECK(pending.step.units_released == 4);

  CHECK(on_cancel(at(Status::funding_failed, 1)).kind == CancelKind::cancelled_now);

  auto open = on_cancel(at(Status::open, 4));
  CHECK(open.kind == CancelKind::requested);
  CHECK(open.step.next.status == Status::cancelling);
  CHECK(open.step.emit == std::vector<Emit>{Emit::cancel_requested});
  CHECK(on_cancel(at(Status::in_progress, 4, 1)).kind == CancelKind::requested);

  auto again = on_cancel(at(Status::cancelling, 4));
  CHECK(again.kind == CancelKind::already_requested);
  CHECK(again.step.emit.empty());

  CHECK(on_cancel(at(Status::completed, 1, 1, 1)).kind == CancelKind::refused);
  CHECK(on_cancel(at(Status::cancelled, 1)).kind == CancelKind::refused);
}

TEST_CASE("units released: nothing assigned → cancelled") {
  Step st = on_units_released(at(Status::cancelling, 10), 0);
  CHECK(st.next == at(Status::cancelled, 0, 0, 0));
  CHECK(st.emit == std::vector<Emit>{Emit::cancelled});
  CHECK(st.units_released == 10);
}

TEST_CASE("units released: the assigned units go on, then complete") {
  Step st = on_units_released(at(Status::cancelling, 10, 3, 1), 3);
  CHECK(st.next == at(Status::in_progress, 3, 3, 1));
  CHECK(st.emit.empty());
  Step s2 = on_settled(st.next, 1);
  Step s3 = on_settled(s2.next, 1);
  CHECK(s3.next == at(Status::completed, 3, 3, 3));
  CHECK(s3.emit == std::vector<Emit>{Emit::completed});
}

TEST_CASE("units released: the assigned units were all settled already → completed") {
  Step st = on_units_released(at(Status::cancelling, 10, 2, 2), 2);
  CHECK(st.next == at(Status::completed, 2, 2, 2));
  CHECK(st.emit == std::vector<Emit>{Emit::completed});
}

TEST_CASE("units released: matching's count never drops below settled units nor exceeds the posted ones") {
  Step low = on_units_released(at(Status::cancelling, 10, 4, 3), 1);
  CHECK(low.next.units_total == 3);
  CHECK(low.next.status == Status::completed);
  Step high = on_units_released(at(Status::cancelling, 5, 5, 0), 7);
  CHECK(high.next.units_total == 5);
  CHECK_FALSE(high.warning.empty());
}

TEST_CASE("units released: a task that opened is cancelled with released_by_matching") {
  Step st = on_units_released(at(Status::cancelling, 3), 0);
  CHECK(st.released_by_matching);
  CHECK(st.warning.empty());
  // A task cancelled before it opened: settlement releases on task.cancelled.
  CHECK_FALSE(on_cancel(at(Status::pending_funding, 3)).step.released_by_matching);
  CHECK_FALSE(on_escrow_held(at(Status::cancelled, 3)).released_by_matching);
}

TEST_CASE("units released from in_progress: units back after the cancel recompute the task") {
  // 3 posted, 1 free released by the cancel answer: 2 assigned, 1 of them settled.
  Step answered = on_units_released(at(Status::cancelling, 3, 2, 1), 2);
  CHECK(answered.next == at(Status::in_progress, 2, 2, 1));
  // The other unit's delivery is rejected: released, the settled unit was the last → completed.
  Step back = on_units_released(answered.next, 1);
  CHECK(back.next == at(Status::completed, 1, 1, 1));
  CHECK(back.emit == std::vector<Emit>{Emit::completed});
  CHECK(back.warning.empty());

  // Nothing settled: the last unit back → cancelled, task.cancelled once.
  Step one = on_units_released(at(Status::in_progress, 1, 1, 0), 0);
  CHECK(one.next == at(Status::cancelled, 0, 0, 0));
  CHECK(one.emit == std::vector<Emit>{Emit::cancelled});
  CHECK(one.released_by_matching);
  CHECK(one.warning.empty());
  CHECK(on_units_released(one.next, 0).emit.empty());

  // A late figure never raises the total again.
  Step late = on_units_released(at(Status::in_progress, 2, 2, 0), 3);
  CHECK(late.next.units_total == 2);
  CHECK(late.next.status == Status::in_progress);
}

TEST_CASE("a repeated cancel after the answer: cancelling again until the next answer") {
  Step answered = on_units_released(at(Status::cancelling, 5, 2, 0), 2);
  REQUIRE(answered.next.status == Status::in_progress);
  auto again = on_cancel(answered.next);
  CHECK(again.kind == CancelKind::requested);
  CHECK(again.step.emit == std::vector<Emit>{Emit::cancel_requested});
  // Matching answers every request: the same figure gets the task out of cancelling.
  Step second = on_units_released(again.step.next, 2);
  CHECK(second.next == at(Status::in_progress, 2, 2, 0));
  CHECK(second.emit.empty());
  // Units came back meanwhile: the answer's count decides.
  Step none = on_units_released(again.step.next, 0);
  CHECK(none.next.status == Status::cancelled);
  CHECK(none.emit == std::vector<Emit>{Emit::cancelled});
}

TEST_CASE("units released late or twice: no change") {
  for (Status s : {Status::cancelled, Status::completed}) {
    Step st = on_units_released(at(s, 2, 2, 2), 0);
    CHECK(st.next.status == s);
    CHECK(st.emit.empty());
  }
  CHECK_FALSE(on_units_released(at(Status::pending_funding, 2), 0).warning.empty());
}

TEST_CASE("every reaction from every status stays inside the table") {
  // A reaction may take two moves (open → in_progress → completed); each move is checked by the table
  // itself (a move outside it throws), so here: no throw, and the end is reachable.
  auto reachable = [](Status from, Status to) {
    return from == to || can_transition(from, to) ||
           (can_transition(from, Status::in_progress) && can_transition(Status::in_progress, to));
  };
  for (Status s : kAll) {
    for (const Progress& p : {at(s, 4, 2, 1), at(s, 4, 0, 0), at(s, 1, 1, 0)}) {
      for (const Step& st : {on_escrow_held(p), on_escrow_rejected(p), on_assigned(p, 1), on_settled(p, 1),
                             on_units_released(p, 2), on_units_released(p, 0), on_cancel(p).step}) {
        CHECK(reachable(s, st.next.status));
      }
    }
  }
}

TEST_CASE("workers see open and in-progress tasks") {
  CHECK(open_to_workers(Status::open));
  CHECK(open_to_workers(Status::in_progress));
  CHECK_FALSE(open_to_workers(Status::pending_funding));
  CHECK_FALSE(open_to_workers(Status::cancelling));
  CHECK_FALSE(open_to_workers(Status::completed));
}

TEST_CASE("an assignment that ends unaccepted: its units leave the count, open again when nothing is assigned") {
  const std::int64_t now = 1'000, deadline = 2'000;
  // Single task: back to open, nothing published.
  Step st = on_assignment_ended(at(Status::in_progress, 1, 1), 1, 1, deadline, now);
  CHECK(st.next == at(Status::open, 1, 0));
  CHECK(st.emit.empty());
  CHECK(st.warning.empty());
  // Piecework with another assignment going on: stays in progress.
  CHECK(on_assignment_ended(at(Status::in_progress, 3, 2), 1, 3, deadline, now).next == at(Status::in_progress, 3, 1));
  // A settled unit keeps it in progress.
  CHECK(on_assignment_ended(at(Status::in_progress, 3, 2, 1), 1, 3, deadline, now).next ==
        at(Status::in_progress, 3, 1, 1));
  // Past the deadline nobody can take the unit: counted free, not reopened.
  CHECK(on_assignment_ended(at(Status::in_progress, 1, 1), 1, 1, deadline, deadline).next ==
        at(Status::in_progress, 1, 0));
  // A cancel was answered (units_total below the posted units): matching keeps it closed.
  CHECK(on_assignment_ended(at(Status::in_progress, 1, 1), 1, 3, deadline, now).next == at(Status::in_progress, 1, 0));
  // Cancelling: the count drops, matching's answer decides.
  CHECK(on_assignment_ended(at(Status::cancelling, 1, 1), 1, 1, deadline, now).next == at(Status::cancelling, 1, 0));
  // Never below zero; final statuses are left alone.
  st = on_assignment_ended(at(Status::in_progress, 2, 0), 1, 2, deadline, now);
  CHECK(st.next.units_assigned == 0);
  CHECK_FALSE(st.warning.empty());
  for (Status s : {Status::completed, Status::cancelled, Status::pending_funding, Status::funding_failed}) {
    st = on_assignment_ended(at(s, 1, 1, 1), 1, 1, deadline, now);
    CHECK(st.next == at(s, 1, 1, 1));
    CHECK_FALSE(st.warning.empty());
  }
}
