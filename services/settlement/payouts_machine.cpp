#include "services/settlement/payouts_machine.hpp"

#include <array>
#include <stdexcept>
#include <utility>

#include "common/enum_text.hpp"

namespace crowd::settlement {

namespace {

using S = PayoutStatus;
using E = PayoutEffect;
using G = PayoutSignal;

constexpr EnumText<S, 7> kStatusNames{
    {"pending", "submitting", "submitted", "succeeded", "failed", "returned", "parked"}, "payout status"};

PayoutTransition go(S to, E effect) {
  return {PayoutOutcome::apply, to, effect};
}
PayoutTransition stay(PayoutState from) {
  return {PayoutOutcome::ignore, from.status, E::none};
}
PayoutTransition contradiction(PayoutState from, E effect = E::none) {
  return {PayoutOutcome::contradiction, from.status, effect};
}
// The current attempt failed for good: another one after the backoff, or after the last one the money back.
PayoutTransition failed(PayoutState from) {
  return from.attempts_left ? go(S::pending, E::schedule_retry) : go(S::failed, E::post_back);
}
// Open: an attempt is out (or its outcome unknown), a notification may decide it.
bool open(S s) {
  return s == S::submitting || s == S::submitted || s == S::parked;
}

PayoutTransition on_place_answer(PayoutState from, G signal) {
  if (from.status != S::submitting) return stay(from);  // a notification overtook the answer
  switch (signal) {
    case G::placed_processing:
      return go(S::submitted, E::await_outcome);
    case G::placed_succeeded:
      return go(S::succeeded, E::post_sent);
    case G::placed_failed:
    case G::place_rejected:
      return failed(from);
    default:
      return go(S::parked, E::park);
  }
}

PayoutTransition on_notification(PayoutState from, G signal) {
  const S s = from.status;
  switch (signal) {
    case G::notified_succeeded:
      if (s == S::succeeded) return stay(from);  // repeated
      return open(s) ? go(S::succeeded, E::post_sent) : contradiction(from);
    case G::notified_failed:
      if (open(s)) return failed(from);
      return s == S::succeeded ? contradiction(from) : stay(from);
    case G::notified_returned:
      if (s == S::returned) return stay(from);  // repeated
      return s == S::succeeded ? go(S::returned, E::post_returned) : contradiction(from);
    case G::notified_old_failed:
      return stay(from);  // it already counted as failed or was superseded
    default:
      return contradiction(from);  // an older attempt paid: two attempts paid, or a mix-up
  }
}

PayoutTransition on_query_answer(PayoutState from, G signal) {
  const S s = from.status;
  if (s != S::submitting && s != S::submitted) return stay(from);  // asked only about these
  switch (signal) {
    case G::found_processing:
      return s == S::submitting ? go(S::submitted, E::await_outcome) : go(s, E::schedule_query);
    case G::found_succeeded:
      return go(S::succeeded, E::post_sent);
    case G::found_failed:
      return failed(from);
    case G::found_returned:
      return go(S::returned, E::post_sent_and_returned);
    default:  // not found: never received (place it again), or lost after it took it
      return s == S::submitting ? go(s, E::place_again) : contradiction(from, E::schedule_query);
  }
}

}  // namespace

std::string to_string(PayoutStatus s) {
  return kStatusNames.name(s);
}

std::optional<PayoutStatus> parse_payout_status(std::string_view s) {
  return kStatusNames.find(s);
}

std::string to_string(PayoutSignal s) {
  constexpr std::array<const char*, 19> names{"due",
                                              "placed_processing",
                                              "placed_succeeded",
                                              "placed_failed",
                                              "place_rejected",
                                              "place_unknown",
                                              "notified_succeeded",
                                              "notified_failed",
                                              "notified_returned",
                                              "notified_old_succeeded",
                                              "notified_old_failed",
                                              "notified_old_returned",
                                              "found_processing",
                                              "found_succeeded",
                                              "found_failed",
                                              "found_returned",
                                              "not_found",
                                              "operator_succeeded",
                                              "operator_failed"};
  return names.at(static_cast<std::size_t>(s));
}

std::string to_string(PayoutEffect e) {
  constexpr std::array<const char*, 11> names{"none",        "claim",         "await_outcome",         "schedule_query",
                                              "place_again", "post_sent",     "schedule_retry",        "post_back",
                                              "park",        "post_returned", "post_sent_and_returned"};
  return names.at(static_cast<std::size_t>(e));
}

std::string to_string(PayoutOutcome o) {
  constexpr std::array<const char*, 3> names{"apply", "ignore", "contradiction"};
  return names.at(static_cast<std::size_t>(o));
}

PayoutTransition next(PayoutState from, PayoutSignal signal) {
  switch (signal) {
    case G::due:
      return from.status == S::pending ? go(S::submitting, E::claim) : stay(from);
    case G::placed_processing:
    case G::placed_succeeded:
    case G::placed_failed:
    case G::place_rejected:
    case G::place_unknown:
      return on_place_answer(from, signal);
    case G::notified_succeeded:
    case G::notified_failed:
    case G::notified_returned:
    case G::notified_old_succeeded:
    case G::notified_old_failed:
    case G::notified_old_returned:
      return on_notification(from, signal);
    case G::found_processing:
    case G::found_succeeded:
    case G::found_failed:
    case G::found_returned:
    case G::not_found:
      return on_query_answer(from, signal);
    case G::operator_succeeded:
      return from.status == S::parked ? go(S::succeeded, E::post_sent) : contradiction(from);
    case G::operator_failed:  // failed for good at the provider: no further attempt, the money goes back
      return from.status == S::parked ? go(S::failed, E::post_back) : contradiction(from);
  }
  throw std::logic_error("payout signal out of range");
}

}  // namespace crowd::settlement
