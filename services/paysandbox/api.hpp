// HTTP API of the sandbox provider, as a real provider's merchant API (signed by the merchant unless said):
//   POST /sandbox/v1/orders                 place an order {merchant_ref, kind, amount_fen, payee, notify_url}
//   GET  /sandbox/v1/orders/{ref}           read it
//   POST /sandbox/v1/deposits/{ref}/pay     the payer's side of a deposit (not signed by the merchant)
//   POST /sandbox/v1/scenarios              queue outcomes {kind, outcomes: [...]} (tests)
//   GET  /sandbox/v1/statements/{day}       the day's statement (CSV, sandbox.hpp)
#pragma once

#include <string>

#include "common/db.hpp"
#include "common/http.hpp"
#include "services/paysandbox/settings.hpp"

namespace crowd::paysandbox {

// `db` and `settings` must outlive the router.
void add_routes(http::Router& router, db::Database& db, const Settings& settings);

// The statement of one CST day (YYYY-MM-DD; std::invalid_argument otherwise).
std::string statement_of_day(db::Database& db, const std::string& day);

}  // namespace crowd::paysandbox
