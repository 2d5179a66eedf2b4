// Rows of the settlement database other than the ledger's own (ledger.hpp): escrows, settlements, IIT
// year states, deposits. Every function runs inside the caller's session/transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "services/settlement/rules.hpp"

namespace soci {
class session;
}

namespace crowd::settlement {

std::optional<EscrowState> load_escrow(soci::session& s, const std::string& task_id);
// Inserts a new escrow row (status held with held_fen, or rejected with 0), or, for a task whose earlier
// hold was rejected, turns that row into the new outcome. Throws when a held/closed row exists.
void save_hold_outcome(soci::session& s, const HoldRequest& h, EscrowStatus outcome, std::int64_t held_fen,
                       const std::string& hold_transfer_id);
// Adds released units and money (one release of possibly several; release_transfer_id keeps the latest);
// the escrow's status becomes closed when no unit is left. Conditional on units_released being unchanged.
void add_released(soci::session& s, const EscrowState& before, std::int64_t units, std::int64_t amount_fen,
                  const std::string& transfer_id);
// Adds settled units and money (conditional on the units still being open: throws otherwise).
void add_settled(soci::session& s, const EscrowState& before, std::int64_t units, std::int64_t amount_fen);

std::optional<SettlementRecord> find_settlement(soci::session& s, const std::string& id);
std::optional<SettlementRecord> find_settlement_by_assignment(soci::session& s, const std::string& assignment_id);
// Settlements of a task in id order after `after_id` (""), at most `limit`; only the worker's when
// worker_id is set.
std::vector<SettlementRecord> settlements_of_task(soci::session& s, const std::string& task_id,
                                                  const std::optional<std::string>& worker_id,
                                                  const std::string& after_id, int limit);
std::vector<SettlementRecord> settlements_of_worker(soci::session& s, const std::string& worker_id,
                                                    std::int64_t from_ms, std::int64_t to_ms);
// Plain INSERT: a second settlement of the same assignment fails on the unique constraint.
void insert_settlement(soci::session& s, const SettlementRecord& r);

// The task's title as task.created gave it ("" without an escrow).
std::string escrow_title(soci::session& s, const std::string& task_id);
// A ruling's settlement row: insert_settlement writes the acceptance default, this marks it (same
// transaction). Throws unless exactly that row changed.
void mark_settlement_ruling(soci::session& s, const std::string& settlement_id, const std::string& dispute_id);

// ---- Reservations (two-phase escrow per assignment, rules.hpp) ----
std::optional<Reservation> load_reservation(soci::session& s, const std::string& assignment_id);
// Plain INSERT (a concurrent writer of the same assignment fails on the primary key and is retried).
void insert_reservation(soci::session& s, const Reservation& r);
// reserved → posted|voided, with what ended it; conditional on the row still being reserved (throws
// otherwise: the caller's transaction rolls back and the event is retried).
void end_reservation(soci::session& s, const Reservation& after);
// A ruling's escrow counters: units settled += units, settled_fen += the worker's share, released_fen +=
// the refund (conditional on units_settled being unchanged, like add_settled).
void add_ruled(soci::session& s, const EscrowState& before, std::int64_t units, std::int64_t share_fen,
               std::int64_t refund_fen);

std::optional<IitYearRow> load_iit_year(soci::session& s, const std::string& worker_id, int year);
// Inserts (before absent) or updates only if the row still equals `before` (optimistic: a concurrent
// settlement of the same worker makes this throw, and the event is retried).
void save_iit_year(soci::session& s, const std::string& worker_id, const std::optional<IitYearRow>& before,
                   const IitYearRow& after);

// The money of an enterprise's tasks still in escrow (task escrows and open reservations).
std::int64_t escrow_total_of(soci::session& s, const std::string& enterprise_id);

struct DepositRecord {
  std::string id;
  std::string enterprise_id;
  std::string idempotency_key;
  std::int64_t amount_fen = 0;
  std::string provider = "sandbox";
  std::string status = "completed";
  std::string transfer_id;
  std::int64_t created_at_ms = 0;
};
void insert_deposit(soci::session& s, const DepositRecord& d);

// An offer matching made (offer.created), as settlement keeps it for the net pay preview.
struct OfferRecord {
  std::string offer_id;
  std::string task_id;
  std::string enterprise_id;
  std::string worker_id;
  std::int64_t units = 0;
  std::int64_t pay_per_unit_fen = 0;
  std::int64_t amount_fen = 0;
  std::string currency = "CNY";
  std::string category;
  std::int64_t expires_at_ms = 0;
  std::int64_t received_at_ms = 0;
};
// INSERT ... ON CONFLICT (offer_id) DO NOTHING: false when the offer was already recorded.
bool insert_offer(soci::session& s, const OfferRecord& o);
std::optional<OfferRecord> find_offer(soci::session& s, const std::string& offer_id);

// An invoice invoicing issued (invoice.issued), kept for the enterprise's statement.
struct InvoiceSeen {
  std::string invoice_id;
  std::string number;
  std::string enterprise_id;
  std::string settlement_id;
  std::int64_t total_fen = 0;
  std::int64_t issued_at_ms = 0;
};
// Once per invoice id (a repeat inserts nothing).
void insert_invoice_seen(soci::session& s, const InvoiceSeen& i);

// Whether the reconciliation of `day` (YYYY-MM-DD, CST) was stored (reconcile.hpp).
bool reconciliation_exists(soci::session& s, const std::string& day);

}  // namespace crowd::settlement
