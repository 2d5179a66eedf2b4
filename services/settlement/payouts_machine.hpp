// The payout machine as a table (payouts.hpp tells the story): a payout's status and whether it has attempts
// left, a signal (the runner, the provider's answer to a placement, its signed notification, its answer to a
// status query, an operator's decision), and next(), which says where the payout goes and what must be done
// there. Pure: the appliers of payouts.cpp load the payout, ask next(), and apply the effect in the store.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace crowd::settlement {

// The payouts.status of 004_payouts.sql.
enum class PayoutStatus { pending, submitting, submitted, succeeded, failed, returned, parked };
std::string to_string(PayoutStatus s);
std::optional<PayoutStatus> parse_payout_status(std::string_view s);

struct PayoutState {
  PayoutStatus status = PayoutStatus::pending;
  bool attempts_left = true;  // attempts < max_attempts: a failed attempt is retried, not the last one
};

enum class PayoutSignal {
  due,  // the runner: the next attempt is due
  // The provider's answer to placing the current attempt.
  placed_processing,  // accepted, outcome to come
  placed_succeeded,   // accepted and already paid
  placed_failed,      // accepted and already failed
  place_rejected,     // refused (or never sent): nothing happened there
  place_unknown,      // timeout, 5xx, cut connection: it may or may not have taken it
  // A signed notification about the current attempt, or about an older one.
  notified_succeeded,
  notified_failed,
  notified_returned,
  notified_old_succeeded,
  notified_old_failed,
  notified_old_returned,
  // The provider's answer to a status query of the current attempt.
  found_processing,
  found_succeeded,
  found_failed,
  found_returned,
  not_found,
  // An operator's decision on a parked payout (after the provider's record agreed).
  operator_succeeded,
  operator_failed,
};
std::string to_string(PayoutSignal s);

enum class PayoutEffect {
  none,
  claim,                   // record the next attempt (submitting) and place it
  await_outcome,           // submitted; query if no news by then
  schedule_query,          // stay; query again later
  place_again,             // place the same merchant_ref again (the provider dedupes on it)
  post_sent,               // po:{id}:sent pending → external:clearing; {payout,refund}.succeeded
  schedule_retry,          // back to pending after the backoff
  post_back,               // po:{id}:back pending → source; {payout,refund}.failed
  park,                    // never placed again; {payout,refund}.parked
  post_returned,           // po:{id}:returned clearing → source; account blocked; payout.returned
  post_sent_and_returned,  // a query found it paid and sent back: both transfers, in order
};
std::string to_string(PayoutEffect e);

enum class PayoutOutcome {
  apply,          // go to `to` and apply `effect`
  ignore,         // late, repeated or not about this state: nothing changes
  contradiction,  // contradicts what we recorded: logged, left for reconciliation (the effect, if any, only
                  // looks again later)
};
std::string to_string(PayoutOutcome o);

struct PayoutTransition {
  PayoutOutcome outcome = PayoutOutcome::ignore;
  PayoutStatus to = PayoutStatus::pending;
  PayoutEffect effect = PayoutEffect::none;
  bool operator==(const PayoutTransition&) const = default;
};

PayoutTransition next(PayoutState from, PayoutSignal signal);

}  // namespace crowd::settlement
