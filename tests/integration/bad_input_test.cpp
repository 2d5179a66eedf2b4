// Bad input and other parties' objects: the right status, a problem body naming the field, nothing written.
#include <doctest/doctest.h>

#include "flows.hpp"

using namespace crowd::test;

namespace {
void check_problem(const HttpResponse& r, int status, const std::string& field = {}) {
  CHECK_MESSAGE(r.status == status, r.status << " " << r.body);
  CHECK(r.header("content-type").rfind("application/problem+json", 0) == 0);
  auto j = r.json_body();
  REQUIRE(j.is_object());
  CHECK(j["status"] == status);
  CHECK(j.contains("type"));
  CHECK(j.contains("title"));
  if (!field.empty()) {
    bool named = false;
    for (const auto& e : j.value("errors", json::array())) named = named || e["field"] == field;
    CHECK_MESSAGE(named, "no field error for " << field << ": " << r.body);
  }
}
}  // namespace

TEST_CASE("bad input gets problem+json naming the field and writes nothing") {
  Platform p("badinput");
  p.start_all();
  int accounts = p.port("accounts");

  // Malformed JSON, wrong types, missing fields.
  check_problem(http_request(accounts, "POST", "/v1/workers", "{\"real_name\": "), 400);
  check_problem(p.call("accounts", "POST", "/v1/workers", json::array({1, 2})), 400);
  check_problem(p.call("accounts", "POST", "/v1/workers", {{"real_name", 5}}), 422, "real_name");
  check_problem(p.call("accounts", "POST", "/v1/workers", {{"real_name", "张三"}}), 422, "id_number");
  // An ID number with a wrong check digit, and one with February 30 as birth date.
  json worker = {{"real_name", "张三"},
                 {"id_number", "110105194912310021"},
                 {"phone", "13800138000"},
                 {"password", "worker-pass-123"},
                 {"skills", {"cad"}}};
  check_problem(p.call("accounts", "POST", "/v1/workers", worker), 422, "id_number");
  worker["id_number"] = "110105194902300020";
  check_problem(p.call("accounts", "POST", "/v1/workers", worker), 422, "id_number");
  // An invalid 统一社会信用代码.
  check_problem(
      p.call("accounts", "POST", "/v1/enterprises",
             {{"name", "示例公司"}, {"credit_code", "91350100M000100Y44"}, {"password", "enterprise-pass-1"}}),
      422, "credit_code");
  // Nothing was written: the same phone and the same credit code register fine now.
  Party w = worker_zhang(p, {"cad"});
  Party a = register_enterprise(p, "甲公司", "91350100M000100Y43");

  // Oversized body, unknown route, wrong method.
  std::string big(2 * 1024 * 1024, 'x');
  check_problem(http_request(accounts, "POST", "/v1/workers", "{\"real_name\":\"" + big + "\"}"), 413);
  check_problem(p.call("accounts", "GET", "/v1/nothing-here"), 404);
  auto wrong = p.call("accounts", "DELETE", "/v1/enterprises");
  check_problem(wrong, 405);
  CHECK(wrong.header("allow").find("POST") != std::string::npos);

  // Tasks: field errors by JSON path, and no task written.
  json task = task_body("设计", "piecework", 1, 0);
  task["category"] = "astrology";
  task["deadline"] = "yesterday";
  auto r = p.call("tasks", "POST", "/v1/tasks", task, a.token);
  check_problem(r, 422, "pay_per_unit.amount_fen");
  check_problem(r, 422, "category");
  check_problem(r, 422, "deadline");
  check_problem(r, 422, "units");
  auto list = p.call("tasks", "GET", "/v1/tasks", nullptr, a.token);
  REQUIRE(list.status == 200);
  CHECK(list.json_body()["items"].empty());

  // Who may touch what: no token, wrong role, another enterprise's task.
  check_problem(p.call("tasks", "POST", "/v1/tasks", task_body("设计", "single", 1, 100)), 401);
  check_problem(p.call("tasks", "POST", "/v1/tasks", task_body("设计", "single", 1, 100), w.token), 403);
  check_problem(p.call("settlement", "POST", "/v1/deposits", {{"amount", {{"amount_fen", 100}}}}, w.token,
                       {{"Idempotency-Key", "k1"}}),
                403);
  deposit(p, a, 1'000'000, "a-topup");
  std::string task_a = post_open_task(p, a, task_body("甲的任务", "single", 1, 100'000));
  Party b = register_enterprise(p, "乙公司", "91110000600037341L");
  auto peek = p.call("tasks", "GET", "/v1/tasks/" + task_a, nullptr, b.token);
  CHECK(peek.status == 404);
  auto cancel = p.call("tasks", "POST", "/v1/tasks/" + task_a + "/cancel", json::object(), b.token);
  CHECK((cancel.status == 404 || cancel.status == 403));
  CHECK(get_task(p, a, task_a)["status"] == "open");
  // A forged token is no token.
  check_problem(p.call("tasks", "GET", "/v1/tasks", nullptr, a.token + "x"), 401);
  // The same deposit key with another amount is refused.
  auto reuse = p.call("settlement", "POST", "/v1/deposits", {{"amount", {{"amount_fen", 5}, {"currency", "CNY"}}}},
                      a.token, {{"Idempotency-Key", "a-topup"}});
  check_problem(reuse, 422);
}
