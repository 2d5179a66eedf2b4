#include "services/accounts/pii.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using namespace crowd::accounts;

namespace {
const std::string kSealHex(64, 'a');
const std::string kHmacHex(64, 'b');

std::string failure_of(const std::string& seal_hex, const std::string& hmac_hex) {
  try {
    pii_keys_from(seal_hex, hmac_hex);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return {};
}
}  // namespace

TEST_CASE("PII keys: missing or malformed keys are refused with the variable's name, never its value") {
  CHECK(failure_of("", kHmacHex).find("CROWD_PII_KEY is required") != std::string::npos);
  CHECK(failure_of(kSealHex, "").find("CROWD_PII_HMAC_KEY is required") != std::string::npos);
  const std::string bad = failure_of(kSealHex, "zz" + std::string(62, 'b'));
  CHECK(bad.find("CROWD_PII_HMAC_KEY must be 64 hex characters") != std::string::npos);
  CHECK(bad.find("zz") == std::string::npos);
  CHECK(failure_of("abcd", kHmacHex).find("CROWD_PII_KEY") != std::string::npos);
  CHECK(failure_of(kSealHex, kSealHex).find("two different keys") != std::string::npos);
  CHECK(failure_of(kSealHex, kHmacHex).empty());
}

TEST_CASE("PII: sealing round-trips, hides the value and is randomised, look-up hashes are keyed by kind") {
  const PiiKeys k = pii_keys_from(kSealHex, kHmacHex);
  const std::string id = "11010519491231002X";
  const std::string a = seal_pii(k, id);
  const std::string b = seal_pii(k, id);
  CHECK(a != b);
  CHECK(a.find(id) == std::string::npos);
  CHECK(open_pii(k, a) == id);
  const PiiKeys other = pii_keys_from(std::string(64, 'c'), kHmacHex);
  CHECK_THROWS(open_pii(other, a));
  CHECK(lookup_hmac(k, "id_number", id) == lookup_hmac(k, "id_number", id));
  CHECK(lookup_hmac(k, "id_number", id) != lookup_hmac(k, "phone", id));
  const PiiKeys other_hmac = pii_keys_from(kSealHex, std::string(64, 'd'));
  CHECK(lookup_hmac(k, "phone", "13800138000") != lookup_hmac(other_hmac, "phone", "13800138000"));
  CHECK(lookup_hmac(k, "phone", "13800138000").size() == 64);
}
