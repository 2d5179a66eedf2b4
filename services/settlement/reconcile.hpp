// Reconciliation: what the payment provider says moved (its daily statement) against what the ledger
// recorded, both ways, plus the payouts parked with an unknown outcome.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/db.hpp"
#include "services/settlement/provider.hpp"

namespace crowd::settlement {

// The daily reconciliation of one CST day: the provider's statement against our records. Stores and
// returns {day, lines, matched, mismatches[]}; nullopt when the statement could not be fetched.
std::optional<nlohmann::json> reconcile_day(db::Database& db, Provider& provider, const std::string& day);

}  // namespace crowd::settlement
