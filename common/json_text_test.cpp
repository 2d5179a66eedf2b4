#include "common/json_text.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <random>

using crowd::JsonObjectWriter;

TEST_CASE("JsonObjectWriter writes what nlohmann::json::dump() writes for the same object") {
  const std::string title = "设计 \"logo\"\\ a/b\n\t\x01 end";
  const std::string text = JsonObjectWriter()
                               .field("amount_fen", std::int64_t{756760})
                               .field("automatic", false)
                               .null_field("dispute_id")
                               .field("negative", std::int64_t{-12})
                               .raw_field("nested", R"({"a":[1,2]})")
                               .field("title", title)
                               .field("units", 3)
                               .done();
  const nlohmann::json j = {{"amount_fen", 756760},
                            {"automatic", false},
                            {"dispute_id", nullptr},
                            {"negative", -12},
                            {"nested", {{"a", {1, 2}}}},
                            {"title", title},
                            {"units", 3}};
  CHECK(text == j.dump());
  CHECK(nlohmann::json::parse(text) == j);
  CHECK(JsonObjectWriter().done() == "{}");
}

TEST_CASE("JsonObjectWriter escapes every control character and byte like nlohmann, and refuses bad UTF-8") {
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    std::string s;
    const int n = static_cast<int>(rng() % 12);
    for (int i = 0; i < n; ++i) s += static_cast<char>(rng() % 0x80);  // every ASCII byte, controls included
    if (round % 3 == 0) s += "税款";
    std::string out;
    crowd::append_json_string(out, s);
    CHECK(out == nlohmann::json(s).dump());
  }
  std::string out;
  CHECK_THROWS(crowd::append_json_string(out, std::string("\xff\xfe")));  // not UTF-8: nlohmann refuses
}

TEST_CASE("JsonObjectWriter refuses keys out of order or repeated (dump() would sort them)") {
  JsonObjectWriter w;
  w.field("b", 1);
  CHECK_THROWS_AS(w.field("a", 2), std::logic_error);
  JsonObjectWriter r;
  r.field("a", 1);
  CHECK_THROWS_AS(r.field("a", 2), std::logic_error);
}
