#include <doctest/doctest.h>

#include "common/auth.hpp"
#include "common/clock.hpp"
#include "common/crypto.hpp"
#include "common/ids.hpp"
#include "common/money.hpp"

using namespace crowd;

TEST_CASE("tokens verify, expire and refuse tampering") {
  std::string secret(40, 's');
  auth::Principal p{"ent_1", auth::Role::enterprise, 1000, 5000};
  auto t = auth::issue_token(secret, p);
  auto v = auth::verify_token(secret, t, 2000);
  REQUIRE(v);
  CHECK(v->party_id == "ent_1");
  CHECK(v->role == auth::Role::enterprise);
  CHECK_FALSE(auth::verify_token(secret, t, 5000));                // expired
  CHECK_FALSE(auth::verify_token(std::string(40, 'x'), t, 2000));  // other secret
  auto forged =
      crypto::base64url_encode(R"({"sub":"ent_2","role":"operator","iat":1000,"exp":5000})") + t.substr(t.find('.'));
  CHECK_FALSE(auth::verify_token(secret, forged, 2000));
  CHECK_FALSE(auth::verify_token(secret, "garbage", 2000));
}

TEST_CASE("argon2id password hashes verify only the right password") {
  auto h = auth::hash_password("correct horse battery");
  CHECK(h.rfind("$argon2id$", 0) == 0);
  CHECK(auth::verify_password(h, "correct horse battery"));
  CHECK_FALSE(auth::verify_password(h, "wrong"));
  CHECK_FALSE(auth::verify_password("", "x"));
}

TEST_CASE("sealed personal data opens only with its key and detects tampering") {
  auto key = crypto::key_from_hex(std::string(64, 'a'));
  auto sealed = crypto::seal(key, "11010519491231002X");
  CHECK(sealed.find("1101") == std::string::npos);
  CHECK(crypto::open(key, sealed) == "11010519491231002X");
  CHECK_THROWS(crypto::open(crypto::key_from_hex(std::string(64, 'b')), sealed));
  std::string bad = sealed;
  bad[bad.size() - 2] = bad[bad.size() - 2] == 'A' ? 'B' : 'A';
  CHECK_THROWS(crypto::open(key, bad));
  CHECK_THROWS(crypto::key_from_hex("abc"));
  CHECK(crypto::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("rfc3339 round trip and CST calendar") {
  CHECK(clock::rfc3339(0) == "1970-01-01T00:00:00.000Z");
  auto t = clock::parse_rfc3339("2026-11-22T08:30:15.250Z");
  REQUIRE(t);
  CHECK(clock::rfc3339(*t) == "2026-11-22T08:30:15.250Z");
  CHECK(clock::parse_rfc3339("2026-11-22T16:30:15+08:00") == *t - 250);
  CHECK_FALSE(clock::parse_rfc3339("2026-02-30T00:00:00Z"));
  CHECK_FALSE(clock::parse_rfc3339("2026-11-22 08:30:15Z"));
  CHECK_FALSE(clock::parse_rfc3339("2026-11-22T08:30:15"));
  // 2026-12-31T16:00Z is already 2027-01-01 in China.
  auto ny = *clock::parse_rfc3339("2026-12-31T16:00:00Z");
  CHECK(clock::cst_year_month(ny).year == 2027);
  CHECK(clock::cst_year_month(ny).month == 1);
  CHECK(clock::cst_date(ny - 1) == "2026-12-31");
}

TEST_CASE("ids are unique, prefixed and sort by creation") {
  std::string prev;
  for (int i = 0; i < 2000; ++i) {
    auto id = ids::make("tsk");
    CHECK(ids::looks_like(id, "tsk"));
    if (!prev.empty()) CHECK(prev < id);
    prev = id;
  }
  CHECK_FALSE(ids::looks_like("tsk_short", "tsk"));
}

TEST_CASE("money rounding is half up and exact") {
  CHECK(money::mul_div_round(1000, 500, 10000) == 50);
  CHECK(money::mul_div_round(1, 5000, 10000) == 1);  // 0.5 → 1
  CHECK(money::mul_div_round(1, 4999, 10000) == 0);
  CHECK(money::yuan_string(123450) == "1234.50");
  CHECK(money::yuan_string(-5) == "-0.05");
}
