#include <doctest/doctest.h>

#include "common/http.hpp"
#include "common/ids.hpp"

using namespace crowd::http;

TEST_CASE("router binds path parameters and reports allowed methods") {
  Router r;
  int hit = 0;
  r.get("/v1/tasks/{id}", [&](Request&) {
    ++hit;
    return Response::no_content();
  });
  r.post("/v1/tasks/{id}/cancel", [&](Request&) { return Response::no_content(); });
  Request req;
  req.method = "GET";
  req.path = "/v1/tasks/tsk_1";
  auto m = r.match(req);
  REQUIRE(m.handler != nullptr);
  CHECK(m.pattern == "/v1/tasks/{id}");
  CHECK(req.param("id") == "tsk_1");
  req.method = "DELETE";
  auto m2 = r.match(req);
  CHECK(m2.handler == nullptr);
  CHECK(m2.allowed == std::vector<std::string>{"GET"});
  req.path = "/v1/tasks/tsk_1/cancel/extra";
  CHECK(r.match(req).handler == nullptr);
  CHECK(r.match(req).allowed.empty());
}

TEST_CASE("json_body refuses malformed JSON, non-objects and other media types") {
  Request req;
  req.headers["content-type"] = "application/json";
  req.body = "{\"a\":";
  CHECK_THROWS_AS(req.json_body(), Problem);
  try {
    req.json_body();
  } catch (const Problem& p) {
    CHECK(p.status == 400);
    CHECK(p.type == "malformed-json");
  }
  req.body = "[1]";
  CHECK_THROWS_AS(req.json_body(), Problem);
  req.body = "{\"a\":1}";
  CHECK(req.json_body()["a"] == 1);
  req.headers["content-type"] = "text/plain";
  try {
    req.json_body();
    FAIL("expected 415");
  } catch (const Problem& p) {
    CHECK(p.status == 415);
  }
}

TEST_CASE("Fields collects every field error with JSON paths") {
  json body = {{"title", ""},
               {"units", "3"},
               {"pay_per_unit", {{"amount_fen", -1}, {"currency", "USD"}}},
               {"skills", {"ok", 5}},
               {"flag", true}};
  Fields f(body);
  f.str("title", 1, 10);
  f.i64("units", 1, 10);
  f.money_fen("pay_per_unit", 1, 1000);
  f.str_list("skills", 0, 5);
  f.str("missing");
  CHECK(f.boolean("flag"));
  CHECK_FALSE(f.ok());
  std::vector<std::string> fields;
  for (const auto& e : f.errors()) fields.push_back(e.field);
  CHECK(fields == std::vector<std::string>{"title", "units", "pay_per_unit.amount_fen", "pay_per_unit.currency",
                                           "skills[1]", "missing"});
  try {
    f.done();
    FAIL("expected 422");
  } catch (const Problem& p) {
    CHECK(p.status == 422);
    auto j = p.to_json("/v1/x");
    CHECK(j["errors"].size() == 6);
    CHECK(j["instance"] == "/v1/x");
  }
}

TEST_CASE("Fields counts characters, not bytes, and rejects huge integers") {
  json body = {{"name", "张三丰"}, {"n", 18446744073709551615ULL}};
  Fields f(body);
  CHECK(f.str("name", 1, 3) == "张三丰");
  f.i64("n", 0, 100);
  CHECK(f.errors().size() == 1);
}

TEST_CASE("page_of validates limit") {
  Request req;
  CHECK(page_of(req).limit == 20);
  req.query["limit"] = "0";
  CHECK_THROWS_AS(page_of(req), Problem);
  req.query["limit"] = "50";
  CHECK(page_of(req).limit == 50);
}

TEST_CASE("cursors round-trip an id and refuse edited or foreign ones") {
  const std::string id = crowd::ids::make("tsk");
  const std::string cursor = encode_cursor(id);
  CHECK(cursor.find(id) == std::string::npos);  // opaque
  CHECK(decode_cursor(cursor, "tsk") == id);
  CHECK_FALSE(decode_cursor(cursor, "inv").has_value());
  CHECK_FALSE(decode_cursor("!!", "tsk").has_value());
  CHECK_FALSE(decode_cursor(encode_cursor("tsk_not-an-id"), "tsk").has_value());
}

TEST_CASE("deeply nested bodies are refused before parsing") {
  Request req;
  req.headers["content-type"] = "application/json";
  req.body = std::string(100000, '[') + std::string(100000, ']');
  try {
    req.json_body();
    FAIL("expected 400");
  } catch (const Problem& p) {
    CHECK(p.status == 400);
  }
  CHECK(json_nesting_within(R"({"a":[{"b":"[[[[[[[[["}]})", 3));
  CHECK_FALSE(json_nesting_within(R"({"a":[{"b":[[]]}]})", 4));
  CHECK(json_nesting_within(R"({"s":"\"{{{{"})", 1));
}
