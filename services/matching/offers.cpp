#include "services/matching/offers.hpp"

#include <soci/soci.h>

#include <stdexcept>

#include "common/events.hpp"
#include "common/ids.hpp"
#include "services/matching/rules.hpp"
#include "services/matching/store.hpp"
#include "services/matching/views.hpp"

namespace crowd::matching {

namespace {

http::Problem offer_expired() {
  return http::Problem(410, "offer-expired", "Offer expired", "The offer expired before it was answered.");
}

http::Problem offer_withdrawn() {
  return http::Problem(409, "offer-withdrawn", "Offer withdrawn", "The offer was withdrawn.");
}

http::Problem gate_problem(TaskGate gate) {
  switch (gate) {
    case TaskGate::closed:
      return http::Problem(409, "task-closed", "Task closed", "The task no longer takes workers.");
    case TaskGate::deadline_passed:
      return http::Problem(409, "task-deadline-passed", "Task deadline passed", "The task's deadline has passed.");
    case TaskGate::full:
    case TaskGate::open:
      break;
  }
  return http::Problem(409, "no-units-left", "No units left", "Every unit of the task is taken.");
}

// The offer when it exists and belongs to the worker; anyone else learns nothing about it (404).
store::OfferRow owned_offer(soci::session& s, const std::string& offer_id, const std::string& worker_id) {
  auto offer = store::find_offer(s, offer_id);
  if (!offer || offer->worker_id != worker_id) throw http::not_found("offer");
  return *offer;
}

// Reads the offer, takes the task's lock, and reads the offer again: the second read sees whatever a
// concurrent accept/decline/withdraw of the same task committed before we got the lock.
store::OfferRow locked_offer(soci::session& s, const std::string& offer_id, const std::string& worker_id) {
  const auto first = owned_offer(s, offer_id, worker_id);
  store::lock_task(s, first.task_id);
  return owned_offer(s, offer_id, worker_id);
}

store::TaskRow task_of_offer(soci::session& s, const store::OfferRow& offer) {
  auto task = store::find_task(s, offer.task_id);
  if (!task) throw std::logic_error("offer " + offer.id + " refers to unknown task " + offer.task_id);
  return *task;
}

store::AssignmentRow new_assignment(const store::OfferRow& offer, const store::TaskRow& task, std::int64_t now_ms) {
  store::AssignmentRow a;
  a.id = ids::make("asg");
  a.offer_id = offer.id;
  a.task_id = task.profile.id;
  a.enterprise_id = task.enterprise_id;
  a.worker_id = offer.worker_id;
  a.units = kUnitsPerOffer;
  a.pay_per_unit_fen = task.pay_per_unit_fen;
  a.amount_fen = a.units * task.pay_per_unit_fen;
  a.currency = task.currency;
  a.status = AssignmentStatus::active;
  a.created_at_ms = a.updated_at_ms = now_ms;
  a.title = task.title;
  a.category = task.category;
  a.deadline_ms = task.deadline_ms;
  a.review_window_s = task.review_window_s;
  return a;
}

// The offer is pending and live, and the task is locked: take one unit or refuse.
Outcome take_unit(soci::session& s, const store::OfferRow& offer, std::int64_t now_ms) {
  const auto task = task_of_offer(s, offer);
  const TaskGate gate = task_gate(task.is_open, task.deadline_ms, task.units_assigned, task.units_total, now_ms);
  if (gate != TaskGate::open || !store::claim_unit(s, task.profile.id)) {
    store::decide_offer(s, offer.id, OfferStatus::withdrawn, now_ms);
    return Outcome::fail(gate_problem(gate == TaskGate::open ? TaskGate::full : gate));
  }
  const auto a = new_assignment(offer, task, now_ms);
  if (!store::decide_offer(s, offer.id, OfferStatus::accepted, now_ms, a.id)) {
    // Only a sweep on another instance with a clock ahead of ours can get here: roll back, retry.
    throw http::conflict("The offer changed while it was being accepted; retry.");
  }
  store::insert_assignment(s, a);
  store::add_load(s, a.worker_id, +1);
  events::publish(s, "assignment.created", a.id, assignment_created_data(a));
  if (task.units_assigned + 1 >= task.units_total) store::withdraw_pending_offers(s, task.profile.id, now_ms);
  return Outcome::ok(201, assignment_json(a));
}

}  // namespace

Outcome accept_offer(soci::session& s, const std::string& offer_id, const std::string& worker_id, std::int64_t now_ms) {
  const auto offer = locked_offer(s, offer_id, worker_id);
  switch (accept_step(offer.status, offer.expires_at_ms, now_ms)) {
    case AcceptStep::take_unit:
      return take_unit(s, offer, now_ms);
    case AcceptStep::replay: {
      auto a = store::find_assignment_by_offer(s, offer.id);
      if (!a) throw std::logic_error("accepted offer " + offer.id + " has no assignment");
      return Outcome::ok(200, assignment_json(*a));
    }
    case AcceptStep::expired:
      store::decide_offer(s, offer.id, OfferStatus::expired, now_ms);
      return Outcome::fail(offer_expired());
    case AcceptStep::declined:
      return Outcome::fail(http::Problem(409, "offer-declined", "Offer declined", "The offer was declined."));
    case AcceptStep::withdrawn: {
      // Say why when the task is the reason; a unit that came back since may be offered anew.
      const auto task = task_of_offer(s, offer);
      const auto gate = task_gate(task.is_open, task.deadline_ms, task.units_assigned, task.units_total, now_ms);
      if (gate == TaskGate::open) return Outcome::fail(offer_withdrawn());
      return Outcome::fail(gate_problem(gate));
    }
  }
  throw std::logic_error("unhandled accept step");
}

Outcome decline_offer(soci::session& s, const std::string& offer_id, const std::string& worker_id, const Settings& cfg,
                      std::int64_t now_ms) {
  const auto offer = locked_offer(s, offer_id, worker_id);
  switch (decline_step(offer.status, offer.expires_at_ms, now_ms)) {
    case DeclineStep::decline:
      break;
    case DeclineStep::replay:
      return Outcome::ok(200, offer_json(offer));
    case DeclineStep::expired:
      store::decide_offer(s, offer.id, OfferStatus::expired, now_ms);
      return Outcome::fail(offer_expired());
    case DeclineStep::accepted:
      return Outcome::fail(
          http::Problem(409, "offer-accepted", "Offer accepted", "An accepted offer cannot be declined."));
    case DeclineStep::withdrawn:
      return Outcome::fail(offer_withdrawn());
  }
  if (!store::decide_offer(s, offer.id, OfferStatus::declined, now_ms)) {
    throw http::conflict("The offer changed while it was being declined; retry.");
  }
  offer_round(s, offer.task_id, cfg, now_ms);
  return Outcome::ok(200, offer_json(owned_offer(s, offer_id, worker_id)));
}

}  // namespace crowd::matching
