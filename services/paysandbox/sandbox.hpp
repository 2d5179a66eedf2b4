// paysandbox: a payment provider stand-in that behaves like a real one, so the platform's payout, deposit
// and refund paths meet the same things they will meet in production:
//   - orders placed by merchant_ref (the platform's id; a repeat returns the same order), signed requests;
//   - asynchronous outcomes delivered by signed notifications (HMAC over timestamp and message, the same
//     scheme as common/signature.hpp), retried until the platform answers 2xx, sometimes twice;
//   - failures, synchronous rejections, stalls past the caller's timeout, 500s after the order was taken,
//     lost notifications and payouts the receiving bank returns later;
//   - a daily statement (CSV) of the money that moved, for the platform's reconciliation.
// Scenarios are queued by tests (POST /sandbox/v1/scenarios); with none queued a payout or refund succeeds
// and a deposit is paid at once (CROWD_SANDBOX_AUTOPAY_DEPOSITS=0 makes it wait for /pay).
//
// This file is the pure part (orders, outcomes, notification bodies, statement lines); api.hpp has the
// routes, jobs.hpp the deciding and notifying jobs, store.hpp the SQL.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace crowd::paysandbox {

struct Order {
  std::string merchant_ref, provider_ref, kind, payee, notify_url, status, scenario, reason;
  std::int64_t amount_fen = 0, created_at_ms = 0;
  std::optional<std::int64_t> succeeded_at_ms, returned_at_ms;
};

// Every outcome a test may queue, by kind.
//   payout/refund: succeed, fail, reject (422 at once, no order), error_after_record (order taken, 500
//   answered), stall (order taken, answer after stall_ms), stall_silent (stall and never notify), silent
//   (succeed, never notify), duplicate (succeed, notify twice), return (succeed, then returned).
//   deposit: pay (paid at once), await (paid on POST .../pay), expire (failed after the delay).
bool valid_outcome(const std::string& kind, const std::string& outcome);
// The outcome of an order of `kind` when no scenario is queued.
std::string default_outcome(const std::string& kind, bool autopay_deposits);

// What deciding a due order did to it, and what the platform is told.
struct Decision {
  std::string type;  // the notification's type: "payout.succeeded", "deposit.failed", "payout.returned", ...
  int copies = 1;    // deliveries of the same notification ("duplicate": 2)
  bool notify = true;
  std::optional<std::int64_t> next_due_ms;  // decided again then ("return": the bank sends the money back)
};
// Decides the order's outcome from its scenario at now_ms, updating its status, reason and times.
Decision decide(Order& o, std::int64_t now_ms, std::int64_t delay_ms);

// The body of a notification to the platform.
nlohmann::json notification_body(const Order& o, const std::string& event_id, const std::string& type,
                                 std::int64_t now_ms);
// The wait before delivering a refused notification again, after `attempts` attempts (200 ms doubling, at
// most 10 s).
std::int64_t retry_delay_ms(int attempts);

nlohmann::json order_json(const Order& o);

// The statement of the CST day [from_ms, to_ms): "provider_ref,merchant_ref,kind,direction,amount_fen,status,at"
// with a header line, one line per movement of money settled that day.
std::string statement_csv(const std::vector<Order>& orders, std::int64_t from_ms, std::int64_t to_ms);

}  // namespace crowd::paysandbox
