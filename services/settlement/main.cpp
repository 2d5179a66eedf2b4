// settlement: the double-entry ledger, task escrows, settlements of accepted deliveries (fee, IIT withheld,
// worker payable), sandbox deposits, balances and statements. Port 8105.
#include "common/service.hpp"
#include "services/settlement/api.hpp"
#include "services/settlement/consumers.hpp"

int main() {
  crowd::Service svc("settlement", 8105);
  crowd::settlement::add_routes(svc.router(), svc.db());
  crowd::settlement::subscribe(svc.events());
  return svc.run(crowd::db::embedded_migrations());
}
