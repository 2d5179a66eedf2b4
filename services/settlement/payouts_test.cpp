// The payout machine (payouts.hpp) against an in-process provider that records what it was asked: racing
// runners place each attempt once; failures back off and end with the money back; unknown outcomes are
// parked and never placed again; an attempt interrupted between its two transactions is recovered by
// asking the provider, not by placing blindly; notifications apply once. The whole-system tests
// (tests/integration/payouts_test.cpp) run the same paths against the sandbox provider over HTTP.
#include "services/settlement/payouts.hpp"

#include <doctest/doctest.h>
#include <soci/soci.h>

#include <map>
#include <mutex>
#include <thread>

#include "common/clock.hpp"
#include "common/crypto.hpp"
#include "services/settlement/ledger.hpp"
#include "services/settlement/test_support.hpp"

using namespace crowd;
using namespace crowd::settlement;
using nlohmann::json;

namespace {

// Answers place() with `answer` and remembers every order by merchant_ref, like a provider that dedupes.
class RecordingProvider : public Provider {
 public:
  PlaceResult::Outcome answer = PlaceResult::Outcome::accepted;
  std::string status_after_place = "processing";
  std::string name() const override { return "test"; }
  PlaceResult place(const ProviderOrder& o) override {
    std::lock_guard lock(mu);
    ++placed[o.merchant_ref];
    PlaceResult r;
    r.outcome = answer;
    if (answer == PlaceResult::Outcome::rejected) {
      r.error = "refused";
      return r;
    }
    orders.emplace(o.merchant_ref, o);
    status.emplace(o.merchant_ref, status_after_place);
    r.provider_ref = "prv-" + o.merchant_ref;
    r.status = status_after_place;
    if (answer == PlaceResult::Outcome::unknown) r.error = "timeout";
    return r;
  }
  QueryResult query(const std::string& ref) override {
    std::lock_guard lock(mu);
    QueryResult q;
    auto it = orders.find(ref);
    if (it == orders.end()) {
      q.found = QueryResult::Found::no;
      return q;
    }
    q.found = QueryResult::Found::yes;
    q.status = status[ref];
    q.provider_ref = "prv-" + ref;
    q.amount_fen = it->second.amount_fen;
    return q;
  }
  std::optional<std::string> statement(const std::string&) override { return std::nullopt; }
  int total_placed() {
    std::lock_guard lock(mu);
    int n = 0;
    for (const auto& [ref, count] : placed) n += count;
    return n;
  }
  std::mutex mu;
  std::map<std::string, int> placed;
  std::map<std::string, ProviderOrder> orders;
  std::map<std::string, std::string> status;
};

PayoutSettings settings() {
  PayoutSettings st;
  st.max_attempts = 3;
  st.backoff_base_ms = 0;
  st.recover_after_ms = 0;
  st.query_after_ms = 0;
  st.payee_key = crypto::key_from_hex(std::string(64, 'a'));
  return st;
}

// A worker with `payable` fen and a payout account; returns a payout of `amount` created for it.
PayoutRow worker_payout(SettlementDb& t, const PayoutSettings& st, std::int64_t payable, std::int64_t amount) {
  return t.db().tx([&](soci::session& s) {
    transfer(s, "seed:wkr_1", kClearing, worker_payable("wkr_1"), payable, "deposit", "seed");
    const std::string sealed = crypto::seal(st.payee_key, "6222020200112233445");
    const long long now = clock::now_ms();
    s << "INSERT INTO payout_accounts (worker_id, mode, payee_sealed, payee_masked, holder_masked, updated_at_ms) "
         "VALUES ('wkr_1', 'on_request', :p, '***3445', '李*', :n)",
        soci::use(sealed), soci::use(now);
    return create_payout(s, "worker", "wkr_1", "request", amount, std::string("k1"), st);
  });
}

PayoutRow reload(SettlementDb& t, const std::string& id) {
  return *t.db().with([&](soci::session& s) { return find_payout(s, id); });
}

std::int64_t balance(SettlementDb& t, const std::string& account) {
  return t.db().with([&](soci::session& s) { return balance_of(s, account); });
}

std::string notify(SettlementDb& t, const PayoutSettings& st, const std::string& event_id, const std::string& type,
                   const std::string& ref, std::int64_t amount) {
  return t.db().tx([&](soci::session& s) {
    return apply_notification(
        s, {{"event_id", event_id}, {"type", type}, {"merchant_ref", ref}, {"amount_fen", amount}, {"reason", "r"}},
        st);
  });
}

}  // namespace

