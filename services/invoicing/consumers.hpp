// Event consumers of the invoicing service: enterprise.registered (accounts) → buyers;
// settlement.completed (settlement) → one e-invoice per settlement, then invoice.issued.
#pragma once

#include <soci/soci.h>

#include "common/events.hpp"
#include "services/invoicing/invoice.hpp"
#include "services/invoicing/settings.hpp"

namespace crowd::invoicing {

// The data of enterprise.registered. Throws events::Refusal naming every missing or malformed field.
Buyer buyer_from_event(const events::Event& e);
// The data of settlement.completed. Throws events::Refusal naming every missing, mistyped or out-of-range
// field (units ≥ 1, amount_fen ≥ 1, currency CNY, a category with a tax class).
SettlementFacts settlement_from_event(const events::Event& e);

void on_enterprise_registered(soci::session& s, const events::Event& e, const Seller& seller);
void on_settlement_completed(soci::session& s, const events::Event& e, const Seller& seller);

// Subscribes both handlers; `settings` must outlive the subscriptions.
void add_consumers(events::Subscriptions& subs, const Settings& settings);

}  // namespace crowd::invoicing
