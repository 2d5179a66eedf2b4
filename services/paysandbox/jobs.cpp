#include "services/paysandbox/jobs.hpp"

#include <chrono>

#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/log.hpp"
#include "common/service.hpp"
#include "common/signature.hpp"

namespace crowd::paysandbox {

namespace {
constexpr int kDecideBatch = 100;
constexpr int kNotifyBatch = 50;
}  // namespace

void add_jobs(Service& svc, const Settings& settings) {
  svc.every("decide", std::chrono::milliseconds(100), [&svc, &settings] { decide_due(svc.db(), settings); });
  svc.every("notify", std::chrono::milliseconds(100), [&svc, &settings] { deliver_due(svc.db(), settings); });
}

int decide_due(db::Database& db, const Settings& st) {
  const std::int64_t now = clock::now_ms();
  return db.tx([&](soci::session& s) {
    std::vector<Order> due = store::due_orders(s, now, kDecideBatch);
    for (Order& o : due) {
      const Decision d = decide(o, now, st.delay_ms);
      store::update_decided(s, o, d.next_due_ms);
      if (!d.notify) continue;
      const std::string event_id = ids::make("pev");
      store::insert_notification(s, event_id, o, notification_body(o, event_id, d.type, now).dump(), now, d.copies);
    }
    return static_cast<int>(due.size());
  });
}

http::ClientRequest notification_request(const store::DueNotification& n, const Settings& st, std::int64_t now_ms) {
  const auto slash = n.url.find('/', 7);  // after "http://"
  http::ClientRequest req;
  req.method = "POST";
  req.target = slash == std::string::npos ? "/" : n.url.substr(slash);
  req.body = n.body;
  req.headers = signature::headers(st.secret, now_ms, signature::payload("POST", req.target, n.body));
  req.timeout = std::chrono::milliseconds(3000);
  return req;
}

int deliver_due(db::Database& db, const Settings& st) {
  const std::int64_t now = clock::now_ms();
  const auto due = db.with([&](soci::session& s) { return store::due_notifications(s, now, kNotifyBatch); });
  int delivered = 0;
  for (const auto& n : due) {
    bool ok = false;
    try {
      const auto base = http::parse_base_url(n.url.substr(0, n.url.find('/', 7)));
      const auto res = http::fetch(base, notification_request(n, st, clock::now_ms()));
      ok = res.status >= 200 && res.status < 300;
      if (!ok) log::warn("notification refused", {{"event_id", n.event_id}, {"status", res.status}});
    } catch (const std::exception& e) {
      log::warn("notification not delivered", {{"event_id", n.event_id}, {"error", e.what()}});
    }
    db.tx([&](soci::session& s) {
      const std::int64_t t = clock::now_ms();
      if (ok) {
        store::notification_delivered(s, n, t);
      } else {
        store::notification_retry(s, n.event_id, t + retry_delay_ms(n.attempts));
      }
    });
    if (ok) ++delivered;
  }
  return delivered;
}

}  // namespace crowd::paysandbox
