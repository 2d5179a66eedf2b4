#include "flows.hpp"

#include "common/clock.hpp"
#include "common/crypto.hpp"

namespace crowd::test {

namespace {
std::string describe(const HttpResponse& r) {
  return std::to_string(r.status) + " " + r.body;
}
}  // namespace

Party register_enterprise(Platform& p, const std::string& name, const std::string& credit_code) {
  auto r = p.call("accounts", "POST", "/v1/enterprises",
                  {{"name", name}, {"credit_code", credit_code}, {"password", "enterprise-pass-1"}});
  REQUIRE_MESSAGE(r.status == 201, describe(r));
  Party e{r.json_body()["id"].get<std::string>(), ""};
  auto t = p.call("accounts", "POST", "/v1/auth/token",
                  {{"role", "enterprise"}, {"credit_code", credit_code}, {"password", "enterprise-pass-1"}});
  REQUIRE_MESSAGE(t.status == 200, describe(t));
  e.token = t.json_body()["access_token"].get<std::string>();
  return e;
}

Party register_worker(Platform& p, const std::string& real_name, const std::string& id_number, const std::string& phone,
                      const json& skills) {
  auto r = p.call("accounts", "POST", "/v1/workers",
                  {{"real_name", real_name},
                   {"id_number", id_number},
                   {"phone", phone},
                   {"password", "worker-pass-123"},
                   {"skills", skills},
                   {"home", {{"lat", 22.54}, {"lng", 114.06}}}});
  REQUIRE_MESSAGE(r.status == 201, describe(r));
  CHECK(r.body.find(id_number) == std::string::npos);  // never unmasked
  Party w{r.json_body()["id"].get<std::string>(), ""};
  auto t = p.call("accounts", "POST", "/v1/auth/token",
                  {{"role", "worker"}, {"phone", phone}, {"password", "worker-pass-123"}});
  REQUIRE_MESSAGE(t.status == 200, describe(t));
  w.token = t.json_body()["access_token"].get<std::string>();
  return w;
}

Party example_enterprise(Platform& p) {
  return register_enterprise(p, "深圳市示例科技有限公司", "91350100M000100Y43");
}

Party worker_zhang(Platform& p, const json& skills) {
  return register_worker(p, "张三", "11010519491231002X", "13800138000", skills);
}

Party worker_li(Platform& p, const json& skills) {
  return register_worker(p, "李四", "110105199001011232", "13900139000", skills);
}

int invoice_count(Platform& p, const Party& ent) {
  auto r = p.call("invoicing", "GET", "/v1/invoices?limit=100", nullptr, ent.token);
  return r.status == 200 ? static_cast<int>(r.json_body()["items"].size()) : -1;
}

std::string operator_token(Platform& p) {
  auto t = p.call("accounts", "POST", "/v1/auth/token",
                  {{"role", "operator"}, {"username", "ops"}, {"password", "operator-password-1"}});
  REQUIRE_MESSAGE(t.status == 200, describe(t));
  return t.json_body()["access_token"].get<std::string>();
}

void deposit(Platform& p, const Party& ent, std::int64_t amount_fen, const std::string& key) {
  auto r = p.call("settlement", "POST", "/v1/deposits", {{"amount", {{"amount_fen", amount_fen}, {"currency", "CNY"}}}},
                  ent.token, {{"Idempotency-Key", key}});
  REQUIRE_MESSAGE(r.status == 201, describe(r));
  // Through the provider: credited when its signed deposit.succeeded arrives (the sandbox pays at once).
  const std::string id = r.json_body()["deposit_id"].get<std::string>();
  HttpResponse last;
  const bool done = eventually([&] {
    last = p.call("settlement", "GET", "/v1/deposits/" + id, nullptr, ent.token);
    return last.status == 200 && last.json_body()["status"] == "completed";
  });
  // A deposit that failed: what settlement and the sandbox said about it (placement answers are logged).
  if (!done) {
    const std::string logs =
        "settlement:\n" + p.log_tail("settlement", 3000) + "\npaysandbox:\n" + p.log_tail("paysandbox", 3000);
    MESSAGE(logs);
  }
  REQUIRE_MESSAGE(done, describe(last));
}

void go_online(Platform& p, const Party& worker) {
  HttpResponse last;
  bool ok = eventually([&] {
    last = p.call("matching", "PUT", "/v1/me/availability",
                  {{"online", true}, {"place", {{"lat", 22.55}, {"lng", 114.05}}}}, worker.token);
    return last.status == 200;
  });
  REQUIRE_MESSAGE(ok, describe(last));
}

json task_body(const std::string& title, const std::string& mode, int units, std::int64_t pay_fen,
               const std::string& category) {
  json t = {{"title", title},
            {"description", "交付一份可验收的成果：" + title},
            {"category", category},
            {"mode", mode},
            {"required_skills", {"cad"}},
            {"pay_per_unit", {{"amount_fen", pay_fen}, {"currency", "CNY"}}},
            {"deadline", clock::rfc3339(clock::now_ms() + 30LL * 86400000)},
            {"review_window_hours", 72},
            {"ip_terms", {{"transfer_on_acceptance", true}}}};
  if (mode == "piecework") t["units"] = units;
  return t;
}

json get_task(Platform& p, const Party& who, const std::string& task_id) {
  auto r = p.call("tasks", "GET", "/v1/tasks/" + task_id, nullptr, who.token);
  REQUIRE_MESSAGE(r.status == 200, describe(r));
  return r.json_body();
}

bool task_status_is(Platform& p, const Party& who, const std::string& task_id, const std::string& status) {
  return eventually([&] { return get_task(p, who, task_id)["status"] == status; });
}

std::string post_open_task(Platform& p, const Party& ent, json task) {
  auto r = p.call("tasks", "POST", "/v1/tasks", task, ent.token);
  REQUIRE_MESSAGE(r.status == 202, describe(r));
  std::string id = r.json_body()["id"].get<std::string>();
  CHECK(r.json_body()["status"] == "pending_funding");
  REQUIRE_MESSAGE(task_status_is(p, ent, id, "open"), get_task(p, ent, id).dump());
  return id;
}

std::string accept_offer(Platform& p, const Party& worker, const std::string& task_id) {
  std::string offer_id;
  HttpResponse r;
  bool offered = eventually([&] {
    r = p.call("matching", "GET", "/v1/me/offers", nullptr, worker.token);
    if (r.status != 200) return false;
    json body = r.json_body();  // kept alive: iterating a member of a temporary would dangle
    for (const auto& o : body["items"])
      if (o.value("task_id", "") == task_id) offer_id = o["id"].get<std::string>();
    return !offer_id.empty();
  });
  REQUIRE_MESSAGE(offered, "no offer for " << task_id << ": " << describe(r));
  auto a = p.call("matching", "POST", "/v1/offers/" + offer_id + "/accept", json::object(), worker.token);
  REQUIRE_MESSAGE(a.status == 201, describe(a));
  auto body = a.json_body();
  return body.contains("assignment_id") ? body["assignment_id"].get<std::string>() : body["id"].get<std::string>();
}

std::string submit(Platform& p, const Party& worker, const std::string& assignment_id, const std::string& content) {
  HttpResponse last;
  bool ok = eventually([&] {
    last = p.call("delivery", "POST", "/v1/assignments/" + assignment_id + "/submissions",
                  {{"content_sha256", crowd::crypto::sha256_hex(content)},
                   {"size_bytes", static_cast<std::int64_t>(content.size())},
                   {"media_type", "application/pdf"},
                   {"storage_ref", "s3://deliveries/" + assignment_id + "/v1.pdf"},
                   {"note", "首次交付"}},
                  worker.token);
    return last.status == 201;
  });
  REQUIRE_MESSAGE(ok, describe(last));
  return last.json_body()["id"].get<std::string>();
}

json balances(Platform& p, const Party& who) {
  auto r = p.call("settlement", "GET", "/v1/balances/me", nullptr, who.token);
  REQUIRE_MESSAGE(r.status == 200, describe(r));
  return r.json_body();
}

json ledger_check(Platform& p) {
  auto r = p.call("settlement", "GET", "/v1/admin/settlement/check", nullptr, operator_token(p));
  REQUIRE_MESSAGE(r.status == 200, describe(r));
  return r.json_body();
}

}  // namespace crowd::test
