#include "services/paysandbox/sandbox.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "common/clock.hpp"
#include "common/config.hpp"
#include "common/http_client.hpp"
#include "common/ids.hpp"
#include "common/log.hpp"
#include "common/signature.hpp"

namespace crowd::paysandbox {

using nlohmann::json;

Settings Settings::from_env() {
  Settings s;
  s.secret = config::env_str("CROWD_PROVIDER_SECRET", "");
  if (s.secret.size() < 16) throw std::invalid_argument("CROWD_PROVIDER_SECRET must be set (at least 16 characters)");
  s.delay_ms = config::env_int("CROWD_SANDBOX_DELAY_MS", s.delay_ms);
  s.stall_ms = config::env_int("CROWD_SANDBOX_STALL_MS", s.stall_ms);
  s.autopay_deposits = config::env_bool("CROWD_SANDBOX_AUTOPAY_DEPOSITS", s.autopay_deposits);
  return s;
}

bool valid_outcome(const std::string& kind, const std::string& o) {
  static const std::vector<std::string> payout = {
      "succeed", "fail", "reject", "error_after_record", "stall", "stall_silent", "silent", "duplicate", "return"};
  static const std::vector<std::string> deposit = {"pay", "await", "expire"};
  const auto& list = kind == "deposit" ? deposit : payout;
  if (kind != "deposit" && kind != "payout" && kind != "refund") return false;
  return std::find(list.begin(), list.end(), o) != list.end();
}

namespace {

struct Order {
  std::string merchant_ref, provider_ref, kind, payee, notify_url, status, scenario, reason;
  std::int64_t amount_fen = 0, created_at_ms = 0;
  std::optional<std::int64_t> succeeded_at_ms, returned_at_ms;
};

constexpr const char* kOrderCols =
    "merchant_ref, provider_ref, kind, amount_fen, payee, notify_url, status, scenario, reason, created_at_ms, "
    "succeeded_at_ms, returned_at_ms";

Order order_of(const soci::row& r) {
  Order o;
  o.merchant_ref = db::get_str(r, 0);
  o.provider_ref = db::get_str(r, 1);
  o.kind = db::get_str(r, 2);
  o.amount_fen = db::get_i64(r, 3);
  o.payee = db::get_str(r, 4);
  o.notify_url = db::get_str(r, 5);
  o.status = db::get_str(r, 6);
  o.scenario = db::get_str(r, 7);
  o.reason = db::get_str(r, 8);
  o.created_at_ms = db::get_i64(r, 9);
  o.succeeded_at_ms = db::get_opt_i64(r, 10);
  o.returned_at_ms = db::get_opt_i64(r, 11);
  return o;
}

std::optional<Order> find_order(soci::session& s, const std::string& ref) {
  soci::rowset<soci::row> rows =
      (s.prepare << "SELECT " << kOrderCols << " FROM orders WHERE merchant_ref = :r", soci::use(ref));
  for (const auto& r : rows) return order_of(r);
  return std::nullopt;
}

json order_json(const Order& o) {
  json j{{"merchant_ref", o.merchant_ref},
         {"provider_ref", o.provider_ref},
         {"kind", o.kind},
         {"amount_fen", o.amount_fen},
         {"status", o.status},
         {"reason", o.reason},
         {"created_at", clock::rfc3339(o.created_at_ms)}};
  if (o.succeeded_at_ms) j["succeeded_at"] = clock::rfc3339(*o.succeeded_at_ms);
  if (o.returned_at_ms) j["returned_at"] = clock::rfc3339(*o.returned_at_ms);
  return j;
}

// The merchant's signature on a request to the sandbox (401 otherwise).
void require_signed(const http::Request& req, const Settings& st) {
  const auto verdict = signature::verify_headers(st.secret, req.headers,
                                                 signature::payload(req.method, req.target, req.body), clock::now_ms());
  if (verdict != signature::Verdict::ok) throw http::unauthorized(signature::describe(verdict));
}

// The next queued outcome for a kind, taken (deleted) in the caller's transaction; the default otherwise.
std::string take_outcome(soci::session& s, const std::string& kind, const Settings& st) {
  soci::rowset<soci::row> rows =
      (s.prepare << "SELECT id, outcome FROM scenarios WHERE kind = :k ORDER BY id LIMIT 1", soci::use(kind));
  for (const auto& r : rows) {
    const std::string id = db::get_str(r, 0);
    const std::string outcome = db::get_str(r, 1);
    s << "DELETE FROM scenarios WHERE id = :id", soci::use(id);
    return outcome;
  }
  if (kind == "deposit") return st.autopay_deposits ? "pay" : "await";
  return "succeed";
}

void queue_notification(soci::session& s, const Order& o, const std::string& type, int copies, std::int64_t now) {
  const std::string event_id = ids::make("pev");
  const json body{{"event_id", event_id},
                  {"type", type},
                  {"merchant_ref", o.merchant_ref},
                  {"provider_ref", o.provider_ref},
                  {"kind", o.kind},
                  {"amount_fen", o.amount_fen},
                  {"reason", o.reason},
                  {"occurred_at_ms", now}};
  const std::string text = body.dump();
  s << "INSERT INTO notifications (event_id, merchant_ref, notify_url, body, due_at_ms, attempts, copies) "
       "VALUES (:e, :m, :u, :b, :d, 0, :c)",
      soci::use(event_id), soci::use(o.merchant_ref), soci::use(o.notify_url), soci::use(text), soci::use(now),
      soci::use(copies);
}

// POST /sandbox/v1/orders {merchant_ref, kind, amount_fen, payee, notify_url} (signed).
http::Response place_order(db::Database& db, const Settings& st, http::Request& req) {
  require_signed(req, st);
  const json body = req.json_body();
  http::Fields f(body);
  Order o;
  o.merchant_ref = f.str("merchant_ref", 1, 100);
  o.kind = f.one_of("kind", {"payout", "deposit", "refund"});
  o.amount_fen = f.i64("amount_fen", 1, 1'000'000'000'000);
  o.payee = f.str("payee", 1, 200);
  o.notify_url = f.str("notify_url", 8, 300);
  f.done();
  const std::int64_t now = clock::now_ms();
  struct Placed {
    Order order;
    bool created = false;
    std::string outcome;
  };
  const Placed placed = db.tx([&](soci::session& s) {
    Placed p;
    if (auto known = find_order(s, o.merchant_ref)) {
      if (known->kind != o.kind || known->amount_fen != o.amount_fen) {
        throw http::conflict("merchant_ref " + o.merchant_ref + " was placed with another kind or amount");
      }
      p.order = *known;
      return p;
    }
    p.outcome = take_outcome(s, o.kind, st);
    if (p.outcome == "reject") return p;  // refused before anything is recorded
    o.provider_ref = ids::make("prv");
    o.scenario = p.outcome;
    o.status = o.kind == "deposit" ? "awaiting_payment" : "processing";
    o.created_at_ms = now;
    std::optional<std::int64_t> due;
    if (o.scenario != "await") due = now + st.delay_ms;
    soci::indicator due_ind = due ? soci::i_ok : soci::i_null;
    long long due_v = due.value_or(0);
    s << "INSERT INTO orders (merchant_ref, provider_ref, kind, amount_fen, payee, notify_url, status, scenario, "
         "reason, created_at_ms, due_at_ms) VALUES (:m, :p, :k, :a, :y, :u, :s, :sc, '', :c, :d)",
        soci::use(o.merchant_ref), soci::use(o.provider_ref), soci::use(o.kind), soci::use(o.amount_fen),
        soci::use(o.payee), soci::use(o.notify_url), soci::use(o.status), soci::use(o.scenario),
        soci::use(o.created_at_ms), soci::use(due_v, due_ind);
    p.order = o;
    p.created = true;
    return p;
  });
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

}  // namespace

int decide_due(db::Database& db, const Settings& st) {
  const std::int64_t now = clock::now_ms();
  return db.tx([&](soci::session& s) {
    std::vector<Order> due;
    {
      soci::rowset<soci::row> rows =
          (s.prepare << "SELECT " << kOrderCols
                     << " FROM orders WHERE due_at_ms IS NOT NULL AND due_at_ms <= :now ORDER BY due_at_ms LIMIT 100",
           soci::use(now));
      for (const auto& r : rows) due.push_back(order_of(r));
    }
    for (auto& o : due) {
      std::string status = o.status;
      std::optional<std::int64_t> next_due;
      std::string type;
      int copies = 1;
      bool notify = true;
      if (o.status == "succeeded" && o.scenario == "return") {
        status = "returned";
        o.returned_at_ms = now;
        o.reason = "receiving bank returned the funds";
        type = "payout.returned";
      } else if (o.scenario == "fail" || o.scenario == "expire") {
        status = "failed";
        o.reason = o.scenario == "fail" ? "account_frozen" : "payment_not_received";
        type = o.kind + ".failed";
      } else {
        status = "succeeded";
        o.succeeded_at_ms = now;
        type = o.kind + ".succeeded";
        if (o.scenario == "return") next_due = now + st.delay_ms;
        if (o.scenario == "duplicate") copies = 2;
        if (o.scenario == "silent" || o.scenario == "stall_silent") notify = false;
      }
      o.status = status;
      soci::indicator nd = next_due ? soci::i_ok : soci::i_null;
      long long nd_v = next_due.value_or(0);
      soci::indicator si = o.succeeded_at_ms ? soci::i_ok : soci::i_null;
      long long s_v = o.succeeded_at_ms.value_or(0);
      soci::indicator ri = o.returned_at_ms ? soci::i_ok : soci::i_null;
      long long r_v = o.returned_at_ms.value_or(0);
      s << "UPDATE orders SET status = :s, reason = :r, due_at_ms = :d, succeeded_at_ms = :sa, returned_at_ms = :ra "
           "WHERE merchant_ref = :m",
          soci::use(status), soci::use(o.reason), soci::use(nd_v, nd), soci::use(s_v, si), soci::use(r_v, ri),
          soci::use(o.merchant_ref);
      if (notify) queue_notification(s, o, type, copies, now);
    }
    return static_cast<int>(due.size());
  });
}

int deliver_due(db::Database& db, const Settings& st) {
  struct Due {
    std::string event_id, url, body;
    int attempts = 0, copies = 1;
  };
  const std::int64_t now = clock::now_ms();
  std::vector<Due> due = db.with([&](soci::session& s) {
    std::vector<Due> out;
    soci::rowset<soci::row> rows =
        (s.prepare << "SELECT event_id, notify_url, body, attempts, copies FROM notifications "
                      "WHERE delivered_at_ms IS NULL AND due_at_ms <= :now ORDER BY due_at_ms LIMIT 50",
         soci::use(now));
    for (const auto& r : rows) {
      out.push_back({db::get_str(r, 0), db::get_str(r, 1), db::get_str(r, 2), static_cast<int>(db::get_i64(r, 3)),
                     static_cast<int>(db::get_i64(r, 4))});
    }
    return out;
  });
  int delivered = 0;
  for (const auto& d : due) {
    bool ok = false;
    try {
      // notify_url is http://host:port/path
      const auto slash = d.url.find('/', 7);
      const auto base = http::parse_base_url(d.url.substr(0, slash));
      http::ClientRequest req;
      req.method = "POST";
      req.target = slash == std::string::npos ? "/" : d.url.substr(slash);
      req.body = d.body;
      req.headers = signature::headers(st.secret, clock::now_ms(), signature::payload("POST", req.target, d.body));
      req.timeout = std::chrono::milliseconds(3000);
      const auto res = http::fetch(base, req);
      ok = res.status >= 200 && res.status < 300;
      if (!ok) log::warn("notification refused", {{"event_id", d.event_id}, {"status", res.status}});
    } catch (const std::exception& e) {
      log::warn("notification not delivered", {{"event_id", d.event_id}, {"error", e.what()}});
    }
    db.tx([&](soci::session& s) {
      const long long t = clock::now_ms();
      if (ok && d.copies <= 1) {
        s << "UPDATE notifications SET delivered_at_ms = :t, attempts = attempts + 1 WHERE event_id = :e", soci::use(t),
            soci::use(d.event_id);
      } else if (ok) {
        s << "UPDATE notifications SET copies = copies - 1, attempts = attempts + 1 WHERE event_id = :e",
            soci::use(d.event_id);
      } else {
        const long long next = t + std::min<std::int64_t>(200LL << std::min(d.attempts, 6), 10'000);
        s << "UPDATE notifications SET attempts = attempts + 1, due_at_ms = :n WHERE event_id = :e", soci::use(next),
            soci::use(d.event_id);
      }
    });
    if (ok) ++delivered;
  }
  return delivered;
}

std::string statement_csv(db::Database& db, const std::string& day) {
  const auto start = clock::parse_rfc3339(day + "T00:00:00+08:00");
  if (day.size() != 10 || !start) throw std::invalid_argument("day must be YYYY-MM-DD");
  const long long from = *start, to = *start + 24LL * 3600 * 1000;
  std::string csv = "provider_ref,merchant_ref,kind,direction,amount_fen,status,at\n";
  db.read([&](soci::session& s) {
    soci::rowset<soci::row> rows =
        (s.prepare << "SELECT " << kOrderCols
                   << " FROM orders WHERE (succeeded_at_ms >= :f1 AND succeeded_at_ms < :t1) OR "
                      "(returned_at_ms >= :f2 AND returned_at_ms < :t2) ORDER BY created_at_ms, merchant_ref",
         soci::use(from), soci::use(to), soci::use(from), soci::use(to));
    for (const auto& r : rows) {
      const Order o = order_of(r);
      const std::string out_dir = o.kind == "deposit" ? "credit" : "debit";
      if (o.succeeded_at_ms && *o.succeeded_at_ms >= from && *o.succeeded_at_ms < to) {
        csv += o.provider_ref + "," + o.merchant_ref + "," + o.kind + "," + out_dir + "," +
               std::to_string(o.amount_fen) + ",succeeded," + clock::rfc3339(*o.succeeded_at_ms) + "\n";
      }
      if (o.returned_at_ms && *o.returned_at_ms >= from && *o.returned_at_ms < to) {
        csv += o.provider_ref + "," + o.merchant_ref + "," + o.kind + ",credit," + std::to_string(o.amount_fen) +
               ",returned," + clock::rfc3339(*o.returned_at_ms) + "\n";
      }
    }
  });
  return csv;
}

void add_routes(http::Router& router, db::Database& db, const Settings& st) {
  router.post("/sandbox/v1/orders", [&db, &st](http::Request& r) { return place_order(db, st, r); });
  router.get("/sandbox/v1/orders/{ref}", [&db, &st](http::Request& r) {
    require_signed(r, st);
    auto o = db.with([&](soci::session& s) { return find_order(s, r.param("ref")); });
    if (!o) throw http::not_found("order");
    return http::Response::json_of(200, order_json(*o));
  });
  // The payer's side of a deposit (their bank or wallet confirming the transfer): not signed by the merchant.
  router.post("/sandbox/v1/deposits/{ref}/pay", [&db](http::Request& r) {
    const std::string ref = r.param("ref");
    const long long now = clock::now_ms();
    db.tx([&](soci::session& s) {
      auto o = find_order(s, ref);
      if (!o || o->kind != "deposit") throw http::not_found("deposit order");
      if (o->status != "awaiting_payment") throw http::conflict("deposit order is " + o->status);
      s << "UPDATE orders SET due_at_ms = :n, scenario = 'pay' WHERE merchant_ref = :m", soci::use(now), soci::use(ref);
    });
    return http::Response::json_of(202, {{"merchant_ref", ref}, {"status", "paying"}});
  });
  router.post("/sandbox/v1/scenarios", [&db, &st](http::Request& r) {
    require_signed(r, st);
    const json body = r.json_body();
    http::Fields f(body);
    const std::string kind = f.one_of("kind", {"payout", "deposit", "refund"});
    const auto outcomes = f.str_list("outcomes", 1, 100, 40);
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
      if (!valid_outcome(kind, outcomes[i])) f.fail("outcomes[" + std::to_string(i) + "]", "unknown outcome");
    }
    f.done();
    db.tx([&](soci::session& s) {
      for (const auto& o : outcomes) {
        const std::string id = ids::make("scn");
        s << "INSERT INTO scenarios (id, kind, outcome) VALUES (:i, :k, :o)", soci::use(id), soci::use(kind),
            soci::use(o);
      }
    });
    return http::Response::json_of(201, {{"kind", kind}, {"queued", outcomes.size()}});
  });
  router.get("/sandbox/v1/statements/{day}", [&db, &st](http::Request& r) {
    require_signed(r, st);
    std::string csv;
    try {
      csv = statement_csv(db, r.param("day"));
    } catch (const std::invalid_argument&) {
      throw http::invalid({{"day", "must be YYYY-MM-DD"}});
    }
    http::Response res;
    res.status = 200;
    res.content_type = "text/csv; charset=utf-8";
    res.body = std::move(csv);
    res.headers.emplace_back("Content-Disposition", "attachment; filename=\"statement-" + r.param("day") + ".csv\"");
    return res;
  });
}

}  // namespace crowd::paysandbox
