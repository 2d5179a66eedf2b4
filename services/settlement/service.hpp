// settlement: the double-entry ledger, task escrows, settlements of accepted deliveries (fee, IIT withheld,
// worker payable), payouts, refunds and deposits through the payment provider, reconciliation, balances
// and statements, put together. Port 8105.
#pragma once

#include "common/service_main.hpp"

namespace crowd::settlement {

ServiceSpec spec();

}  // namespace crowd::settlement
