// The sandbox provider's routes and jobs against its real migrations (crowd::testing::ServiceDb: SQLite, and
// PostgreSQL when CROWD_TEST_PG_URL is set): signed requests go to the handlers through the router, the jobs
// run by hand, notifications are read back from their table (no platform listens).
#include <doctest/doctest.h>

#include <string>

#include "common/clock.hpp"
#include "common/http.hpp"
#include "common/signature.hpp"
#include "common/testing/service_db.hpp"
#include "services/paysandbox/api.hpp"
#include "services/paysandbox/jobs.hpp"
#include "services/paysandbox/settings.hpp"
#include "services/paysandbox/store.hpp"

namespace {

namespace ps = crowd::paysandbox;
using crowd::http::Request;
using crowd::http::Response;
using nlohmann::json;

const std::string kNotifyUrl = "http://127.0.0.1:9/v1/provider/notifications";  // nobody listens there

struct World {
  crowd::testing::ServiceDb db{crowd::db::embedded_migrations(), 2};
  ps::Settings settings{"sandbox-secret-0123456789", 0, 0, true};  // decided at once, no stalls
  crowd::http::Router router;

  World() { ps::add_routes(router, *db, settings); }

  // A request as the platform sends it (signed unless `sign` is false), answered through the router.
  Response call(const std::string& method, const std::string& target, const json& body = nullptr, bool sign = true) {
    Request req;
    req.method = method;
    req.target = target;
    req.path = target;
    if (!body.is_null()) {
      req.body = body.dump();
      req.headers["content-type"] = "application/json";
    }
    if (sign) {
      for (auto& [k, v] : crowd::signature::headers(settings.secret, crowd::clock::now_ms(),
                                                    crowd::signature::payload(method, target, req.body))) {
        req.headers[k] = v;
      }
    }
    auto m = router.match(req);
    REQUIRE(m.handler != nullptr);
    try {
      return (*m.handler)(req);
    } catch (const crowd::http::Problem& p) {
      return Response::json_of(p.status, p.to_json(req.path));
    }
  }

  Response place(const std::string& ref, const std::string& kind = "payout", std::int64_t amount_fen = 10'000) {
    return call("POST", "/sandbox/v1/orders",
                {{"merchant_ref", ref},
                 {"kind", kind},
                 {"amount_fen", amount_fen},
                 {"payee", "6222020200112233445"},
                 {"notify_url", kNotifyUrl}});
  }

  std::vector<ps::store::DueNotification> notifications() {
    return db->with([](soci::session& s) { return ps::store::due_notifications(s, crowd::clock::now_ms(), 100); });
  }
};

json body_of(const Response& r) {
  return json::parse(r.body);
}

}  // namespace

