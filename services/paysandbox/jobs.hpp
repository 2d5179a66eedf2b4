// The provider's periodic work: decide the outcome of due orders, then notify the platform of them (signed).
#pragma once

#include <cstdint>
#include <string>

#include "common/db.hpp"
#include "common/http_client.hpp"
#include "services/paysandbox/settings.hpp"
#include "services/paysandbox/store.hpp"

namespace crowd {
class Service;
}

namespace crowd::paysandbox {

// Both jobs, every 100 ms; `settings` must outlive the service.
void add_jobs(Service& svc, const Settings& settings);

// Decides due orders and queues their notifications; returns how many changed.
int decide_due(db::Database& db, const Settings& settings);
// Delivers due notifications (HTTP POST, signed); returns how many were delivered.
int deliver_due(db::Database& db, const Settings& settings);

// The signed POST of one notification to its notify_url ("http://host:port/path"), as sent at now_ms.
http::ClientRequest notification_request(const store::DueNotification& n, const Settings& settings,
                                         std::int64_t now_ms);

}  // namespace crowd::paysandbox
