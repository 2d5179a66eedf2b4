#include "services/paysandbox/api.hpp"

#include <chrono>
#include <thread>

#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/signature.hpp"
#include "services/paysandbox/sandbox.hpp"
#include "services/paysandbox/store.hpp"

namespace crowd::paysandbox {
namespace {

using nlohmann::json;

// The merchant's signature on a request to the sandbox (401 otherwise).
void require_signed(const http::Request& req, const Settings& st) {
  const auto verdict = signature::verify_headers(st.secret, req.headers,
                                                 signature::payload(req.method, req.target, req.body), clock::now_ms());
  if (verdict != signature::Verdict::ok) throw http::unauthorized(signature::describe(verdict));
}

// {merchant_ref, kind, amount_fen, payee, notify_url}: every bad field at once (422).
Order parse_order(const json& body) {
  http::Fields f(body);
  Order o;
  o.merchant_ref = f.str("merchant_ref", 1, 100);
  o.kind = f.one_of("kind", {"payout", "deposit", "refund"});
  o.amount_fen = f.i64("amount_fen", 1, 1'000'000'000'000);
  o.payee = f.str("payee", 1, 200);
  o.notify_url = f.str("notify_url", 8, 300);
  f.done();
  return o;
}

struct Placed {
  Order order;
  bool created = false;
  std::string outcome;
};

// The order placed, or the one already placed under its merchant_ref (409 when it differs); a "reject"
// outcome records nothing.
Placed place(soci::session& s, Order o, const Settings& st, std::int64_t now) {
  Placed p;
  if (auto known = store::find_order(s, o.merchant_ref)) {
    if (known->kind != o.kind || known->amount_fen != o.amount_fen) {
      throw http::conflict("merchant_ref " + o.merchant_ref + " was placed with another kind or amount");
    }
    p.order = *known;
    return p;
  }
  p.outcome = store::take_scenario(s, o.kind).value_or(default_outcome(o.kind, st.autopay_deposits));
  if (p.outcome == "reject") return p;  // refused before anything is recorded
  o.provider_ref = ids::make("prv");
  o.scenario = p.outcome;
  o.status = o.kind == "deposit" ? "awaiting_payment" : "processing";
  o.created_at_ms = now;
  std::optional<std::int64_t> due;
  if (o.scenario != "await") due = now + st.delay_ms;
  store::insert_order(s, o, due);
  p.order = o;
  p.created = true;
  return p;
}

// POST /sandbox/v1/orders (signed). 201 with the order; 200 with the known one for a repeated merchant_ref.
http::Response place_order(db::Database& db, const Settings& st, http::Request& req) {
  require_signed(req, st);
  const Order o = parse_order(req.json_body());
  const std::int64_t now = clock::now_ms();
  const Placed placed = db.tx([&](soci::session& s) { return place(s, o, st, now); });
  if (placed.outcome == "reject") {
    http::Problem p(422, "payee-rejected", "The provider refused the order", "payee account invalid or closed",
                    {{"payee", "account invalid or closed"}});
    p.extra["code"] = "invalid_payee";
    throw p;
  }
  if (placed.created && placed.outcome == "error_after_record") {
    throw http::Problem(500, "provider-error", "Internal error", "the order was recorded");
  }
  if (placed.created && (placed.outcome == "stall" || placed.outcome == "stall_silent")) {
    std::this_thread::sleep_for(std::chrono::milliseconds(st.stall_ms));
  }
  json out = order_json(placed.order);
  if (placed.order.kind == "deposit") {
    out["pay_url"] = "/sandbox/v1/deposits/" + placed.order.merchant_ref + "/pay";
  }
  return http::Response::json_of(placed.created ? 201 : 200, out);
}

http::Response get_order(db::Database& db, const Settings& st, http::Request& req) {
  require_signed(req, st);
  auto o = db.with([&](soci::session& s) { return store::find_order(s, req.param("ref")); });
  if (!o) throw http::not_found("order");
  return http::Response::json_of(200, order_json(*o));
}

// The payer's side of a deposit (their bank or wallet confirming the transfer): not signed by the merchant.
http::Response pay_deposit(db::Database& db, http::Request& req) {
  const std::string ref = req.param("ref");
  const std::int64_t now = clock::now_ms();
  db.tx([&](soci::session& s) {
    auto o = store::find_order(s, ref);
    if (!o || o->kind != "deposit") throw http::not_found("deposit order");
    if (o->status != "awaiting_payment") throw http::conflict("deposit order is " + o->status);
    store::mark_paying(s, ref, now);
  });
  return http::Response::json_of(202, {{"merchant_ref", ref}, {"status", "paying"}});
}

http::Response queue_scenarios(db::Database& db, const Settings& st, http::Request& req) {
  require_signed(req, st);
  const json body = req.json_body();
  http::Fields f(body);
  const std::string kind = f.one_of("kind", {"payout", "deposit", "refund"});
  const auto outcomes = f.str_list("outcomes", 1, 100, 40);
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    if (!valid_outcome(kind, outcomes[i])) f.fail("outcomes[" + std::to_string(i) + "]", "unknown outcome");
  }
  f.done();
  db.tx([&](soci::session& s) {
    for (const auto& o : outcomes) store::insert_scenario(s, ids::make("scn"), kind, o);
  });
  return http::Response::json_of(201, {{"kind", kind}, {"queued", outcomes.size()}});
}

http::Response get_statement(db::Database& db, const Settings& st, http::Request& req) {
  require_signed(req, st);
  std::string csv;
  try {
    csv = statement_of_day(db, req.param("day"));
  } catch (const std::invalid_argument&) {
    throw http::invalid({{"day", "must be YYYY-MM-DD"}});
  }
  http::Response res;
  res.status = 200;
  res.content_type = "text/csv; charset=utf-8";
  res.body = std::move(csv);
  res.headers.emplace_back("Content-Disposition", "attachment; filename=\"statement-" + req.param("day") + ".csv\"");
  return res;
}

}  // namespace

std::string statement_of_day(db::Database& db, const std::string& day) {
  const auto start = clock::parse_rfc3339(day + "T00:00:00+08:00");
  if (day.size() != 10 || !start) throw std::invalid_argument("day must be YYYY-MM-DD");
  const std::int64_t from = *start, to = *start + 24LL * 3600 * 1000;
  const auto orders = db.read([&](soci::session& s) { return store::orders_settled_between(s, from, to); });
  return statement_csv(orders, from, to);
}

void add_routes(http::Router& router, db::Database& db, const Settings& st) {
  router.post("/sandbox/v1/orders", [&db, &st](http::Request& r) { return place_order(db, st, r); });
  router.get("/sandbox/v1/orders/{ref}", [&db, &st](http::Request& r) { return get_order(db, st, r); });
  router.post("/sandbox/v1/deposits/{ref}/pay", [&db](http::Request& r) { return pay_deposit(db, r); });
  router.post("/sandbox/v1/scenarios", [&db, &st](http::Request& r) { return queue_scenarios(db, st, r); });
  router.get("/sandbox/v1/statements/{day}", [&db, &st](http::Request& r) { return get_statement(db, st, r); });
}

}  // namespace crowd::paysandbox
