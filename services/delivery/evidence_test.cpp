#include "services/delivery/evidence.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <vector>

using namespace crowd::delivery::evidence;

namespace {

SubmissionFacts facts(std::string id = "sub_1") {
  return {std::move(id), "asg_1", "wkr_1", std::string(64, 'a'), 1024, 1'700'000'000'000};
}

std::vector<Entry> chain_of(int n) {
  std::vector<Entry> out;
  for (int i = 0; i < n; ++i) {
    auto f = facts("sub_" + std::to_string(i));
    out.push_back(next_entry(out.empty() ? nullptr : &out.back(), std::string(kSubmissionKind), f.submission_id,
                             submission_payload(f), 1'000 + i));
  }
  return out;
}

ChainVerifier verify(const std::vector<Entry>& entries) {
  ChainVerifier v;
  for (const auto& e : entries) v.feed(e);
  return v;
}

}  // namespace

TEST_CASE("canonical text: sorted keys, no whitespace") {
  CHECK(canonical(submission_payload(facts())) ==
        R"({"assignment_id":"asg_1","content_sha256":")" + std::string(64, 'a') +
            R"(","size":1024,"submission_id":"sub_1","submitted_at_ms":1700000000000,"worker_id":"wkr_1"})");
  CHECK(canonical({{"b", true}, {"a", "é\"\n"}}) == "{\"a\":\"é\\\"\\n\",\"b\":true}");
  CHECK_THROWS_AS(canonical({{"x", 1.5}}), std::invalid_argument);
  CHECK_THROWS_AS(canonical(nlohmann::json::array()), std::invalid_argument);
}

TEST_CASE("entry hash: a fixed vector (SHA-256 of genesis hash + canonical payload)") {
  // Computed independently: sha256(("0" * 64) + canonical_payload).hexdigest()
  auto first = next_entry(nullptr, std::string(kSubmissionKind), "sub_1", submission_payload(facts()), 5);
  CHECK(first.seq == 1);
  CHECK(first.prev_hash == kGenesisHash);
  CHECK(first.hash == "c3247dfb4fd19b4a2a249f7f5d91868c155eb6475c3d90c400c631625e0f6699");
}

TEST_CASE("entries link: each prev_hash is the hash before it") {
  auto chain = chain_of(4);
  for (std::size_t i = 1; i < chain.size(); ++i) {
    CHECK(chain[i].seq == static_cast<std::int64_t>(i) + 1);
    CHECK(chain[i].prev_hash == chain[i - 1].hash);
  }
  auto v = verify(chain);
  CHECK(v.ok());
  CHECK(v.checked() == 4);
}

TEST_CASE("verification catches edits, drops and reorders") {
  SUBCASE("payload edited") {
    auto chain = chain_of(3);
    chain[1].payload.replace(chain[1].payload.find("1024"), 4, "2048");
    auto v = verify(chain);
    CHECK_FALSE(v.ok());
    CHECK(v.checked() == 1);
    CHECK(v.failure()->rfind("seq 2:", 0) == 0);
  }
  SUBCASE("hash rewritten to match the edit still breaks the next link") {
    auto chain = chain_of(3);
    chain[1].payload.replace(chain[1].payload.find("1024"), 4, "2048");
    chain[1].hash = entry_hash(chain[1].prev_hash, chain[1].payload);
    auto v = verify(chain);
    CHECK_FALSE(v.ok());
    CHECK(v.checked() == 2);
  }
  SUBCASE("entry dropped") {
    auto chain = chain_of(3);
    chain.erase(chain.begin() + 1);
    CHECK_FALSE(verify(chain).ok());
  }
  SUBCASE("entries swapped") {
    auto chain = chain_of(3);
    std::swap(chain[1], chain[2]);
    CHECK_FALSE(verify(chain).ok());
  }
  SUBCASE("a broken verifier stays broken") {
    auto chain = chain_of(2);
    ChainVerifier v;
    chain[0].hash[0] = chain[0].hash[0] == 'a' ? 'b' : 'a';
    CHECK_FALSE(v.feed(chain[0]));
    CHECK_FALSE(v.feed(chain[1]));
  }
}

TEST_CASE("acceptance payload carries the moment of transfer") {
  AcceptanceFacts a{"sub_1", "asg_1", "ent_1", "wkr_1", std::string(64, 'b'), true, 42};
  auto text = canonical(acceptance_payload(a));
  CHECK(text.find(R"("event":"accepted")") != std::string::npos);
  CHECK(text.find(R"("accepted_at_ms":42)") != std::string::npos);
  CHECK(text.find(R"("automatic":true)") != std::string::npos);
}