TEST_CASE("payout runners racing place each attempt once, a notification settles it once") {
  SettlementDb t;
  // Recovery only after a while, as in production (it must exceed the provider's timeout): with 0, a runner
  // takes another's attempt for interrupted the moment it is claimed and places its merchant_ref again (the
  // provider dedupes on it), which is the recovery path, not the race this test is about.
  auto st = settings();
  st.recover_after_ms = 60'000;
  RecordingProvider provider;
  const auto p = worker_payout(t, st, 50'000, 30'000);
  CHECK(balance(t, worker_payable("wkr_1")) == 20'000);
  CHECK(balance(t, worker_payout_pending("wkr_1")) == 30'000);

  std::vector<std::thread> runners;
  for (int i = 0; i < 4; ++i) {
    runners.emplace_back([&] {
      for (int round = 0; round < 5; ++round) run_payouts(t.db(), provider, st);
    });
  }
  for (auto& r : runners) r.join();
  CHECK(provider.placed.size() == 1);
  CHECK(provider.placed[p.id + "-1"] == 1);
  CHECK(reload(t, p.id).status == "submitted");
  CHECK(reload(t, p.id).attempts == 1);

  CHECK(notify(t, st, "pev_1", "payout.succeeded", p.id + "-1", 30'000) == "applied");
  CHECK(notify(t, st, "pev_1", "payout.succeeded", p.id + "-1", 30'000) == "duplicate");
  CHECK(notify(t, st, "pev_2", "payout.succeeded", p.id + "-1", 30'000) == "ignored");   // a second copy
  CHECK(notify(t, st, "pev_3", "payout.failed", p.id + "-1", 30'000) == "conflict");     // contradicts success
  CHECK(notify(t, st, "pev_4", "payout.succeeded", p.id + "-1", 29'999) == "conflict");  // wrong amount
  CHECK(reload(t, p.id).status == "succeeded");
  CHECK(balance(t, worker_payout_pending("wkr_1")) == 0);
  CHECK(balance(t, kClearing) == -50'000 + 30'000);
  t.db().with([](soci::session& s) { CHECK(sum_of_balances(s) == 0); });
}

TEST_CASE("a refused payout backs off, and after the last attempt its money goes back to the payable") {
  SettlementDb t;
  auto st = settings();
  st.backoff_base_ms = 1000;
  RecordingProvider provider;
  provider.answer = PlaceResult::Outcome::rejected;
  const auto p = worker_payout(t, st, 40'000, 40'000);
  run_payouts(t.db(), provider, st);
  auto after1 = reload(t, p.id);
  CHECK(after1.status == "pending");
  CHECK(after1.attempts == 1);
  REQUIRE(after1.next_attempt_at_ms);
  CHECK(*after1.next_attempt_at_ms >= after1.updated_at_ms + 1000);
  run_payouts(t.db(), provider, st);  // not due yet: nothing placed
  CHECK(provider.total_placed() == 1);

  st.backoff_base_ms = 0;
  t.db().tx([&](soci::session& s) { s << "UPDATE payouts SET next_attempt_at_ms = 0"; });
  for (int i = 0; i < 5; ++i) run_payouts(t.db(), provider, st);
  const auto done = reload(t, p.id);
  CHECK(done.status == "failed");
  CHECK(done.attempts == 3);
  CHECK(provider.total_placed() == 3);
  CHECK(balance(t, worker_payable("wkr_1")) == 40'000);
  CHECK(balance(t, worker_payout_pending("wkr_1")) == 0);
}

TEST_CASE("an unknown outcome is parked, never placed again, and resolved only as the provider's record says") {
  SettlementDb t;
  const auto st = settings();
  RecordingProvider provider;
  provider.answer = PlaceResult::Outcome::unknown;
  const auto p = worker_payout(t, st, 10'000, 10'000);
  for (int i = 0; i < 5; ++i) run_payouts(t.db(), provider, st);
  CHECK(reload(t, p.id).status == "parked");
  CHECK(provider.total_placed() == 1);

  provider.status[p.id + "-1"] = "succeeded";
  CHECK_THROWS_AS(resolve_parked(t.db(), provider, p.id, "failed", "op_1", "no", st), http::Problem);
  CHECK(reload(t, p.id).status == "parked");
  const auto resolved = resolve_parked(t.db(), provider, p.id, "succeeded", "op_1", "statement", st);
  CHECK(resolved.status == "succeeded");
  CHECK(json::parse(resolved.resolution)["by"] == "op_1");
  CHECK(balance(t, worker_payout_pending("wkr_1")) == 0);
  CHECK_THROWS_AS(resolve_parked(t.db(), provider, p.id, "succeeded", "op_1", "again", st), http::Problem);
}

TEST_CASE("an attempt interrupted between its two transactions is recovered by asking the provider") {
  SettlementDb t;
  const auto st = settings();
  RecordingProvider provider;
  const auto p = worker_payout(t, st, 10'000, 10'000);
  // As a crash after the claim leaves it: submitting, attempt 1 recorded, the provider's answer lost.
  const std::string ref = p.id + "-1";
  t.db().tx([&](soci::session& s) {
    s << "UPDATE payouts SET status = 'submitting', attempts = 1, current_ref = :r, updated_at_ms = 0", soci::use(ref);
    s << "INSERT INTO payout_attempts (merchant_ref, payout_id, n, status, created_at_ms, updated_at_ms) VALUES "
         "(:r, :p, 1, 'submitting', 0, 0)",
        soci::use(ref), soci::use(p.id);
  });

  SUBCASE("the provider never got it: the same merchant_ref is placed once") {
    run_payouts(t.db(), provider, st);
    CHECK(provider.placed[ref] == 1);
    CHECK(reload(t, p.id).status == "submitted");
    run_payouts(t.db(), provider, st);  // submitted and overdue: a query, not a placement
    CHECK(provider.placed[ref] == 1);
  }
  SUBCASE("the provider has it and paid it: adopted without placing") {
    provider.orders.emplace(ref, ProviderOrder{ref, "payout", 10'000, "x"});
    provider.status[ref] = "succeeded";
    run_payouts(t.db(), provider, st);
    CHECK(provider.total_placed() == 0);
    CHECK(reload(t, p.id).status == "succeeded");
    CHECK(reload(t, p.id).attempts == 1);
  }
  CHECK(balance(t, worker_payable("wkr_1")) == 0);
}
