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
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/db.hpp"
#include "common/http.hpp"

namespace crowd::paysandbox {

struct Settings {
  std::string secret;            // CROWD_PROVIDER_SECRET: shared with the platform (required)
  std::int64_t delay_ms = 300;   // CROWD_SANDBOX_DELAY_MS: from order to outcome
  std::int64_t stall_ms = 5000;  // CROWD_SANDBOX_STALL_MS: how long a "stall" answer takes
  bool autopay_deposits = true;  // CROWD_SANDBOX_AUTOPAY_DEPOSITS
  static Settings from_env();
};

// Every outcome a test may queue, by kind.
//   payout/refund: succeed, fail, reject (422 at once, no order), error_after_record (order taken, 500
//   answered), stall (order taken, answer after stall_ms), stall_silent (stall and never notify), silent
//   (succeed, never notify), duplicate (succeed, notify twice), return (succeed, then returned).
//   deposit: pay (paid at once), await (paid on POST .../pay), expire (failed after the delay).
bool valid_outcome(const std::string& kind, const std::string& outcome);

void add_routes(http::Router& router, db::Database& db, const Settings& settings);
// Decides due orders and queues their notifications; returns how many changed.
int decide_due(db::Database& db, const Settings& settings);
// Delivers due notifications (HTTP POST, signed); returns how many were delivered.
int deliver_due(db::Database& db, const Settings& settings);

// The statement of one CST day: "provider_ref,merchant_ref,kind,direction,amount_fen,status,at" lines
// with a header line, one per movement of money settled that day.
std::string statement_csv(db::Database& db, const std::string& day);

}  // namespace crowd::paysandbox