TEST_CASE("a payout: placed once, decided, and its notification queued and signed") {
  World w;
  auto placed = w.place("po_1");
  REQUIRE(placed.status == 201);
  CHECK(body_of(placed)["status"] == "processing");
  const std::string provider_ref = body_of(placed)["provider_ref"];
  auto again = w.place("po_1");  // providers dedupe on merchant_ref
  CHECK(again.status == 200);
  CHECK(body_of(again)["provider_ref"] == provider_ref);
  CHECK(w.place("po_1", "payout", 20'000).status == 409);
  CHECK(w.call("POST", "/sandbox/v1/orders", {{"merchant_ref", "po_2"}}, false).status == 401);
  auto bad = w.call("POST", "/sandbox/v1/orders", {{"merchant_ref", ""}, {"kind", "gift"}});
  CHECK(bad.status == 422);
  CHECK(w.db.count("SELECT COUNT(*) FROM orders") == 1);

  CHECK(ps::decide_due(*w.db, w.settings) == 1);
  CHECK(ps::decide_due(*w.db, w.settings) == 0);
  auto read = w.call("GET", "/sandbox/v1/orders/po_1");
  REQUIRE(read.status == 200);
  CHECK(body_of(read)["status"] == "succeeded");
  CHECK(body_of(read).contains("succeeded_at"));

  const auto due = w.notifications();
  REQUIRE(due.size() == 1);
  CHECK(due[0].url == kNotifyUrl);
  CHECK(due[0].copies == 1);
  const json note = json::parse(due[0].body);
  CHECK(note["type"] == "payout.succeeded");
  CHECK(note["merchant_ref"] == "po_1");
  CHECK(note["provider_ref"] == provider_ref);
  CHECK(note["amount_fen"] == 10'000);
  CHECK(note["event_id"] == due[0].event_id);

  // The POST the platform receives: signed over its target and body with the shared secret.
  const std::int64_t now = crowd::clock::now_ms();
  const auto req = ps::notification_request(due[0], w.settings, now);
  CHECK(req.method == "POST");
  CHECK(req.target == "/v1/provider/notifications");
  CHECK(req.body == due[0].body);
  CHECK(crowd::signature::verify_headers(w.settings.secret, req.headers,
                                         crowd::signature::payload("POST", req.target, req.body),
                                         now) == crowd::signature::Verdict::ok);
  CHECK(crowd::signature::verify_headers("another-secret-0123456789", req.headers,
                                         crowd::signature::payload("POST", req.target, req.body),
                                         now) == crowd::signature::Verdict::bad_signature);

  // Nobody answers at the notify_url: the notification stays owed and is tried again later.
  CHECK(ps::deliver_due(*w.db, w.settings) == 0);
  CHECK(w.db.count("SELECT COUNT(*) FROM notifications WHERE delivered_at_ms IS NULL AND attempts = 1") == 1);
}

TEST_CASE("queued scenarios: a synchronous rejection records nothing, a duplicate notifies twice") {
  World w;
  auto queued = w.call("POST", "/sandbox/v1/scenarios", {{"kind", "payout"}, {"outcomes", {"reject", "duplicate"}}});
  REQUIRE(queued.status == 201);
  CHECK(body_of(queued)["queued"] == 2);
  CHECK(w.call("POST", "/sandbox/v1/scenarios", {{"kind", "payout"}, {"outcomes", {"pay"}}}).status == 422);

  auto rejected = w.place("po_1");
  CHECK(rejected.status == 422);
  CHECK(body_of(rejected)["errors"][0]["field"] == "payee");
  CHECK(w.db.count("SELECT COUNT(*) FROM orders") == 0);

  REQUIRE(w.place("po_2").status == 201);
  CHECK(ps::decide_due(*w.db, w.settings) == 1);
  const auto due = w.notifications();
  REQUIRE(due.size() == 1);
  CHECK(due[0].copies == 2);
  CHECK(w.db.count("SELECT COUNT(*) FROM scenarios") == 0);
}

TEST_CASE("a deposit waits for its payer, then appears on the day's statement") {
  World w;
  w.settings.autopay_deposits = false;
  auto placed = w.place("dep_1", "deposit", 50'000);
  REQUIRE(placed.status == 201);
  CHECK(body_of(placed)["status"] == "awaiting_payment");
  CHECK(body_of(placed)["pay_url"] == "/sandbox/v1/deposits/dep_1/pay");
  CHECK(ps::decide_due(*w.db, w.settings) == 0);  // nothing due before the payer pays

  CHECK(w.call("POST", "/sandbox/v1/deposits/dep_1/pay", nullptr, false).status == 202);
  CHECK(w.call("POST", "/sandbox/v1/deposits/dep_1/pay", nullptr, false).status == 202);  // still awaiting
  CHECK(ps::decide_due(*w.db, w.settings) == 1);
  CHECK(w.call("POST", "/sandbox/v1/deposits/dep_1/pay", nullptr, false).status == 409);
  CHECK(w.call("POST", "/sandbox/v1/deposits/nope/pay", nullptr, false).status == 404);
  REQUIRE(w.notifications().size() == 1);
  CHECK(json::parse(w.notifications()[0].body)["type"] == "deposit.succeeded");

  const std::string day = crowd::clock::cst_date(crowd::clock::now_ms());
  auto statement = w.call("GET", "/sandbox/v1/statements/" + day);
  REQUIRE(statement.status == 200);
  CHECK(statement.content_type == "text/csv; charset=utf-8");
  CHECK(statement.body.find(",dep_1,deposit,credit,50000,succeeded,") != std::string::npos);
  CHECK(w.call("GET", "/sandbox/v1/statements/yesterday").status == 422);
}
