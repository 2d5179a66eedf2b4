// The invoicing consumers and API against the real migrations (crowd::testing::ServiceDb: SQLite, and
// PostgreSQL when CROWD_TEST_PG_URL is set): events are applied as the kit applies them (inbox claim and
// handler in one transaction), requests go to the handlers.
#include <doctest/doctest.h>

#include <memory>
#include <set>
#include <stdexcept>
#include <thread>

#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/events.hpp"
#include "common/http.hpp"
#include "common/ids.hpp"
#include "common/testing/service_db.hpp"
#include "services/invoicing/api.hpp"
#include "services/invoicing/consumers.hpp"
#include "services/invoicing/store.hpp"

namespace {

namespace inv = crowd::invoicing;
using crowd::auth::Principal;
using crowd::auth::Role;
using crowd::events::Event;
using nlohmann::json;

const inv::Seller kSeller{"众包平台沙箱测试有限公司", "91350100M000100Y43", "44", '1'};

using crowd::testing::backends;

// One world per test and backend: a migrated database (crowd::testing::ServiceDb: a temp SQLite file, or the
// CROWD_TEST_PG_URL database emptied first), the consumers and the API.
struct World {
  crowd::testing::ServiceDb db;
  inv::Settings settings{kSeller};
  crowd::events::Subscriptions subs;
  std::unique_ptr<inv::Api> api;

  explicit World(const std::string& url) : db(crowd::db::embedded_migrations(), 2, url) {
    crowd::events::set_producer("invoicing");
    inv::add_consumers(subs, settings);
    api = std::make_unique<inv::Api>(*db);
  }

  // As the kit's consumer applies an entry: inbox claim and effect in one transaction.
  void deliver(const Event& e) {
    db->tx([&](soci::session& s) {
      if (crowd::events::inbox_claim(s, e.id, e.type)) (*subs.find(e.type))(s, e);
    });
  }

  std::int64_t count(const std::string& sql) { return db.count(sql); }

  std::vector<json> outbox() {
    return db->with([](soci::session& s) {
      std::vector<json> out;
      soci::rowset<soci::row> rs = s.prepare << "SELECT envelope FROM outbox ORDER BY id";
      for (const soci::row& r : rs) out.push_back(json::parse(crowd::db::get_str(r, 0)));
      return out;
    });
  }
};

Event event(const std::string& type, const std::string& key, json data) {
  Event e;
  e.id = crowd::ids::make("evt");
  e.type = type;
  e.occurred_at_ms = crowd::clock::now_ms();
  e.producer = type == "enterprise.registered" ? "accounts" : "settlement";
  e.trace_id = "trace-1";
  e.key = key;
  e.data = std::move(data);
  return e;
}

Event registered(const std::string& ent, const std::string& code = "91350100M000100Y43") {
  return event("enterprise.registered", ent,
               {{"enterprise_id", ent}, {"name", "深圳市示例科技有限公司"}, {"credit_code", code}});
}

Event settled(const std::string& stl, const std::string& ent, std::int64_t amount_fen, std::int64_t units = 1) {
  return event("settlement.completed", "asg_" + stl,
               {{"settlement_id", stl},
                {"assignment_id", "asg_" + stl},
                {"submission_id", "sub_1"},
                {"task_id", "tsk_1"},
                {"enterprise_id", ent},
                {"worker_id", "wkr_1"},
                {"category", "rd_design"},
                {"title", "三维建模"},
                {"units", units},
                {"amount_fen", amount_fen},
                {"fee_fen", 0},
                {"worker_gross_fen", amount_fen},
                {"iit_fen", 0},
                {"net_fen", amount_fen},
                {"currency", "CNY"},
                {"tax_year", 2026},
                {"tax_month", 11},
                {"settled_at_ms", 0}});
}

crowd::http::Request request(std::optional<Principal> who, std::map<std::string, std::string> query = {},
                             std::map<std::string, std::string> params = {}) {
  crowd::http::Request r;
  r.method = "GET";
  r.principal = std::move(who);
  r.query = std::move(query);
  r.params = std::move(params);
  return r;
}

Principal as(Role role, const std::string& id) {
  return Principal{id, role, 0, 0};
}

// The status of a handler call: the response's, or the problem's it threw.
template <class F>
int status_of(F&& f) {
  try {
    return f().status;
  } catch (const crowd::http::Problem& p) {
    return p.status;
  }
}

const std::string kEntA = "ent_01HZZZZZZZZZZZZZZZZZZZZZZA";
const std::string kEntB = "ent_01HZZZZZZZZZZZZZZZZZZZZZZB";

}  // namespace

