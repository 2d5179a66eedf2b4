// The accounts handlers against the real migrations (crowd::testing::ServiceDb: SQLite, and PostgreSQL when
// CROWD_TEST_PG_URL is set): registration with the real-name check, duplicates refused, log-in and the
// audited operator read. Requests go to the handlers; events are read back from the outbox.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "common/events.hpp"
#include "common/http.hpp"
#include "common/testing/service_db.hpp"
#include "services/accounts/api.hpp"
#include "services/accounts/credentials.hpp"
#include "services/accounts/registration.hpp"

namespace {

namespace acc = crowd::accounts;
using crowd::auth::Principal;
using crowd::auth::Role;
using crowd::http::Request;
using crowd::http::Response;
using nlohmann::json;

struct World {
  crowd::testing::ServiceDb db{crowd::db::embedded_migrations(), 2};
  acc::Context ctx{*db, acc::pii_keys_from(std::string(64, 'a'), std::string(64, 'b')), acc::make_verifier("sandbox"),
                   "accounts-flow-test-secret-0123456789abcdef", 3600};

  World() { crowd::events::set_producer("accounts"); }

  // Calls a handler the way the server would, turning a thrown Problem into its response.
  Response call(Response (*handler)(acc::Context&, Request&), const json& body,
                std::optional<Principal> who = std::nullopt, std::map<std::string, std::string> params = {}) {
    Request req;
    req.method = body.is_null() ? "GET" : "POST";
    req.path = "/v1/test";
    req.request_id = "req_test";
    req.params = std::move(params);
    req.principal = std::move(who);
    if (!body.is_null()) {
      req.body = body.dump();
      req.headers["content-type"] = "application/json";
    }
    try {
      return handler(ctx, req);
    } catch (const crowd::http::Problem& p) {
      return Response::json_of(p.status, p.to_json(req.path));
    }
  }
};

json worker_body(const std::string& id_number = "11010519491231002X", const std::string& phone = "13800138000") {
  return {{"real_name", "张三"},
          {"id_number", id_number},
          {"phone", phone},
          {"password", "correct horse 1"},
          {"skills", {"Design", "cad"}},
          {"home", {{"lat", 26.074508}, {"lng", 119.296494}}}};
}

json enterprise_body(const std::string& code = "91350100M000100Y43") {
  return {{"name", "福州某某科技有限公司"}, {"credit_code", code}, {"password", "correct horse 1"}};
}

json body_of(const Response& r) {
  return json::parse(r.body);
}

std::set<std::string> error_fields(const Response& r) {
  std::set<std::string> out;
  const json problem = body_of(r);
  for (const auto& e : problem["errors"]) out.insert(e["field"].get<std::string>());
  return out;
}

}  // namespace

