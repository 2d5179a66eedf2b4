// Event consumers of the invoicing service: enterprise.registered (accounts) → buyers;
// settlement.completed (settlement) → one e-invoice per settlement, then invoice.issued.
#pragma once

#include <soci/soci.h>

#include "common/events.hpp"
#include "services/invoicing/invoice.hpp"

namespace crowd::invoicing {

// The seller from CROWD_SELLER_NAME, CROWD_SELLER_TAX_ID, CROWD_INVOICE_PROVINCE, CROWD_INVOICE_CHANNEL
// (sandbox defaults). Throws std::runtime_error when the configuration is invalid: better not to start than
// to issue invoices with a wrong seller.
Seller seller_from_env();

void on_enterprise_registered(soci::session& s, const events::Event& e, const Seller& seller);
void on_settlement_completed(soci::session& s, const events::Event& e, const Seller& seller);

// Subscribes both handlers; `seller` must outlive the subscriptions.
void register_consumers(events::Subscriptions& subs, const Seller& seller);

}  // namespace crowd::invoicing
