#include "services/paysandbox/sandbox.hpp"

#include <doctest/doctest.h>

using namespace crowd::paysandbox;

namespace {
Order order(const std::string& kind, const std::string& scenario) {
  Order o;
  o.merchant_ref = "po_1";
  o.provider_ref = "prv_1";
  o.kind = kind;
  o.amount_fen = 12'345;
  o.status = kind == "deposit" ? "awaiting_payment" : "processing";
  o.scenario = scenario;
  return o;
}
}  // namespace

TEST_CASE("outcomes a test may queue, by kind") {
  CHECK(valid_outcome("payout", "return"));
  CHECK(valid_outcome("refund", "stall_silent"));
  CHECK(valid_outcome("deposit", "await"));
  CHECK_FALSE(valid_outcome("deposit", "return"));
  CHECK_FALSE(valid_outcome("payout", "pay"));
  CHECK_FALSE(valid_outcome("transfer", "succeed"));
  CHECK(default_outcome("payout", true) == "succeed");
  CHECK(default_outcome("deposit", true) == "pay");
  CHECK(default_outcome("deposit", false) == "await");
}

TEST_CASE("deciding an order by its scenario") {
  Order ok = order("payout", "succeed");
  const Decision d = decide(ok, 1'000, 300);
  CHECK(ok.status == "succeeded");
  CHECK(ok.succeeded_at_ms == 1'000);
  CHECK(d.type == "payout.succeeded");
  CHECK(d.notify);
  CHECK(d.copies == 1);
  CHECK_FALSE(d.next_due_ms);

  Order failed = order("payout", "fail");
  CHECK(decide(failed, 1'000, 300).type == "payout.failed");
  CHECK(failed.status == "failed");
  CHECK(failed.reason == "account_frozen");

  Order expired = order("deposit", "expire");
  CHECK(decide(expired, 1'000, 300).type == "deposit.failed");
  CHECK(expired.reason == "payment_not_received");

  CHECK(decide(ok = order("refund", "duplicate"), 1'000, 300).copies == 2);
  CHECK_FALSE(decide(ok = order("payout", "silent"), 1'000, 300).notify);
  CHECK_FALSE(decide(ok = order("payout", "stall_silent"), 1'000, 300).notify);

  Order returned = order("payout", "return");
  const Decision first = decide(returned, 1'000, 300);
  CHECK(first.type == "payout.succeeded");
  CHECK(first.next_due_ms == 1'300);
  const Decision second = decide(returned, 1'300, 300);
  CHECK(second.type == "payout.returned");
  CHECK(returned.status == "returned");
  CHECK(returned.returned_at_ms == 1'300);
  CHECK(returned.succeeded_at_ms == 1'000);
  CHECK_FALSE(second.next_due_ms);
}

TEST_CASE("notification bodies, retries and statements") {
  Order o = order("payout", "succeed");
  decide(o, 1'000, 300);
  const auto body = notification_body(o, "pev_1", "payout.succeeded", 1'000);
  CHECK(body["event_id"] == "pev_1");
  CHECK(body["merchant_ref"] == "po_1");
  CHECK(body["amount_fen"] == 12'345);
  CHECK(body["occurred_at_ms"] == 1'000);
  CHECK(retry_delay_ms(0) == 200);
  CHECK(retry_delay_ms(3) == 1'600);
  CHECK(retry_delay_ms(20) == 10'000);

  const std::string csv = statement_csv({o}, 0, 2'000);
  CHECK(csv ==
        "provider_ref,merchant_ref,kind,direction,amount_fen,status,at\n"
        "prv_1,po_1,payout,debit,12345,succeeded,1970-01-01T00:00:01.000Z\n");
  CHECK(statement_csv({o}, 2'000, 3'000) == "provider_ref,merchant_ref,kind,direction,amount_fen,status,at\n");
}
