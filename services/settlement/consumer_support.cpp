#include "services/settlement/consumer_support.hpp"

#include <soci/soci.h>

#include <stdexcept>

#include "common/log.hpp"
#include "services/settlement/consumers.hpp"
#include "services/settlement/ledger.hpp"

namespace crowd::settlement::detail {

// Reads a required member of an event's data; a missing or mistyped one is the producer's contract
// breach (std::invalid_argument: retried, then dead-lettered).
std::string str_of(const events::Event& e, const char* name) {
  const auto it = e.data.find(name);
  if (it == e.data.end() || !it->is_string()) {
    throw std::invalid_argument(e.type + " " + e.id + ": data." + name + " must be a string");
  }
  return it->get<std::string>();
}

std::int64_t int_of(const events::Event& e, const char* name) {
  const auto it = e.data.find(name);
  if (it == e.data.end() || !it->is_number_integer()) {
    throw std::invalid_argument(e.type + " " + e.id + ": data." + name + " must be an integer");
  }
  return it->get<std::int64_t>();
}

// A refusal to apply an event whose data contradicts what settlement holds: logged loudly, then thrown so
// the event stays pending, is retried (the state may catch up) and is finally dead-lettered for an operator.
[[noreturn]] void refuse(const events::Event& e, const std::string& why) {
  log::error("settlement refuses event", {{"event_id", e.id}, {"type", e.type}, {"key", e.key}, {"reason", why}});
  throw events::Refusal(e.type + " " + e.id + " refused: " + why);
}

// Not a contradiction but an event that overtook the one it needs (from another stream): a transient
// failure, retried with backoff for as long as it takes and never dead-lettered, so a slow producer cannot
// park the money of a cancellation for an operator.
[[noreturn]] void wait_for(const events::Event& e, const std::string& why) {
  log::warn("settlement waits for an earlier event", {{"event_id", e.id}, {"type", e.type}, {"reason", why}});
  throw WaitingForEvent(e.type + " " + e.id + " waits: " + why);
}

// ---- Two-phase escrow (rules.hpp, 003_escrow_reservations.sql) ----

// What an assignment holds, from any event that names it. amount_fen is taken from the event when it carries
// it (assignment.created, delivery.accepted, dispute.resolved), else units × the escrow's pay (rejections,
// expiries and releases do not carry it). worker_id is "" for a release (matching's event does not name one).
ReserveRequest reserve_request_of(const events::Event& e, const std::string& assignment_id, std::int64_t units,
                                  const std::string& worker_id, const std::optional<EscrowState>& escrow) {
  ReserveRequest r;
  r.assignment_id = assignment_id;
  r.task_id = str_of(e, "task_id");
  r.enterprise_id = str_of(e, "enterprise_id");
  r.worker_id = worker_id;
  r.units = units;
  if (e.data.contains("amount_fen")) {
    r.amount_fen = int_of(e, "amount_fen");
  } else if (escrow) {
    r.amount_fen = checked_mul(units, escrow->pay_per_unit_fen).value_or(-1);
  }
  return r;
}

// A reservation's figures against the event's: a contradiction is refused. A release names no worker, and a
// tombstone written from one stores none: the worker is compared only when both sides know it.
void check_same_assignment(const events::Event& e, const Reservation& known, ReserveRequest r) {
  if (r.worker_id.empty() || known.worker_id.empty()) r.worker_id = known.worker_id;
  if (auto problem = reservation_mismatch(known, r)) refuse(e, *problem);
}

// The row of an assignment's reservation, from the figures of the event that names it.
Reservation reservation_of(const ReserveRequest& r, const std::string& status) {
  Reservation x;
  x.assignment_id = r.assignment_id;
  x.task_id = r.task_id;
  x.enterprise_id = r.enterprise_id;
  x.worker_id = r.worker_id;
  x.units = r.units;
  x.amount_fen = r.amount_fen;
  x.status = status;
  return x;
}

// Reserves the assignment's share now: "rsv:{asg}" from the task escrow to asg:{asg}:reserved, and the row.
// Only money no other assignment reserved may be taken (reserve_problem against the task escrow's balance,
// which holds exactly the unreserved money; the conditional debit in transfer() is the guard).
Reservation reserve(soci::session& s, const events::Event& e, const EscrowState& escrow, const ReserveRequest& r) {
  const std::string escrow_account = task_escrow(r.task_id);
  if (auto problem = reserve_problem(escrow, r, balance_of(s, escrow_account))) refuse(e, *problem);
  const std::string transfer_id = reserve_transfer_id(r.assignment_id);
  if (transfer(s, transfer_id, escrow_account, assignment_reserved(r.assignment_id), r.amount_fen, "escrow_reserve",
               r.task_id) == Applied::duplicate) {
    // The transfer and the row are written together: only a concurrent writer (PostgreSQL, several
    // instances) gets here. Retried, the row is then found.
    throw std::runtime_error("transfer " + transfer_id + " was written concurrently; the event will be retried");
  }
  Reservation x = reservation_of(r, kReserved);
  insert_reservation(s, x);
  return x;
}

// Voids an assignment's reservation: "void:{asg}" back to the task escrow (the unit is free again, or is
// released next by the caller). `why`: rejected, expired or released. Idempotent: voided already → nothing.
// Refused: a reservation posted (settled or ruled), or a settlement of the assignment from before 003.
// Nothing reserved yet (the void overtook assignment.created): reserve + void when the task escrow holds the
// money, else the row alone (a tombstone; the escrow's unreserved money is lent to another assignment until
// its own void arrives). Either way the late assignment.created finds the row and does nothing.
void void_reservation(soci::session& s, const events::Event& e, const EscrowState& escrow, const ReserveRequest& r,
                      const std::string& why) {
  if (auto known = load_reservation(s, r.assignment_id)) {
    check_same_assignment(e, *known, r);
    if (known->status == kVoided) return;
    if (known->status != kReserved) {
      refuse(e, "assignment " + r.assignment_id + " was settled (" + known->ended_by + "); it cannot be voided");
    }
    transfer(s, void_transfer_id(r.assignment_id), assignment_reserved(r.assignment_id), task_escrow(r.task_id),
             known->amount_fen, "escrow_void", r.task_id);
    known->status = kVoided;
    known->ended_by = why;
    end_reservation(s, *known);
    return;
  }
  if (find_settlement_by_assignment(s, r.assignment_id)) {
    refuse(e, "assignment " + r.assignment_id + " was settled; it cannot be voided");
  }
  if (auto problem = assignment_figures_problem(escrow, r)) refuse(e, *problem);
  Reservation x = reservation_of(r, kVoided);
  x.ended_by = why;
  const std::string escrow_account = task_escrow(r.task_id);
  x.moved_money =
      escrow.status == "held" && r.units <= escrow.units_open() && r.amount_fen <= balance_of(s, escrow_account);
  if (x.moved_money) {
    const std::string reserved = assignment_reserved(r.assignment_id);
    transfer(s, reserve_transfer_id(r.assignment_id), escrow_account, reserved, r.amount_fen, "escrow_reserve",
             r.task_id);
    transfer(s, void_transfer_id(r.assignment_id), reserved, escrow_account, r.amount_fen, "escrow_void", r.task_id);
  }
  insert_reservation(s, x);
}

}  // namespace crowd::settlement::detail
