// settlement: the double-entry ledger, task escrows, settlements of accepted deliveries (fee, IIT withheld,
// worker payable), sandbox deposits, balances and statements. Port 8105.
#include "common/service.hpp"
#include "services/settlement/api.hpp"
#include "services/settlement/consumers.hpp"

int main() {
  crowd::Service svc("settlement", 8105);
  crowd::settlement::add_routes(svc.router(), svc.db());
  crowd::settlement::subscribe(svc.events());
  // No purge of idempotency keys here: a deposit's key names its transfer "dep:{enterprise}:{key}" for good,
  // so its record (one per deposit) is kept to replay that deposit rather than fail on the transfer.
  return svc.run(crowd::db::embedded_migrations());
}