TEST_CASE("one invoice per settlement, numbered without gaps, replays are no-ops") {
  for (const auto& url : backends()) {
    CAPTURE(url);
    World w(url);
    w.deliver(registered(kEntA));
    w.deliver(settled("stl_1", kEntA, 1'000'000));
    w.deliver(settled("stl_2", kEntA, 500'000));
    const Event third = settled("stl_3", kEntA, 500'000, 2);
    w.deliver(third);
    w.deliver(third);                             // the same event again: the inbox filters it
    w.deliver(settled("stl_2", kEntA, 500'000));  // another event for a settlement already invoiced
    CHECK(w.count("SELECT COUNT(*) FROM invoices") == 3);

    const int year = crowd::clock::cst_year_month(crowd::clock::now_ms()).year;
    const std::string prefix = std::to_string(year % 100) + "441";
    auto req = request(as(Role::enterprise, kEntA));
    auto resp = w.api->list_invoices(req);
    REQUIRE(resp.status == 200);
    const json items = json::parse(resp.body)["items"];
    REQUIRE(items.size() == 3);
    std::set<std::string> numbers;
    for (const auto& i : items) numbers.insert(i["number"].get<std::string>());
    CHECK(numbers ==
          std::set<std::string>{prefix + "000000000000001", prefix + "000000000000002", prefix + "000000000000003"});
    // Newest first: stl_3 was issued last.
    CHECK(items[0]["settlement_id"] == "stl_3");
    CHECK(items[0]["lines"][0]["quantity"] == 2);
    CHECK(items[2]["total_in_capitals"] == "壹万圆整");
    CHECK(items[2]["amount"]["amount_fen"] == 943'396);

    const auto out = w.outbox();
    REQUIRE(out.size() == 3);
    for (const auto& env : out) {
      CHECK(env["type"] == "invoice.issued");
      CHECK(env["producer"] == "invoicing");
      CHECK(env["trace_id"] == "trace-1");
      CHECK(env["data"]["enterprise_id"] == kEntA);
    }
    CHECK(out[0]["data"]["total_fen"] == 1'000'000);
    CHECK(out[0]["data"]["number"] == prefix + "000000000000001");
  }
}

TEST_CASE("a settlement before its enterprise waits, then is issued on enterprise.registered") {
  for (const auto& url : backends()) {
    CAPTURE(url);
    World w(url);
    w.deliver(settled("stl_1", kEntA, 10'600));
    w.deliver(settled("stl_2", kEntA, 21'200));
    w.deliver(settled("stl_1", kEntA, 10'600));  // a replay while waiting
    CHECK(w.count("SELECT COUNT(*) FROM invoices") == 0);
    CHECK(w.count("SELECT COUNT(*) FROM pending_invoices") == 2);
    CHECK(w.outbox().empty());

    w.deliver(registered(kEntA, "91350100M000100Y44"));  // a code failing the check: issued, flagged
    CHECK(w.count("SELECT COUNT(*) FROM invoices") == 2);
    CHECK(w.count("SELECT COUNT(*) FROM pending_invoices") == 0);
    CHECK(w.count("SELECT COUNT(*) FROM invoices WHERE buyer_needs_review = 1") == 2);
    CHECK(w.count("SELECT MAX(sequence) FROM invoices") == 2);
    CHECK(w.outbox().size() == 2);

    w.deliver(settled("stl_1", kEntA, 10'600));  // a replay after issue
    CHECK(w.count("SELECT COUNT(*) FROM invoices") == 2);
    auto req = request(as(Role::operator_, "op_1"));
    const json items = json::parse(w.api->list_invoices(req).body)["items"];
    REQUIRE(items.size() == 2);
    CHECK(items[1]["settlement_id"] == "stl_1");  // oldest pending first
    CHECK(items[1]["amount"]["amount_fen"] == 10'000);
    CHECK(items[1]["tax"]["amount_fen"] == 600);
    CHECK(items[1]["buyer"]["needs_review"] == true);
  }
}

TEST_CASE("a rolled-back issue gives its number back") {
  for (const auto& url : backends()) {
    CAPTURE(url);
    World w(url);
    CHECK_THROWS_AS(w.db->tx([](soci::session& s) {
      CHECK(inv::store::next_sequence(s, 2026) == 1);
      throw std::runtime_error("crash after numbering");
    }),
                    std::runtime_error);
    w.db->tx([](soci::session& s) {
      CHECK(inv::store::next_sequence(s, 2026) == 1);
      CHECK(inv::store::next_sequence(s, 2026) == 2);
      CHECK(inv::store::next_sequence(s, 2027) == 1);
    });
  }
}

TEST_CASE("malformed settlements throw and leave nothing behind") {
  for (const auto& url : backends()) {
    CAPTURE(url);
    World w(url);
    w.deliver(registered(kEntA));
    Event bad = settled("stl_1", kEntA, 1'000);
    bad.data["category"] = "casino";
    CHECK_THROWS_WITH_AS(w.deliver(bad), doctest::Contains("data.category"), crowd::events::Refusal);
    CHECK(w.count("SELECT COUNT(*) FROM inbox WHERE type = 'settlement.completed'") == 0);
    CHECK(w.count("SELECT COUNT(*) FROM invoices") == 0);
    CHECK(w.count("SELECT COUNT(*) FROM pending_invoices") == 0);
  }
}

TEST_CASE("who may read which invoices") {
  for (const auto& url : backends()) {
    CAPTURE(url);
    World w(url);
    w.deliver(registered(kEntA));
    w.deliver(registered(kEntB));
    for (int i = 1; i <= 5; ++i) w.deliver(settled("stl_a" + std::to_string(i), kEntA, 1'000 * i));
    w.deliver(settled("stl_b1", kEntB, 2'000));
    const auto a = as(Role::enterprise, kEntA);
    const auto b = as(Role::enterprise, kEntB);
    const auto op = as(Role::operator_, "op_1");
    const auto worker = as(Role::worker, "wkr_1");

    {  // lists
      auto rb = request(b);
      CHECK(json::parse(w.api->list_invoices(rb).body)["items"].size() == 1);
      auto rop = request(op);
      CHECK(json::parse(w.api->list_invoices(rop).body)["items"].size() == 6);
      auto rop_a = request(op, {{"enterprise_id", kEntA}});
      CHECK(json::parse(w.api->list_invoices(rop_a).body)["items"].size() == 5);
      CHECK(status_of([&] {
              auto r = request(worker);
              return w.api->list_invoices(r);
            }) == 403);
      CHECK(status_of([&] {
              auto r = request(std::nullopt);
              return w.api->list_invoices(r);
            }) == 401);
      CHECK(status_of([&] {
              auto r = request(a, {{"cursor", "not-a-cursor"}});
              return w.api->list_invoices(r);
            }) == 422);
      CHECK(status_of([&] {
              auto r = request(a, {{"limit", "0"}});
              return w.api->list_invoices(r);
            }) == 422);
    }

    {  // pages
      std::vector<std::string> seen;
      std::map<std::string, std::string> query = {{"limit", "2"}};
      for (int page = 0; page < 5; ++page) {
        auto r = request(a, query);
        const json body = json::parse(w.api->list_invoices(r).body);
        for (const auto& i : body["items"]) seen.push_back(i["settlement_id"]);
        if (body["next_cursor"].is_null()) break;
        query["cursor"] = body["next_cursor"];
      }
      CHECK(seen == std::vector<std::string>{"stl_a5", "stl_a4", "stl_a3", "stl_a2", "stl_a1"});
    }

    {  // one invoice
      auto ra = request(a);
      const std::string id = json::parse(w.api->list_invoices(ra).body)["items"][0]["id"];
      auto get = [&](std::optional<Principal> who, const std::string& inv_id) {
        return status_of([&] {
          auto r = request(who, {}, {{"id", inv_id}});
          return w.api->get_invoice(r);
        });
      };
      CHECK(get(a, id) == 200);
      CHECK(get(op, id) == 200);
      CHECK(get(b, id) == 404);
      CHECK(get(worker, id) == 404);
      CHECK(get(std::nullopt, id) == 401);
      CHECK(get(a, "inv_unknown") == 404);
      auto r = request(a, {}, {{"id", id}});
      const json doc = json::parse(w.api->get_invoice(r).body);
      CHECK(doc["id"] == id);
      CHECK(doc["total"]["currency"] == "CNY");
      CHECK(doc["total_in_capitals"] == "伍拾圆整");
    }
  }
}

TEST_CASE("concurrent issuers share one gapless sequence") {
  for (const auto& url : backends()) {
    CAPTURE(url);
    World w(url);
    w.deliver(registered(kEntA));
    constexpr int kPerThread = 15;
    auto issue_many = [&w](const std::string& tag) {
      for (int i = 0; i < kPerThread; ++i) w.deliver(settled("stl_" + tag + std::to_string(i), kEntA, 1'000 + i));
    };
    std::thread t1(issue_many, "x"), t2(issue_many, "y");
    t1.join();
    t2.join();
    CHECK(w.count("SELECT COUNT(*) FROM invoices") == 2 * kPerThread);
    CHECK(w.count("SELECT COUNT(DISTINCT number) FROM invoices") == 2 * kPerThread);
    CHECK(w.count("SELECT MIN(sequence) FROM invoices") == 1);
    CHECK(w.count("SELECT MAX(sequence) FROM invoices") == 2 * kPerThread);
    CHECK(w.count("SELECT last_seq FROM invoice_counters") == 2 * kPerThread);
  }
}
