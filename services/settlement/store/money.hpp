// settlement's SQL for what its money API reads besides the ledger's own calls: a party's statement
// (balances at an instant and the transfers of a period, over the accounts it owns) and the snapshot the
// ledger check runs on. Rows in, typed values out.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "services/settlement/ledger.hpp"
#include "services/settlement/ledger_check.hpp"
#include "services/settlement/rules.hpp"

namespace soci {
class session;
}

namespace crowd::settlement {

// The accounts a party owns: its main account `account` and, for an enterprise (`party` its id), the escrow
// accounts of its tasks and the reservations of their assignments (asg:{asg}:reserved, two-phase escrow:
// still the enterprise's money until posted).

// Balance of each owned account at `before_ms` (exclusive), rebuilt from the transfers.
std::map<std::string, std::int64_t> owned_balances_at(soci::session& s, const std::string& account,
                                                      const std::string& party, std::int64_t before_ms);
// The transfers touching the owned accounts in the period, in time order (then id), at most `limit`.
std::vector<TransferSpec> owned_transfers_in(soci::session& s, const std::string& account, const std::string& party,
                                             const Period& p, int limit);

// Everything check_ledger() looks at (ledger_check.hpp); read it inside one consistent snapshot.
LedgerSnapshot load_ledger_snapshot(soci::session& s);

}  // namespace crowd::settlement