TEST_CASE("a worker registers once: real-name check, masked view, worker.registered, duplicates refused") {
  World w;
  auto r = w.call(acc::register_worker, worker_body());
  REQUIRE(r.status == 201);
  const json worker = body_of(r);
  const std::string id = worker["id"];
  CHECK(id.rfind("wkr_", 0) == 0);
  CHECK(worker["real_name_masked"] == "张*");
  CHECK(worker["id_number_masked"] == "110***********002X");
  CHECK(worker["phone_masked"] == "138****8000");
  CHECK(worker["verification"] == json{{"status", "verified"}, {"method", "id_checksum"}});
  CHECK(worker["credit_score"] == acc::kDefaultCreditScore);
  CHECK(r.body.find("11010519491231002X") == std::string::npos);  // never the clear number

  const auto events = w.db.outbox("worker.registered");
  REQUIRE(events.size() == 1);
  CHECK(events[0].key == id);
  CHECK(events[0].data["worker_id"] == id);
  CHECK(events[0].data["verified"] == true);
  CHECK(w.db.count("SELECT COUNT(*) FROM credit_records WHERE score = 80") == 1);
  CHECK(w.db.count("SELECT COUNT(*) FROM workers WHERE id_number_sealed LIKE '%11010519491231002X%'") == 0);

  // The real-name check: a number failing GB 11643 is refused, naming the field, and nothing is written.
  auto bad = w.call(acc::register_worker, worker_body("110105194912310021", "13900139000"));
  CHECK(bad.status == 422);
  CHECK(error_fields(bad) == std::set<std::string>{"id_number"});
  auto old = w.call(acc::register_worker, worker_body("110105189912311237", "13900139000"));
  CHECK(old.status == 422);
  CHECK(body_of(old)["errors"][0]["message"] == "birth year before 1900 is not plausible for a worker");

  // The same ID number (written another way) or the same phone: 409 with one message, saying neither.
  auto same_id = w.call(acc::register_worker, worker_body("11010519491231002x", "13900139000"));
  CHECK(same_id.status == 409);
  auto same_phone = w.call(acc::register_worker, worker_body("110105200001011238", "+86 138-0013-8000"));
  CHECK(same_phone.status == 409);
  CHECK(body_of(same_id)["detail"] == body_of(same_phone)["detail"]);
  CHECK(w.db.count("SELECT COUNT(*) FROM workers") == 1);
  CHECK(w.db.outbox("worker.registered").size() == 1);

  // The worker logs in with the phone; the operator's read of the clear values is audited.
  auto token =
      w.call(acc::issue_token, {{"role", "worker"}, {"phone", "13800138000"}, {"password", "correct horse 1"}});
  REQUIRE(token.status == 200);
  CHECK(body_of(token)["party_id"] == id);
  CHECK(
      w.call(acc::issue_token, {{"role", "worker"}, {"phone", "13800138000"}, {"password", "wrong horse 1"}}).status ==
      401);
  auto read = w.call(acc::admin_get_worker, nullptr, Principal{"op_1", Role::operator_, 0, 0}, {{"id", id}});
  REQUIRE(read.status == 200);
  CHECK(body_of(read)["id_number"] == "11010519491231002X");
  CHECK(w.db.count("SELECT COUNT(*) FROM pii_access_audit WHERE operator_id = 'op_1'") == 1);
}

TEST_CASE("an enterprise registers once: credit code checked, enterprise.registered, duplicates refused") {
  World w;
  auto bad = w.call(acc::register_enterprise, enterprise_body("91350100M000100Y44"));
  CHECK(bad.status == 422);
  CHECK(error_fields(bad) == std::set<std::string>{"credit_code"});

  auto r = w.call(acc::register_enterprise, enterprise_body(" 91350100m000100y43 "));
  REQUIRE(r.status == 201);
  const json ent = body_of(r);
  CHECK(ent["credit_code"] == "91350100M000100Y43");
  CHECK(ent["verification"] == json{{"status", "verified"}, {"method", "credit_code_checksum"}});
  const auto events = w.db.outbox("enterprise.registered");
  REQUIRE(events.size() == 1);
  CHECK(events[0].data ==
        json{{"enterprise_id", ent["id"]}, {"name", "福州某某科技有限公司"}, {"credit_code", "91350100M000100Y43"}});

  CHECK(w.call(acc::register_enterprise, enterprise_body()).status == 409);
  CHECK(w.db.count("SELECT COUNT(*) FROM enterprises") == 1);
  CHECK(w.db.outbox("enterprise.registered").size() == 1);
}

TEST_CASE("the start-up operator is created once") {
  World w;
  acc::bootstrap_operator(*w.db, {"ops", "operator password 1"});
  acc::bootstrap_operator(*w.db, {"ops", "another password 1"});  // an existing operator is left alone
  CHECK(w.db.count("SELECT COUNT(*) FROM operators") == 1);
  CHECK(w.call(acc::issue_token, {{"role", "operator"}, {"username", "ops"}, {"password", "operator password 1"}})
            .status == 200);
}
