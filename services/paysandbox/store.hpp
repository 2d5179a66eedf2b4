// SQL of the sandbox provider (schemas/sql/paysandbox/001_init.sql). Every function runs on the caller's
// session, inside the caller's transaction where it writes.
#pragma once

#include <soci/soci.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "services/paysandbox/sandbox.hpp"

namespace crowd::paysandbox::store {

// ---- orders
std::optional<Order> find_order(soci::session& s, const std::string& merchant_ref);
// due_at_ms: when the order is decided (none: it waits, e.g. a deposit awaiting /pay).
void insert_order(soci::session& s, const Order& o, std::optional<std::int64_t> due_at_ms);
// Orders due at now_ms, earliest first.
std::vector<Order> due_orders(soci::session& s, std::int64_t now_ms, int limit);
// Writes a decided order's status, reason and times; next_due_ms: decided again then (none: done).
void update_decided(soci::session& s, const Order& o, std::optional<std::int64_t> next_due_ms);
// A deposit paid by its payer: decided at now_ms with the "pay" scenario.
void mark_paying(soci::session& s, const std::string& merchant_ref, std::int64_t now_ms);
// Orders with money settled (succeeded or returned) in [from_ms, to_ms), by creation.
std::vector<Order> orders_settled_between(soci::session& s, std::int64_t from_ms, std::int64_t to_ms);

// ---- scenarios queued by tests
void insert_scenario(soci::session& s, const std::string& id, const std::string& kind, const std::string& outcome);
// The oldest queued outcome of `kind`, deleted (taken); none when the queue is empty.
std::optional<std::string> take_scenario(soci::session& s, const std::string& kind);

// ---- notifications owed to the platform
void insert_notification(soci::session& s, const std::string& event_id, const Order& o, const std::string& body,
                         std::int64_t due_at_ms, int copies);
struct DueNotification {
  std::string event_id, url, body;
  int attempts = 0, copies = 1;
};
std::vector<DueNotification> due_notifications(soci::session& s, std::int64_t now_ms, int limit);
// A delivery the platform answered 2xx: the last copy marks it delivered, an earlier one leaves one less.
void notification_delivered(soci::session& s, const DueNotification& n, std::int64_t now_ms);
// A refused or failed delivery: tried again at next_due_ms.
void notification_retry(soci::session& s, const std::string& event_id, std::int64_t next_due_ms);

}  // namespace crowd::paysandbox::store
