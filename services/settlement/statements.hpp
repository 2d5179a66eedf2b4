// What a statement adds up for a period (GET /v1/statements/me): an enterprise's deposits, holds,
// releases, refunds, the price and fees of its settled work and its e-invoices; a worker's earnings, tax
// withheld and payouts. Aggregated in SQL over the whole period, so the figures hold even when the list of
// transfers is cut.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "services/settlement/rules.hpp"

namespace soci {
class session;
}

namespace crowd::settlement {

nlohmann::json enterprise_period_summary(soci::session& s, const std::string& enterprise_id, const Period& p);
nlohmann::json worker_period_summary(soci::session& s, const std::string& worker_id, const Period& p);

}  // namespace crowd::settlement
