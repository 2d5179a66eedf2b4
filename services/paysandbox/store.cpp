#include "services/paysandbox/store.hpp"

#include "common/db.hpp"

namespace crowd::paysandbox::store {
namespace {

constexpr const char* kOrderCols =
    "merchant_ref, provider_ref, kind, amount_fen, payee, notify_url, status, scenario, reason, created_at_ms, "
    "succeeded_at_ms, returned_at_ms";
constexpr const char* kNotificationCols = "event_id, notify_url, body, attempts, copies";
constexpr const char* kScenarioCols = "id, outcome";

Order order_of(const soci::row& row) {
  Order o;
  db::RowReader(row, db::column_count(kOrderCols))
      .into(o.merchant_ref, o.provider_ref, o.kind, o.amount_fen, o.payee, o.notify_url, o.status, o.scenario, o.reason,
            o.created_at_ms, o.succeeded_at_ms, o.returned_at_ms);
  return o;
}

DueNotification notification_of(const soci::row& row) {
  DueNotification n;
  db::RowReader(row, db::column_count(kNotificationCols)).into(n.event_id, n.url, n.body, n.attempts, n.copies);
  return n;
}

// A nullable BIGINT parameter: the value and its indicator, alive for the statement.
struct OptionalInt {
  explicit OptionalInt(std::optional<std::int64_t> v) : value(v.value_or(0)), ind(v ? soci::i_ok : soci::i_null) {}
  long long value;
  soci::indicator ind;
};

}  // namespace

std::optional<Order> find_order(soci::session& s, const std::string& ref) {
  soci::rowset<soci::row> rows =
      (s.prepare << "SELECT " << kOrderCols << " FROM orders WHERE merchant_ref = :r", soci::use(ref));
  for (const auto& r : rows) return order_of(r);
  return std::nullopt;
}

void insert_order(soci::session& s, const Order& o, std::optional<std::int64_t> due_at_ms) {
  OptionalInt due(due_at_ms);
  s << "INSERT INTO orders (merchant_ref, provider_ref, kind, amount_fen, payee, notify_url, status, scenario, "
       "reason, created_at_ms, due_at_ms) VALUES (:m, :p, :k, :a, :y, :u, :s, :sc, '', :c, :d)",
      soci::use(o.merchant_ref), soci::use(o.provider_ref), soci::use(o.kind), soci::use(o.amount_fen),
      soci::use(o.payee), soci::use(o.notify_url), soci::use(o.status), soci::use(o.scenario),
      soci::use(o.created_at_ms), soci::use(due.value, due.ind);
}

std::vector<Order> due_orders(soci::session& s, std::int64_t now, int limit) {
  std::vector<Order> out;
  soci::rowset<soci::row> rows =
      (s.prepare << "SELECT " << kOrderCols
                 << " FROM orders WHERE due_at_ms IS NOT NULL AND due_at_ms <= :now ORDER BY due_at_ms LIMIT :n",
       soci::use(now), soci::use(limit));
  for (const auto& r : rows) out.push_back(order_of(r));
  return out;
}

void update_decided(soci::session& s, const Order& o, std::optional<std::int64_t> next_due_ms) {
  OptionalInt next(next_due_ms), succeeded(o.succeeded_at_ms), returned(o.returned_at_ms);
  s << "UPDATE orders SET status = :s, reason = :r, due_at_ms = :d, succeeded_at_ms = :sa, returned_at_ms = :ra "
       "WHERE merchant_ref = :m",
      soci::use(o.status), soci::use(o.reason), soci::use(next.value, next.ind),
      soci::use(succeeded.value, succeeded.ind), soci::use(returned.value, returned.ind), soci::use(o.merchant_ref);
}

void mark_paying(soci::session& s, const std::string& merchant_ref, std::int64_t now_ms) {
  s << "UPDATE orders SET due_at_ms = :n, scenario = 'pay' WHERE merchant_ref = :m", soci::use(now_ms),
      soci::use(merchant_ref);
}

std::vector<Order> orders_settled_between(soci::session& s, std::int64_t from, std::int64_t to) {
  std::vector<Order> out;
  soci::rowset<soci::row> rows =
      (s.prepare << "SELECT " << kOrderCols
                 << " FROM orders WHERE (succeeded_at_ms >= :f1 AND succeeded_at_ms < :t1) OR "
                    "(returned_at_ms >= :f2 AND returned_at_ms < :t2) ORDER BY created_at_ms, merchant_ref",
       soci::use(from), soci::use(to), soci::use(from), soci::use(to));
  for (const auto& r : rows) out.push_back(order_of(r));
  return out;
}

void insert_scenario(soci::session& s, const std::string& id, const std::string& kind, const std::string& outcome) {
  s << "INSERT INTO scenarios (id, kind, outcome) VALUES (:i, :k, :o)", soci::use(id), soci::use(kind),
      soci::use(outcome);
}

std::optional<std::string> take_scenario(soci::session& s, const std::string& kind) {
  soci::rowset<soci::row> rows =
      (s.prepare << "SELECT " << kScenarioCols << " FROM scenarios WHERE kind = :k ORDER BY id LIMIT 1",
       soci::use(kind));
  for (const auto& row : rows) {
    db::RowReader r(row, db::column_count(kScenarioCols));
    const std::string id = r.str();
    const std::string outcome = r.str();
    r.done();
    s << "DELETE FROM scenarios WHERE id = :id", soci::use(id);
    return outcome;
  }
  return std::nullopt;
}

void insert_notification(soci::session& s, const std::string& event_id, const Order& o, const std::string& body,
                         std::int64_t due_at_ms, int copies) {
  s << "INSERT INTO notifications (event_id, merchant_ref, notify_url, body, due_at_ms, attempts, copies) "
       "VALUES (:e, :m, :u, :b, :d, 0, :c)",
      soci::use(event_id), soci::use(o.merchant_ref), soci::use(o.notify_url), soci::use(body), soci::use(due_at_ms),
      soci::use(copies);
}

std::vector<DueNotification> due_notifications(soci::session& s, std::int64_t now, int limit) {
  std::vector<DueNotification> out;
  soci::rowset<soci::row> rows =
      (s.prepare << "SELECT " << kNotificationCols
                 << " FROM notifications WHERE delivered_at_ms IS NULL AND due_at_ms <= :now ORDER BY due_at_ms "
                    "LIMIT :n",
       soci::use(now), soci::use(limit));
  for (const auto& r : rows) out.push_back(notification_of(r));
  return out;
}

void notification_delivered(soci::session& s, const DueNotification& n, std::int64_t now_ms) {
  if (n.copies <= 1) {
    s << "UPDATE notifications SET delivered_at_ms = :t, attempts = attempts + 1 WHERE event_id = :e",
        soci::use(now_ms), soci::use(n.event_id);
  } else {
    s << "UPDATE notifications SET copies = copies - 1, attempts = attempts + 1 WHERE event_id = :e",
        soci::use(n.event_id);
  }
}

void notification_retry(soci::session& s, const std::string& event_id, std::int64_t next_due_ms) {
  s << "UPDATE notifications SET attempts = attempts + 1, due_at_ms = :n WHERE event_id = :e", soci::use(next_due_ms),
      soci::use(event_id);
}

}  // namespace crowd::paysandbox::store
