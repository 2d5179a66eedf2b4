#include "services/paysandbox/sandbox.hpp"

#include <algorithm>

#include "common/clock.hpp"

namespace crowd::paysandbox {

using nlohmann::json;

bool valid_outcome(const std::string& kind, const std::string& o) {
  static const std::vector<std::string> payout = {
      "succeed", "fail", "reject", "error_after_record", "stall", "stall_silent", "silent", "duplicate", "return"};
  static const std::vector<std::string> deposit = {"pay", "await", "expire"};
  const auto& list = kind == "deposit" ? deposit : payout;
  if (kind != "deposit" && kind != "payout" && kind != "refund") return false;
  return std::find(list.begin(), list.end(), o) != list.end();
}

std::string default_outcome(const std::string& kind, bool autopay_deposits) {
  if (kind == "deposit") return autopay_deposits ? "pay" : "await";
  return "succeed";
}

Decision decide(Order& o, std::int64_t now, std::int64_t delay_ms) {
  Decision d;
  if (o.status == "succeeded" && o.scenario == "return") {
    o.status = "returned";
    o.returned_at_ms = now;
    o.reason = "receiving bank returned the funds";
    d.type = "payout.returned";
  } else if (o.scenario == "fail" || o.scenario == "expire") {
    o.status = "failed";
    o.reason = o.scenario == "fail" ? "account_frozen" : "payment_not_received";
    d.type = o.kind + ".failed";
  } else {
    o.status = "succeeded";
    o.succeeded_at_ms = now;
    d.type = o.kind + ".succeeded";
    if (o.scenario == "return") d.next_due_ms = now + delay_ms;
    if (o.scenario == "duplicate") d.copies = 2;
    if (o.scenario == "silent" || o.scenario == "stall_silent") d.notify = false;
  }
  return d;
}

json notification_body(const Order& o, const std::string& event_id, const std::string& type, std::int64_t now) {
  return {{"event_id", event_id},
          {"type", type},
          {"merchant_ref", o.merchant_ref},
          {"provider_ref", o.provider_ref},
          {"kind", o.kind},
          {"amount_fen", o.amount_fen},
          {"reason", o.reason},
          {"occurred_at_ms", now}};
}

std::int64_t retry_delay_ms(int attempts) {
  return std::min<std::int64_t>(200LL << std::min(attempts, 6), 10'000);
}

json order_json(const Order& o) {
  json j{{"merchant_ref", o.merchant_ref},
         {"provider_ref", o.provider_ref},
         {"kind", o.kind},
         {"amount_fen", o.amount_fen},
         {"status", o.status},
         {"reason", o.reason},
         {"created_at", clock::rfc3339(o.created_at_ms)}};
  if (o.succeeded_at_ms) j["succeeded_at"] = clock::rfc3339(*o.succeeded_at_ms);
  if (o.returned_at_ms) j["returned_at"] = clock::rfc3339(*o.returned_at_ms);
  return j;
}

std::string statement_csv(const std::vector<Order>& orders, std::int64_t from, std::int64_t to) {
  std::string csv = "provider_ref,merchant_ref,kind,direction,amount_fen,status,at\n";
  for (const Order& o : orders) {
    const std::string out_dir = o.kind == "deposit" ? "credit" : "debit";
    if (o.succeeded_at_ms && *o.succeeded_at_ms >= from && *o.succeeded_at_ms < to) {
      csv += o.provider_ref + "," + o.merchant_ref + "," + o.kind + "," + out_dir + "," + std::to_string(o.amount_fen) +
             ",succeeded," + clock::rfc3339(*o.succeeded_at_ms) + "\n";
    }
    if (o.returned_at_ms && *o.returned_at_ms >= from && *o.returned_at_ms < to) {
      csv += o.provider_ref + "," + o.merchant_ref + "," + o.kind + ",credit," + std::to_string(o.amount_fen) +
             ",returned," + clock::rfc3339(*o.returned_at_ms) + "\n";
    }
  }
  return csv;
}

}  // namespace crowd::paysandbox
