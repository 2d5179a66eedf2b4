// The values settlement works on: the rows it loads (an escrow, a reservation) and the events as it reads them
// (a hold, an acceptance, a ruling, an assignment's figures), with their statuses as enums. The strings of the
// database ("held", "posted", ...) are converted at the store's boundary (store.cpp) and nowhere else. No I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crowd::settlement {

// An escrow's status: held, rejected (the hold failed for want of funds; a later task.created may try again),
// closed (every unit settled or released).
enum class EscrowStatus { held, rejected, closed };
// An assignment's reservation (two-phase escrow): reserved until it ends once, posted (acceptance or ruling)
// or voided (rejected, expired, released).
enum class ReservationStatus { reserved, posted, voided };

const char* to_string(EscrowStatus s);
const char* to_string(ReservationStatus s);
// The database's text of a status; std::logic_error for any other text (a corrupted row).
EscrowStatus escrow_status_of(std::string_view text);
ReservationStatus reservation_status_of(std::string_view text);

// One task's escrow as stored in the escrows table.
struct EscrowState {
  std::string task_id;
  std::string enterprise_id;
  std::string category;
  EscrowStatus status = EscrowStatus::held;
  std::int64_t pay_per_unit_fen = 0;
  std::int64_t units_total = 0;
  std::int64_t units_settled = 0;
  std::int64_t units_released = 0;
  std::int64_t held_fen = 0;
  std::int64_t settled_fen = 0;
  std::int64_t released_fen = 0;

  std::int64_t remaining_fen() const { return held_fen - settled_fen - released_fen; }
  std::int64_t units_open() const { return units_total - units_settled - units_released; }
};

// task.created as settlement reads it.
struct HoldRequest {
  std::string task_id;
  std::string enterprise_id;
  std::string category;
  std::string title;
  std::string currency;
  std::int64_t units = 0;
  std::int64_t pay_per_unit_fen = 0;
  std::int64_t budget_fen = 0;
};

// delivery.accepted as settlement reads it.
struct Acceptance {
  std::string submission_id;
  std::string assignment_id;
  std::string task_id;
  std::string enterprise_id;
  std::string worker_id;
  std::string category;
  std::string title;
  std::string currency;
  std::int64_t units = 0;
  std::int64_t amount_fen = 0;
  std::int64_t accepted_at_ms = 0;
};

// How one settled amount splits. Pair assertions: amount = fee + worker_gross, worker_gross = iit + net,
// every part >= 0.
struct Split {
  std::int64_t amount_fen = 0;
  std::int64_t fee_fen = 0;
  std::int64_t worker_gross_fen = 0;
  std::int64_t iit_fen = 0;
  std::int64_t net_fen = 0;
};
// ---- Two-phase escrow per assignment (schemas/sql/settlement/003_escrow_reservations.sql, rules.hpp) ----
struct Reservation {
  std::string assignment_id;
  std::string task_id;
  std::string enterprise_id;
  std::string worker_id;
  std::int64_t units = 0;
  std::int64_t amount_fen = 0;
  ReservationStatus status = ReservationStatus::reserved;
  std::string ended_by;       // "" while reserved; acceptance | ruling | rejected | expired | released
  bool moved_money = true;    // false: a tombstone (a void came first and the escrow could not lend the money)
  std::string settlement_id;  // acceptance, or a ruling with a worker share
  std::string dispute_id;     // ruling
  std::int64_t refund_fen = 0;
};

// What an event says an assignment holds (assignment.created, or an acceptance, ruling or void that came first).
struct ReserveRequest {
  std::string assignment_id;
  std::string task_id;
  std::string enterprise_id;
  std::string worker_id;
  std::int64_t units = 0;
  std::int64_t amount_fen = 0;
};
// What an event names of one assignment: amount_fen when the event carries it (assignment.created,
// delivery.accepted, dispute.resolved); worker_id "" for a release (matching's event names no worker).
struct AssignmentFigures {
  std::string assignment_id;
  std::string task_id;
  std::string enterprise_id;
  std::string worker_id;
  std::int64_t units = 0;
  std::optional<std::int64_t> amount_fen;
};
// dispute.resolved as settlement reads it (schemas/events/dispute.resolved.schema.json).
struct Ruling {
  std::string dispute_id;
  std::string assignment_id;
  std::string task_id;
  std::string enterprise_id;
  std::string worker_id;
  std::string operator_id;
  std::int64_t units = 0;
  std::int64_t amount_fen = 0;        // the assignment's reserved amount (units × pay)
  std::int64_t worker_share_fen = 0;  // 0..amount_fen: split and taxed like pay; the rest is refunded
  std::int64_t resolved_at_ms = 0;
};
// A settlement of one assignment (an accepted delivery, or the worker's share of a ruling).
struct SettlementRecord {
  std::string id;
  std::string assignment_id;
  std::string submission_id;
  std::string task_id;
  std::string enterprise_id;
  std::string worker_id;
  std::string category;
  std::string title;
  std::int64_t units = 0;
  Split split;
  std::string currency = "CNY";
  int tax_year = 0;
  int tax_month = 0;
  std::string computation;  // JSON text of the IIT computation
  std::int64_t accepted_at_ms = 0;
  std::int64_t settled_at_ms = 0;
  std::string kind = "acceptance";  // or "ruling" (003: the worker's share of a dispute ruling)
  std::string dispute_id;           // a ruling's dispute ("" for an acceptance)
};

// A worker's cumulation for one tax year; nullopt before the year's first settlement.
struct IitYearRow {
  int year = 0;
  std::int64_t cum_income_fen = 0;
  std::int64_t cum_withheld_fen = 0;
  int consecutive_months = 0;
  int last_month = 0;
};
}  // namespace crowd::settlement
