#include "services/tasks/lifecycle.hpp"

#include <algorithm>
#include <stdexcept>

namespace crowd::tasks {

namespace {

constexpr std::pair<Status, std::string_view> kStatusNames[] = {
    {Status::pending_funding, "pending_funding"},
    {Status::funding_failed, "funding_failed"},
    {Status::open, "open"},
    {Status::in_progress, "in_progress"},
    {Status::cancelling, "cancelling"},
    {Status::cancelled, "cancelled"},
    {Status::completed, "completed"},
};

// Applies one move of the table; a move outside it is a bug in this file, not bad input.
void move(Progress& p, Status to) {
  if (p.status == to) return;
  if (!can_transition(p.status, to)) {
    throw std::logic_error("tasks: illegal transition " + std::string(status_name(p.status)) + " -> " +
                           std::string(status_name(to)));
  }
  p.status = to;
}

std::string late(const char* event, const Progress& p) {
  return std::string(event) + " for a task in status " + std::string(status_name(p.status));
}

// After a change of units_completed or units_total: all the (remaining) units are settled → completed.
void complete_if_done(Step& st) {
  Progress& n = st.next;
  if (n.units_total > 0 && n.units_completed >= n.units_total) {
    move(n, Status::completed);
    st.emit.push_back(Emit::completed);
  }
}

}  // namespace

std::string_view status_name(Status s) {
  for (const auto& [status, name] : kStatusNames)
    if (status == s) return name;
  throw std::logic_error("tasks: unknown status");
}

std::optional<Status> status_from(std::string_view name) {
  for (const auto& [status, n] : kStatusNames)
    if (n == name) return status;
  return std::nullopt;
}

const std::vector<Transition>& transition_table() {
  using S = Status;
  static const std::vector<Transition> table = {
      {S::pending_funding, S::open},            // escrow.held
      {S::pending_funding, S::funding_failed},  // escrow.rejected
      {S::pending_funding, S::cancelled},       // cancel before any money moved or any worker saw it
      {S::funding_failed, S::cancelled},        // cancel (nothing is held)
      {S::open, S::in_progress},                // first assignment (or a settlement that overtook it)
      {S::open, S::cancelling},                 // cancel: matching must close the task first
      {S::open, S::cancelled},                  // matching released every unit, none assigned
      {S::in_progress, S::cancelling},          // cancel
      {S::in_progress, S::completed},           // the last unit settled
      {S::in_progress, S::cancelled},           // matching released every unit (all assignments rejected)
      {S::in_progress, S::open},                // the only assignment ended unaccepted (rejected, expired)
      {S::cancelling, S::cancelled},            // units released, none assigned
      {S::cancelling, S::in_progress},          // units released, the assigned ones go on
      {S::cancelling, S::completed},            // every unit was settled before or at the release
  };
  return table;
}

bool can_transition(Status from, Status to) {
  const auto& t = transition_table();
  return std::any_of(t.begin(), t.end(), [&](const Transition& x) { return x.from == from && x.to == to; });
}

bool open_to_workers(Status s) {
  return s == Status::open || s == Status::in_progress;
}

std::string emit_type(Emit e) {
  switch (e) {
    case Emit::created:
      return "task.created";
    case Emit::opened:
      return "task.opened";
    case Emit::funding_failed:
      return "task.funding_failed";
    case Emit::cancel_requested:
      return "task.cancel_requested";
    case Emit::cancelled:
      return "task.cancelled";
    case Emit::completed:
      return "task.completed";
  }
  throw std::logic_error("tasks: unknown emit");
}

Step on_escrow_held(const Progress& p) {
  Step st{p, {}, 0, {}, false};
  switch (p.status) {
    case Status::pending_funding:
      move(st.next, Status::open);
      st.emit.push_back(Emit::opened);
      break;
    case Status::cancelled:
      // Cancelled while the hold was on its way: the money must go back. Matching never saw this task
      // (it was never opened), so a cancel request to matching would release nothing; settlement
      // releases on task.cancelled (keyed by task id), so remind it after its hold.
      st.emit.push_back(Emit::cancelled);
      st.units_released = p.units_total;
      st.warning = "escrow held for a cancelled task: task.cancelled published again so settlement releases it";
      break;
    case Status::funding_failed:
      st.warning = "escrow held after escrow.rejected: the hold needs a release by settlement or an operator";
      break;
    default:
      break;  // a duplicate hold of an open task: nothing to do
  }
  return st;
}

Step on_escrow_rejected(const Progress& p) {
  Step st{p, {}, 0, {}, false};
  if (p.status == Status::pending_funding) {
    move(st.next, Status::funding_failed);
    st.emit.push_back(Emit::funding_failed);
  } else if (p.status != Status::funding_failed && p.status != Status::cancelled) {
    st.warning = late("escrow.rejected", p);
  }
  return st;
}

Step on_assigned(const Progress& p, std::int64_t units) {
  Step st{p, {}, 0, {}, false};
  st.next.units_assigned += units;
  switch (p.status) {
    case Status::open:
      move(st.next, Status::in_progress);
      break;
    case Status::in_progress:
    case Status::cancelling:  // accepted before matching closed the task: the units stay assigned
      break;
    default:
      st.warning = late("assignment.created", p);
      break;
  }
  return st;
}

Step on_settled(const Progress& p, std::int64_t units) {
  Step st{p, {}, 0, {}, false};
  st.next.units_completed += units;
  switch (p.status) {
    case Status::open:
      move(st.next, Status::in_progress);
      complete_if_done(st);
      break;
    case Status::in_progress:
    case Status::cancelling:  // all the work got done before matching answered the cancel: completed
      complete_if_done(st);
      break;
    default:
      st.warning = late("settlement.completed", p);
      break;
  }
  if (st.next.units_completed > st.next.units_total && st.warning.empty()) {
    st.warning = "more units settled than the task has";
  }
  return st;
}

Step on_units_released(const Progress& p, std::int64_t units_assigned_reported) {
  Step st{p, {}, 0, {}, false};
  if (p.status != Status::open && p.status != Status::in_progress && p.status != Status::cancelling) {
    if (p.status == Status::pending_funding || p.status == Status::funding_failed) {
      st.warning = late("task.units_released", p);
    }
    return st;  // cancelled or completed already: a duplicate or a late answer
  }
  // From in_progress: a unit that came back after the cancel was answered, or the answer to a repeated
  // cancel request. From open: matching closed a task tasks never asked it to close.
  if (p.status == Status::open) st.warning = "units released without a cancel request";
  // Matching's count is authoritative (it sees rejections and expiries that put units back); never below
  // what was already settled, never above the current total (matching's count only falls once closed, so
  // a late figure cannot raise it again).
  std::int64_t total = std::max(units_assigned_reported, p.units_completed);
  if (total > p.units_total) {
    st.warning = "matching reports more units assigned than the task has";
    total = p.units_total;
  }
  st.next.units_total = total;
  st.next.units_assigned = total;
  if (total == 0) {
    move(st.next, Status::cancelled);
    st.emit.push_back(Emit::cancelled);
    st.units_released = p.units_total;
    st.released_by_matching = true;
    return st;
  }
  move(st.next, Status::in_progress);
  complete_if_done(st);
  return st;
}

Step on_assignment_ended(const Progress& p, std::int64_t units, std::int64_t posted_units, std::int64_t deadline_ms,
                         std::int64_t now_ms) {
  Step st{p, {}, 0, {}, false};
  if (p.status != Status::open && p.status != Status::in_progress && p.status != Status::cancelling) {
    st.warning = late("an assignment ending unaccepted", p);
    return st;
  }
  if (units > p.units_assigned) st.warning = "an assignment ended with more units than the task has assigned";
  st.next.units_assigned = std::max<std::int64_t>(0, p.units_assigned - units);
  const bool nothing_assigned = st.next.units_assigned == 0 && st.next.units_completed == 0;
  const bool takeable = now_ms < deadline_ms && p.units_total == posted_units;
  if (p.status == Status::in_progress && nothing_assigned && takeable) move(st.next, Status::open);
  return st;
}

CancelDecision on_cancel(const Progress& p) {
  CancelDecision d{CancelKind::refused, Step{p, {}, 0, {}, false}};
  switch (p.status) {
    case Status::pending_funding:
    case Status::funding_failed:
      move(d.step.next, Status::cancelled);
      d.step.emit.push_back(Emit::cancelled);
      d.step.units_released = p.units_total;
      d.kind = CancelKind::cancelled_now;
      break;
    case Status::open:
    case Status::in_progress:
      move(d.step.next, Status::cancelling);
      d.step.emit.push_back(Emit::cancel_requested);
      d.kind = CancelKind::requested;
      break;
    case Status::cancelling:
      d.kind = CancelKind::already_requested;
      break;
    case Status::cancelled:
    case Status::completed:
      d.kind = CancelKind::refused;
      break;
  }
  return d;
}

}  // namespace crowd::tasks
