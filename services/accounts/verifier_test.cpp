#include "services/accounts/verifier.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using namespace crowd::accounts;
using Status = VerificationResult::Status;

TEST_CASE("sandbox verifier: checksums decide, and the method says so") {
  SandboxChecksumVerifier v;
  auto p = v.verify_person({"张三", "11010519491231002X"});
  CHECK(p.status == Status::verified);
  CHECK(p.method == "id_checksum");
  CHECK(v.verify_person({"张三", "110105194912310021"}).status == Status::rejected);
  auto e = v.verify_enterprise({"某某公司", "91350100M000100Y43"});
  CHECK(e.status == Status::verified);
  CHECK(e.method == "credit_code_checksum");
  CHECK(v.verify_enterprise({"某某公司", "91350100M000100Y44"}).status == Status::rejected);
  CHECK(status_name(Status::verified) == "verified");
}

TEST_CASE("verifier selection: only the sandbox exists, another name refuses to start") {
  CHECK(dynamic_cast<SandboxChecksumVerifier*>(make_verifier("sandbox").get()) != nullptr);
  CHECK(dynamic_cast<SandboxChecksumVerifier*>(make_verifier("").get()) != nullptr);
  CHECK_THROWS_AS(make_verifier("nciic"), std::invalid_argument);
}
