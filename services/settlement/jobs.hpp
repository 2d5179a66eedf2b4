// settlement's periodic jobs, run only with a payment provider: payouts (attempts and their recovery),
// automatic payouts, pending deposits, and yesterday's reconciliation.
#pragma once

#include "common/service.hpp"
#include "services/settlement/provider.hpp"
#include "services/settlement/settings.hpp"

namespace crowd::settlement {

void add_jobs(Service& svc, Provider& provider, const Settings& settings);
// Yesterday's reconciliation (CST) unless it was done: what the "reconcile" job runs.
void reconcile_yesterday(db::Database& db, Provider& provider);

}  // namespace crowd::settlement
