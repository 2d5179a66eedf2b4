#include "services/settlement/store.hpp"

#include <soci/soci.h>

#include <stdexcept>

#include "common/clock.hpp"
#include "common/db.hpp"

namespace crowd::settlement {

using db::get_i64;
using db::get_str;

namespace {

// Throws when an UPDATE or INSERT did not touch exactly one row: the caller's transaction rolls back.
void expect_one_row(soci::statement& st, const std::string& what) {
  st.execute(true);
  if (st.get_affected_rows() != 1) throw std::runtime_error(what);
}
void expect_one_row(db::Prepared& st, const std::string& what) {
  if (st.affected_rows() != 1) throw std::runtime_error(what);
}

}  // namespace

namespace {

constexpr const char* kEscrowColumns =
    "task_id, enterprise_id, category, status, pay_per_unit_fen, units_total, units_settled, units_released, "
    "held_fen, settled_fen, released_fen";
const std::string kLoadEscrow = std::string("SELECT ") + kEscrowColumns + " FROM escrows WHERE task_id = :t";

EscrowState escrow_of(const soci::row& row) {
  db::RowReader r(row, db::column_count(kEscrowColumns));
  EscrowState e;
  e.task_id = r.str();
  e.enterprise_id = r.str();
  e.category = r.str();
  e.status = escrow_status_of(r.str());
  e.pay_per_unit_fen = r.i64();
  e.units_total = r.i64();
  e.units_settled = r.i64();
  e.units_released = r.i64();
  e.held_fen = r.i64();
  e.settled_fen = r.i64();
  e.released_fen = r.i64();
  r.done();
  return e;
}

}  // namespace

std::optional<EscrowState> load_escrow(soci::session& s, const std::string& task_id) {
  const soci::row* found = db::prepared(s, kLoadEscrow).run(task_id).row();
  if (found == nullptr) return std::nullopt;
  return escrow_of(*found);
}

void save_hold_outcome(soci::session& s, const HoldRequest& h, EscrowStatus outcome, std::int64_t held_fen,
                       const std::string& hold_transfer_id) {
  const std::string status = to_string(outcome);
  const long long now = clock::now_ms();
  const long long held = held_fen, pay = h.pay_per_unit_fen, units = h.units;
  const std::string account = task_escrow(h.task_id);
  soci::indicator transfer_ind = hold_transfer_id.empty() ? soci::i_null : soci::i_ok;
  if (load_escrow(s, h.task_id)) {
    // Only a rejected hold may be tried again.
    soci::statement st =
        (s.prepare << "UPDATE escrows SET status = :st, held_fen = :h, hold_transfer_id = :tr, category = :c, "
                      "title = :ti, pay_per_unit_fen = :p, units_total = :u, updated_at_ms = :now "
                      "WHERE task_id = :t AND status = 'rejected'",
         soci::use(status), soci::use(held), soci::use(hold_transfer_id, transfer_ind), soci::use(h.category),
         soci::use(h.title), soci::use(pay), soci::use(units), soci::use(now), soci::use(h.task_id));
    expect_one_row(st, "escrow of " + h.task_id + " is not in state rejected");
    return;
  }
  const std::optional<std::string> transfer =
      hold_transfer_id.empty() ? std::nullopt : std::optional<std::string>(hold_transfer_id);
  db::prepared(s,
               "INSERT INTO escrows (task_id, enterprise_id, account_id, category, title, pay_per_unit_fen, "
               "units_total, held_fen, status, hold_transfer_id, created_at_ms, updated_at_ms) "
               "VALUES (:t, :e, :a, :c, :ti, :p, :u, :h, :st, :tr, :now, :now2)")
      .run(h.task_id, h.enterprise_id, account, h.category, h.title, pay, units, held, status, transfer, now, now);
}

void add_released(soci::session& s, const EscrowState& before, std::int64_t units, std::int64_t amount_fen,
                  const std::string& transfer_id) {
  EscrowState after = before;
  after.units_released += units;
  after.released_fen += amount_fen;
  const long long u = units, a = amount_fen, now = clock::now_ms(), before_units = before.units_released;
  const std::string status = to_string(status_after(after));
  auto& st = db::prepared(s,
                          "UPDATE escrows SET units_released = units_released + :u, released_fen = released_fen + :a, "
                          "status = :st, release_transfer_id = :tr, updated_at_ms = :now "
                          "WHERE task_id = :t AND units_released = :b")
                 .run(u, a, status, transfer_id, now, before.task_id, before_units);
  expect_one_row(st, "escrow of " + before.task_id + " changed concurrently (release)");
}

void add_settled(soci::session& s, const EscrowState& before, std::int64_t units, std::int64_t amount_fen) {
  EscrowState after = before;
  after.units_settled += units;
  after.settled_fen += amount_fen;
  const long long u = units, a = amount_fen, now = clock::now_ms(), before_units = before.units_settled;
  const std::string status = to_string(status_after(after));
  auto& st = db::prepared(s,
                          "UPDATE escrows SET units_settled = units_settled + :u, settled_fen = settled_fen + :a, "
                          "status = :st, updated_at_ms = :now WHERE task_id = :t AND units_settled = :b")
                 .run(u, a, status, now, before.task_id, before_units);
  expect_one_row(st, "escrow of " + before.task_id + " changed concurrently (settle)");
}

namespace {

constexpr const char* kSettlementList =
    "id, assignment_id, submission_id, task_id, enterprise_id, worker_id, category, title, units, amount_fen, "
    "fee_fen, worker_gross_fen, iit_fen, net_fen, currency, tax_year, tax_month, computation, accepted_at_ms, "
    "settled_at_ms, kind, dispute_id";
const std::string kSettlementColumns = std::string("SELECT ") + kSettlementList + " FROM settlements ";

SettlementRecord settlement_of(const soci::row& row) {
  db::RowReader r(row, db::column_count(kSettlementList));
  SettlementRecord x;
  x.id = r.str();
  x.assignment_id = r.str();
  x.submission_id = r.str();
  x.task_id = r.str();
  x.enterprise_id = r.str();
  x.worker_id = r.str();
  x.category = r.str();
  x.title = r.str();
  x.units = r.i64();
  x.split.amount_fen = r.i64();
  x.split.fee_fen = r.i64();
  x.split.worker_gross_fen = r.i64();
  x.split.iit_fen = r.i64();
  x.split.net_fen = r.i64();
  x.currency = r.str();
  x.tax_year = r.i32();
  x.tax_month = r.i32();
  x.computation = r.str();
  x.accepted_at_ms = r.i64();
  x.settled_at_ms = r.i64();
  x.kind = r.str();
  x.dispute_id = r.opt_str().value_or("");
  r.done();
  return x;
}

std::optional<SettlementRecord> first_settlement(soci::session& s, const std::string& where, const std::string& v) {
  const soci::row* r = db::prepared(s, kSettlementColumns + where).run(v).row();
  if (r == nullptr) return std::nullopt;
  return settlement_of(*r);
}

}  // namespace

std::optional<SettlementRecord> find_settlement(soci::session& s, const std::string& id) {
  return first_settlement(s, "WHERE id = :v", id);
}

std::optional<SettlementRecord> find_settlement_by_assignment(soci::session& s, const std::string& assignment_id) {
  return first_settlement(s, "WHERE assignment_id = :v", assignment_id);
}

std::vector<SettlementRecord> settlements_of_task(soci::session& s, const std::string& task_id,
                                                  const std::optional<std::string>& worker_id,
                                                  const std::string& after_id, int limit) {
  std::vector<SettlementRecord> out;
  const std::string worker = worker_id.value_or("");
  const int only_worker = worker_id ? 1 : 0;
  soci::rowset<soci::row> rows =
      (s.prepare << kSettlementColumns +
                        "WHERE task_id = :t AND id > :after AND (:ow = 0 OR worker_id = :w) ORDER BY id LIMIT :lim",
       soci::use(task_id), soci::use(after_id), soci::use(only_worker), soci::use(worker), soci::use(limit));
  for (const auto& r : rows) out.push_back(settlement_of(r));
  return out;
}

std::vector<SettlementRecord> settlements_of_worker(soci::session& s, const std::string& worker_id,
                                                    std::int64_t from_ms, std::int64_t to_ms) {
  std::vector<SettlementRecord> out;
  const long long from = from_ms, to = to_ms;
  soci::rowset<soci::row> rows =
      (s.prepare
           << kSettlementColumns +
                  "WHERE worker_id = :w AND settled_at_ms >= :f AND settled_at_ms < :t ORDER BY settled_at_ms, id",
       soci::use(worker_id), soci::use(from), soci::use(to));
  for (const auto& r : rows) out.push_back(settlement_of(r));
  return out;
}

void insert_settlement(soci::session& s, const SettlementRecord& r) {
  const long long units = r.units, amount = r.split.amount_fen, fee = r.split.fee_fen, gross = r.split.worker_gross_fen,
                  iit = r.split.iit_fen, net = r.split.net_fen, accepted = r.accepted_at_ms, settled = r.settled_at_ms;
  db::prepared(s,
               "INSERT INTO settlements (id, assignment_id, submission_id, task_id, enterprise_id, worker_id, "
               "category, title, units, amount_fen, fee_fen, worker_gross_fen, iit_fen, net_fen, currency, tax_year, "
               "tax_month, computation, accepted_at_ms, settled_at_ms) VALUES (:id, :asg, :sub, :t, :e, :w, :c, :ti, "
               ":u, :a, :f, :g, :i, :n, :cur, :y, :m, :comp, :acc, :set)")
      .run(r.id, r.assignment_id, r.submission_id, r.task_id, r.enterprise_id, r.worker_id, r.category, r.title, units,
           amount, fee, gross, iit, net, r.currency, r.tax_year, r.tax_month, r.computation, accepted, settled);
}

std::string escrow_title(soci::session& s, const std::string& task_id) {
  soci::rowset<soci::row> rows = (s.prepare << "SELECT title FROM escrows WHERE task_id = :t", soci::use(task_id));
  for (const auto& r : rows) return get_str(r, 0);
  return "";
}

void mark_settlement_ruling(soci::session& s, const std::string& settlement_id, const std::string& dispute_id) {
  soci::statement st = (s.prepare << "UPDATE settlements SET kind = 'ruling', dispute_id = :d WHERE id = :id",
                        soci::use(dispute_id), soci::use(settlement_id));
  expect_one_row(st, "settlement " + settlement_id + " vanished");
}

namespace {

constexpr const char* kReservationColumns =
    "assignment_id, task_id, enterprise_id, worker_id, units, amount_fen, status, ended_by, moved_money, "
    "settlement_id, dispute_id, refund_fen";
const std::string kLoadReservation =
    std::string("SELECT ") + kReservationColumns + " FROM reservations WHERE assignment_id = :a";

Reservation reservation_row(const soci::row& row) {
  db::RowReader r(row, db::column_count(kReservationColumns));
  Reservation x;
  x.assignment_id = r.str();
  x.task_id = r.str();
  x.enterprise_id = r.str();
  x.worker_id = r.str();
  x.units = r.i64();
  x.amount_fen = r.i64();
  x.status = reservation_status_of(r.str());
  x.ended_by = r.opt_str().value_or("");
  x.moved_money = r.flag();
  x.settlement_id = r.opt_str().value_or("");
  x.dispute_id = r.opt_str().value_or("");
  x.refund_fen = r.i64();
  r.done();
  return x;
}

}  // namespace

std::optional<Reservation> load_reservation(soci::session& s, const std::string& assignment_id) {
  const soci::row* found = db::prepared(s, kLoadReservation).run(assignment_id).row();
  if (found == nullptr) return std::nullopt;
  return reservation_row(*found);
}

namespace {

std::optional<std::string> null_if_empty(const std::string& v) {
  return v.empty() ? std::nullopt : std::optional<std::string>(v);
}

}  // namespace

void insert_reservation(soci::session& s, const Reservation& r) {
  db::prepared(s,
               "INSERT INTO reservations (assignment_id, task_id, enterprise_id, worker_id, account_id, units, "
               "amount_fen, status, ended_by, moved_money, settlement_id, dispute_id, refund_fen, created_at_ms, "
               "updated_at_ms) VALUES (:a, :t, :e, :w, :acc, :u, :amt, :st, :end, :mv, :stl, :d, :rf, :now, :now2)")
      .run(r.assignment_id, r.task_id, r.enterprise_id, r.worker_id, assignment_reserved(r.assignment_id), r.units,
           r.amount_fen, std::string(to_string(r.status)), null_if_empty(r.ended_by), r.moved_money ? 1 : 0,
           null_if_empty(r.settlement_id), null_if_empty(r.dispute_id), r.refund_fen, clock::now_ms(), clock::now_ms());
}

void end_reservation(soci::session& s, const Reservation& after) {
  auto& st =
      db::prepared(s,
                   "UPDATE reservations SET status = :st, ended_by = :end, settlement_id = :stl, dispute_id = "
                   ":d, refund_fen = :rf, updated_at_ms = :now WHERE assignment_id = :a AND status = 'reserved'")
          .run(std::string(to_string(after.status)), null_if_empty(after.ended_by), null_if_empty(after.settlement_id),
               null_if_empty(after.dispute_id), after.refund_fen, clock::now_ms(), after.assignment_id);
  expect_one_row(st, "reservation of " + after.assignment_id + " is no longer reserved");
}

void add_ruled(soci::session& s, const EscrowState& before, std::int64_t units, std::int64_t share_fen,
               std::int64_t refund_fen) {
  EscrowState after = before;
  after.units_settled += units;
  after.settled_fen += share_fen;
  after.released_fen += refund_fen;
  const long long u = units, a = share_fen, r = refund_fen, now = clock::now_ms(), before_units = before.units_settled;
  const std::string status = to_string(status_after(after));
  soci::statement st =
      (s.prepare << "UPDATE escrows SET units_settled = units_settled + :u, settled_fen = settled_fen + :a, "
                    "released_fen = released_fen + :r, status = :st, updated_at_ms = :now "
                    "WHERE task_id = :t AND units_settled = :b",
       soci::use(u), soci::use(a), soci::use(r), soci::use(status), soci::use(now), soci::use(before.task_id),
       soci::use(before_units));
  expect_one_row(st, "escrow of " + before.task_id + " changed concurrently (ruling)");
}

namespace {

constexpr const char* kIitYearColumns = "year, cum_income_fen, cum_withheld_fen, consecutive_months, last_month";
const std::string kLoadIitYear =
    std::string("SELECT ") + kIitYearColumns + " FROM iit_years WHERE worker_id = :w AND year = :y";

}  // namespace

std::optional<IitYearRow> load_iit_year(soci::session& s, const std::string& worker_id, int year) {
  const soci::row* found = db::prepared(s, kLoadIitYear).run(worker_id, year).row();
  if (found == nullptr) return std::nullopt;
  db::RowReader r(*found, db::column_count(kIitYearColumns));
  IitYearRow y;
  y.year = r.i32();
  y.cum_income_fen = r.i64();
  y.cum_withheld_fen = r.i64();
  y.consecutive_months = r.i32();
  y.last_month = r.i32();
  r.done();
  return y;
}

void save_iit_year(soci::session& s, const std::string& worker_id, const std::optional<IitYearRow>& before,
                   const IitYearRow& after) {
  const long long income = after.cum_income_fen, withheld = after.cum_withheld_fen, now = clock::now_ms();
  if (!before) {
    db::prepared(s,
                 "INSERT INTO iit_years (worker_id, year, cum_income_fen, cum_withheld_fen, consecutive_months, "
                 "last_month, updated_at_ms) VALUES (:w, :y, :i, :wh, :c, :m, :now)")
        .run(worker_id, after.year, income, withheld, after.consecutive_months, after.last_month, now);
    return;
  }
  const long long before_income = before->cum_income_fen, before_withheld = before->cum_withheld_fen;
  auto& st = db::prepared(s,
                          "UPDATE iit_years SET cum_income_fen = :i, cum_withheld_fen = :wh, consecutive_months = :c, "
                          "last_month = :m, updated_at_ms = :now WHERE worker_id = :w AND year = :y "
                          "AND cum_income_fen = :bi AND cum_withheld_fen = :bw")
                 .run(income, withheld, after.consecutive_months, after.last_month, now, worker_id, after.year,
                      before_income, before_withheld);
  expect_one_row(st, "IIT year of a worker changed concurrently");
}

std::int64_t escrow_total_of(soci::session& s, const std::string& enterprise_id) {
  soci::rowset<soci::row> rows =
      // held − settled − released: the task escrow accounts plus the reservations of their assignments still
      // reserved (003), which are the enterprise's money too until they are posted or voided.
      (s.prepare << "SELECT COALESCE(CAST(SUM(held_fen - settled_fen - released_fen) AS BIGINT), 0) FROM escrows "
                    "WHERE enterprise_id = :e",
       soci::use(enterprise_id));
  for (const auto& r : rows) return get_i64(r, 0);
  return 0;
}

void insert_deposit(soci::session& s, const DepositRecord& d) {
  const long long amount = d.amount_fen, created = d.created_at_ms;
  s << "INSERT INTO deposits (id, enterprise_id, idempotency_key, amount_fen, currency, provider, status, "
       "transfer_id, created_at_ms) VALUES (:id, :e, :k, :a, 'CNY', :p, :st, :tr, :now)",
      soci::use(d.id), soci::use(d.enterprise_id), soci::use(d.idempotency_key), soci::use(amount),
      soci::use(d.provider), soci::use(d.status), soci::use(d.transfer_id), soci::use(created);
}

bool insert_offer(soci::session& s, const OfferRecord& o) {
  const long long units = o.units, pay = o.pay_per_unit_fen, amount = o.amount_fen, expires = o.expires_at_ms,
                  received = o.received_at_ms;
  soci::statement st =
      (s.prepare << "INSERT INTO offers (offer_id, task_id, enterprise_id, worker_id, units, pay_per_unit_fen, "
                    "amount_fen, currency, category, expires_at_ms, received_at_ms) VALUES (:o, :t, :e, :w, :u, :p, "
                    ":a, :c, :cat, :x, :r) ON CONFLICT (offer_id) DO NOTHING",
       soci::use(o.offer_id), soci::use(o.task_id), soci::use(o.enterprise_id), soci::use(o.worker_id),
       soci::use(units), soci::use(pay), soci::use(amount), soci::use(o.currency), soci::use(o.category),
       soci::use(expires), soci::use(received));
  st.execute(true);
  return st.get_affected_rows() == 1;
}

namespace {

constexpr const char* kOfferColumns =
    "offer_id, task_id, enterprise_id, worker_id, units, pay_per_unit_fen, amount_fen, currency, category, "
    "expires_at_ms, received_at_ms";
const std::string kFindOffer = std::string("SELECT ") + kOfferColumns + " FROM offers WHERE offer_id = :o";

}  // namespace

std::optional<OfferRecord> find_offer(soci::session& s, const std::string& offer_id) {
  soci::rowset<soci::row> rows = (s.prepare << kFindOffer, soci::use(offer_id));
  for (const auto& row : rows) {
    db::RowReader r(row, db::column_count(kOfferColumns));
    OfferRecord o;
    o.offer_id = r.str();
    o.task_id = r.str();
    o.enterprise_id = r.str();
    o.worker_id = r.str();
    o.units = r.i64();
    o.pay_per_unit_fen = r.i64();
    o.amount_fen = r.i64();
    o.currency = r.str();
    o.category = r.str();
    o.expires_at_ms = r.i64();
    o.received_at_ms = r.i64();
    r.done();
    return o;
  }
  return std::nullopt;
}

void insert_invoice_seen(soci::session& s, const InvoiceSeen& i) {
  const long long total = i.total_fen, at = i.issued_at_ms;
  s << "INSERT INTO invoices_seen (invoice_id, number, enterprise_id, settlement_id, total_fen, issued_at_ms) "
       "VALUES (:i, :n, :e, :s, :t, :a) ON CONFLICT (invoice_id) DO NOTHING",
      soci::use(i.invoice_id), soci::use(i.number), soci::use(i.enterprise_id), soci::use(i.settlement_id),
      soci::use(total), soci::use(at);
}

bool reconciliation_exists(soci::session& s, const std::string& day) {
  soci::rowset<soci::row> rows = (s.prepare << "SELECT 1 FROM reconciliations WHERE day = :d", soci::use(day));
  return rows.begin() != rows.end();
}

}  // namespace crowd::settlement
