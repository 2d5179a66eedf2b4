// The pure core of settlement: what an escrow may do, how an accepted delivery's money is split into
// linked transfers, and statement periods. No I/O here; the consumers and handlers load state, call these
// and write the result.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "services/settlement/fees.hpp"
#include "services/settlement/iit.hpp"
#include "services/settlement/ledger.hpp"
#include "services/settlement/model.hpp"

namespace crowd::settlement {

// The status after units were settled or released: closed when no unit is left.
EscrowStatus status_after(const EscrowState& e);

// nullopt when the request is well formed (units > 0, pay > 0, budget = units × pay, CNY); else why not.
// A malformed request is a contract breach by the producer: it is retried and then dead-lettered.
std::optional<std::string> hold_request_problem(const HoldRequest& h);

// task.units_released: why the escrow cannot release `units` (nullopt when it can): the escrow must be
// held and still hold that many units and their money unsettled and unreleased.
std::optional<std::string> release_problem(const EscrowState& e, std::int64_t units);

// A release of escrow is named by the event's release_id, once per task and id:
//   "cancel"            matching's answer to a cancel request (and tasks' task.cancelled for a task that
//                       never opened: the same id, so the two can never both pay out);
//   "asg:{assignment}"  the units of one assignment that came back to a cancelled task.
inline constexpr const char* kCancelReleaseId = "cancel";
// nullopt when release_id is one of the above (assignment id non-empty, ≤ 100 characters, no ':' or space).
std::optional<std::string> release_id_problem(const std::string& release_id);
// "release:{task_id}:{release_id}": the ledger transfer id, which makes each release happen once.
std::string release_transfer_id(const std::string& task_id, const std::string& release_id);
// The assignment of an "asg:" release; nullopt for "cancel".
std::optional<std::string> released_assignment(const std::string& release_id);

// offer.created as settlement reads it (see OfferRecord in store.hpp): nullopt when well formed (ids
// non-empty without ':', units > 0, pay > 0, amount = units × pay, CNY); else why not.
struct OfferTerms {
  std::string offer_id;
  std::string task_id;
  std::string enterprise_id;
  std::string worker_id;
  std::string currency;
  std::int64_t units = 0;
  std::int64_t pay_per_unit_fen = 0;
  std::int64_t amount_fen = 0;
};
std::optional<std::string> offer_problem(const OfferTerms& o);

// Why the escrow cannot pay this acceptance (nullopt when it can): the escrow must be held for the same
// task and enterprise, amount = units × pay per unit, the units and the money must still be in escrow.
std::optional<std::string> settlement_problem(const EscrowState& e, const Acceptance& a);

// Throws std::logic_error when fee is outside [0, amount] or iit outside [0, amount − fee].
Split split_amount(std::int64_t amount_fen, std::int64_t fee_fen, std::int64_t iit_fen);

// THE computation of what a worker is paid for one settled amount, shared by the settlement of an accepted
// delivery and the net pay preview of an offer (so the preview is the settlement's figures, not a copy of
// its arithmetic): fee = platform_fee(category, amount); worker gross = amount − fee; IIT withheld on the
// gross by the cumulative method for tax month year/month (CST) from the worker's state `tax_before`; net =
// gross − IIT. `tax_before` is only read: the state after the payment comes back in tax_after, and the
// caller decides whether to store it (settlement) or not (preview).
struct Payout {
  Split split;
  domain::FeeQuote fee;  // how split.fee_fen came about (the rule's minimum, the cap on its share)
  int tax_year = 0;
  int tax_month = 0;
  bool withholds = false;                     // gross > 0: the payment enters the worker's IIT cumulation
  domain::IitYearState tax_after;             // the state after this payment (= tax_before when !withholds)
  std::optional<domain::IitComputation> iit;  // the IIT computation (audit evidence); none when !withholds

