#include "services/invoicing/consumers.hpp"

#include <algorithm>

#include "common/clock.hpp"
#include "common/domain/identity.hpp"
#include "common/events/fields.hpp"
#include "common/ids.hpp"
#include "common/log.hpp"
#include "common/money.hpp"
#include "services/invoicing/invoice_number.hpp"
#include "services/invoicing/store.hpp"

namespace crowd::invoicing {
namespace {

// Issues the invoice of one settlement to a known buyer: the year's next number, the invoice row and
// invoice.issued in the caller's transaction. The number's year is the issue date's (China time).
void issue(soci::session& s, const SettlementFacts& f, const Buyer& buyer, const Seller& seller,
           const std::string& trace_id) {
  const std::int64_t now = clock::now_ms();
  const int year = clock::cst_year_month(now).year;
  const std::int64_t seq = store::next_sequence(s, year);
  const IssueStamp stamp{ids::make("inv"), invoice_number(year, seller.province, seller.channel, seq), now,
                         clock::cst_date(now)};
  const Invoice inv = build_invoice(f, buyer, seller, stamp);
  store::insert_invoice(s, inv, year, seq, invoice_json(inv).dump());
  events::publish(s, "invoice.issued", inv.id, invoice_issued_data(inv), trace_id);
  log::info("invoice issued", {{"invoice_id", inv.id},
                               {"number", inv.number},
                               {"settlement_id", inv.settlement_id},
                               {"buyer_needs_review", inv.buyer_needs_review}});
}

}  // namespace

Buyer buyer_from_event(const events::Event& e) {
  events::Fields f(e);
  Buyer b;
  b.enterprise_id = f.id("enterprise_id");
  b.name = f.str("name", 1, 200);
  b.credit_code = f.str("credit_code", 1, 100);  // a code failing GB 32100 is flagged later, not refused here
  f.done();
  return b;
}

SettlementFacts settlement_from_event(const events::Event& e) {
  events::Fields f(e);
  SettlementFacts s;
  s.settlement_id = f.id("settlement_id");
  s.assignment_id = f.id("assignment_id");
  s.task_id = f.id("task_id");
  s.enterprise_id = f.id("enterprise_id");
  s.category = f.str("category", 1, 100);
  s.title = f.str("title", 1, 10'000);
  s.units = f.i64("units", 1, 1'000'000'000);
  s.amount_fen = f.i64("amount_fen", 1, 100'000'000'000'000);  // up to 1 万亿 yuan
  s.currency = f.one_of("currency", {money::kCurrency});
  if (!s.category.empty()) {
    const auto& classes = tax_classes();
    const bool known =
        std::any_of(classes.begin(), classes.end(), [&](const TaxClass& c) { return c.category == s.category; });
    if (!known) f.fail("category", "has no tax class for an invoice line");
  }
  f.done();
  return s;
}

// enterprise.registered (accounts). Records the buyer, then issues the invoices of its settlements that
// arrived first (pending_invoices), oldest first, in this same transaction. Idempotent: an upsert, and the
// pending rows are gone once issued. A malformed event is refused (retried, then dead-lettered). A buyer whose
// credit code fails GB 32100 is recorded all the same: its invoices carry buyer_needs_review.
void on_enterprise_registered(soci::session& s, const events::Event& e, const Seller& seller) {
  const Buyer buyer = buyer_from_event(e);
  const bool code_ok = domain::check_credit_code(buyer.credit_code).ok;
  if (!code_ok)
    log::warn("buyer credit code fails the check; invoices flagged", {{"enterprise_id", buyer.enterprise_id}});
  store::upsert_buyer(s, buyer, code_ok, clock::now_ms());
  for (const store::Pending& p : store::pending_of(s, buyer.enterprise_id)) {
    events::Event waiting;  // the settlement.completed data kept while the enterprise was unknown
    waiting.id = "pending:" + p.settlement_id;
    waiting.type = "settlement.completed";
    waiting.trace_id = p.trace_id;
    waiting.data = nlohmann::json::parse(p.data);
    const SettlementFacts f = settlement_from_event(waiting);
    if (!store::invoice_exists_for_settlement(s, f.settlement_id)) issue(s, f, buyer, seller, p.trace_id);
    store::delete_pending(s, p.settlement_id);
  }
}

// settlement.completed (settlement). One invoice per settlement for the enterprise that paid: replays are
// no-ops (an invoice or a pending row for the settlement exists; invoices.settlement_id is unique too).
// Streams of different producers are not ordered with each other, so the enterprise may not be known yet:
// the settlement is then kept in pending_invoices and issued by on_enterprise_registered. (Throwing to have
// the entry retried would dead-letter it after max_deliveries if accounts lagged for longer.) A malformed
// event (missing field, unknown category, not CNY) is refused: retried, then dead-lettered for an operator.
void on_settlement_completed(soci::session& s, const events::Event& e, const Seller& seller) {
  const SettlementFacts f = settlement_from_event(e);
  if (store::invoice_exists_for_settlement(s, f.settlement_id) || store::pending_exists(s, f.settlement_id)) {
    log::info("settlement already invoiced or waiting; event ignored", {{"settlement_id", f.settlement_id}});
    return;
  }
  if (const auto buyer = store::find_buyer(s, f.enterprise_id)) {
    issue(s, f, *buyer, seller, e.trace_id);
    return;
  }
  store::insert_pending(s, f.settlement_id, f.enterprise_id, e.data.dump(), e.trace_id, clock::now_ms());
  log::info("enterprise not known yet; invoice waits for enterprise.registered",
            {{"settlement_id", f.settlement_id}, {"enterprise_id", f.enterprise_id}});
}

void add_consumers(events::Subscriptions& subs, const Settings& settings) {
  const Seller& seller = settings.seller;
  subs.on("accounts", "enterprise.registered",
          [&seller](soci::session& s, const events::Event& e) { on_enterprise_registered(s, e, seller); });
  subs.on("settlement", "settlement.completed",
          [&seller](soci::session& s, const events::Event& e) { on_settlement_completed(s, e, seller); });
}

}  // namespace crowd::invoicing
