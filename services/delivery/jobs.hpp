// delivery's periodic jobs: the auto-acceptance of submissions whose review window ended, and the expiry of
// assignments abandoned past their deadline and grace period. Each item runs in its own transaction.
#pragma once

#include <cstdint>

#include "common/db.hpp"
#include "services/delivery/settings.hpp"

namespace crowd {
class Service;
}

namespace crowd::delivery {

// Both jobs, every second; `settings` must outlive the service.
void add_jobs(Service& svc, const Settings& settings);

// Accepts every pending submission whose review window ended at now_ms (up to one batch), with
// delivery.accepted (automatic: true); returns how many it accepted.
int auto_accept_due(db::Database& db, const Settings& settings, std::int64_t now_ms);
// Expires every assignment without a submission pending review whose deadline + grace passed at now_ms
// (up to one batch), each with assignment.expired; returns how many it expired.
int expire_due(db::Database& db, const Settings& settings, std::int64_t now_ms);

}  // namespace crowd::delivery