  // The computation as stored and shown: IitComputation::to_json() plus "method": "cumulative"; null
  // when nothing is withheld. computation_text() is computation_json().dump(), written directly (hot path).
  nlohmann::json computation_json() const;
  std::string computation_text() const;
};
// Throws std::invalid_argument for an unknown category, an amount <= 0, or a month earlier than the state's
// (withhold_cumulative's rules); std::logic_error when the split breaks its pair assertions.
Payout compute_payout(const std::string& category, std::int64_t amount_fen, const domain::IitYearState& tax_before,
                      int tax_year, int tax_month);
// The same with the fee capped at fee_max_share_bp of the amount instead of the configured share (fees.hpp).
Payout compute_payout(const std::string& category, std::int64_t amount_fen, const domain::IitYearState& tax_before,
                      int tax_year, int tax_month, int fee_max_share_bp);

// The IIT year state the cumulative method reads (a default state, "nothing yet", for no row), and the row of
// a state.
domain::IitYearState iit_state_of(const std::optional<IitYearRow>& row);
IitYearRow iit_row_of(const domain::IitYearState& state);

// The linked transfers of one settlement, all leaving the task's escrow: "stl:{asg}:fee" → fee revenue,
// "stl:{asg}:iit" → IIT payable, "stl:{asg}:net" → the worker's payable. Zero amounts are left out.
// Their sum is split.amount_fen (checked with legs_problem).
std::vector<TransferSpec> settlement_legs(const std::string& assignment_id, const std::string& settlement_id,
                                          const std::string& task_id, const std::string& worker_id, const Split& split);

// The same legs leaving `from` instead of the task's escrow: with two-phase escrow they leave the
// assignment's reservation (asg:{asg}:reserved). Same ids, so an assignment is paid once whichever way.
std::vector<TransferSpec> settlement_legs_from(const std::string& from, const std::string& assignment_id,
                                               const std::string& settlement_id, const std::string& worker_id,
                                               const Split& split);

// ---- Two-phase escrow per assignment (schemas/sql/settlement/003_escrow_reservations.sql) ----
//
// assignment.created reserves the assignment's share of its task's escrow: "rsv:{asg}" task:{task}:escrow →
// asg:{asg}:reserved. It ends once: posted (acceptance: the settlement legs; ruling: the legs of the worker's
// share and "dsp:{asg}:refund" to the enterprise) or voided ("void:{asg}" back to the task escrow: rejected,
// expired, or released by matching after a cancel). Whatever comes first of assignment.created, acceptance,
// ruling and void creates the row; later ones compare their figures with it.
std::string reserve_transfer_id(const std::string& assignment_id);  // "rsv:{asg}"
std::string void_transfer_id(const std::string& assignment_id);     // "void:{asg}"
std::string refund_transfer_id(const std::string& assignment_id);   // "dsp:{asg}:refund"

// What the assignment holds: the event's amount, else units × the escrow's pay (-1 when that overflows or
// no escrow is known: refused by the checks below).
ReserveRequest reserve_request_of(const AssignmentFigures& f, const std::optional<EscrowState>& escrow);
// The row of an assignment's reservation, from the figures of the event that names it.
Reservation reservation_of(const ReserveRequest& r, ReservationStatus status);

// Figures that can describe an assignment at all (ids without ':', units > 0, amount = units × the escrow's
// pay, same task and enterprise as the escrow): nullopt when they do.
std::optional<std::string> assignment_figures_problem(const EscrowState& e, const ReserveRequest& r);
// Why the escrow cannot reserve this (nullopt when it can): the figures above, the escrow held, the units
// still open, and amount <= unreserved_fen (the task escrow account's balance: money no other assignment
// reserved and not released). A reservation never takes another assignment's money.
std::optional<std::string> reserve_problem(const EscrowState& e, const ReserveRequest& r, std::int64_t unreserved_fen);
// A known reservation against an event's figures: nullopt when they name the same thing (task, enterprise,
// worker, units, amount), else what differs (a contradiction: refused).
std::optional<std::string> reservation_mismatch(const Reservation& known, const ReserveRequest& r);

// nullopt when well formed (ids non-empty without ':', units > 0, amount > 0, 0 <= share <= amount).
std::optional<std::string> ruling_problem(const Ruling& r);

// A statement month in China Standard Time: [start_ms, end_ms).
struct Period {
  int year = 0;
  int month = 0;
  std::int64_t start_ms = 0;
  std::int64_t end_ms = 0;
  std::string label;  // "2026-11"
};
// Parses "YYYY-MM" (years 2000..2199); nullopt when malformed.
std::optional<Period> parse_period(const std::string& text);
// Milliseconds since the epoch of YYYY-MM-01 00:00 in UTC+8.
std::int64_t cst_month_start_ms(int year, int month);

// Per-account movement over a statement period, rebuilt from the transfers in it.
struct AccountMovement {
  std::string account;
  std::int64_t opening_fen = 0;
  std::int64_t credits_fen = 0;
  std::int64_t debits_fen = 0;
  std::int64_t closing_fen() const { return opening_fen + credits_fen - debits_fen; }
};
// Adds one transfer to the movements of the accounts in `movements` that it touches.
void apply_to_movements(std::vector<AccountMovement>& movements, const TransferSpec& t);

// An enterprise's view of its transfers: the legs of one settlement (kind settlement_*, same ref) become
// one line {id: settlement id, kind: "settlement", credit_account: ""} with their total, so the worker's
// tax withheld and net pay stay private to the worker. Order is kept (by the first leg).
std::vector<TransferSpec> merge_settlement_legs(const std::vector<TransferSpec>& transfers);

}  // namespace crowd::settlement
