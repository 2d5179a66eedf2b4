// The payout machine's table (payouts_machine.hpp), without a database: every (status, attempts left,
// signal) against the expected transition, written out below as a matrix.
#include "services/settlement/payouts_machine.hpp"

#include <doctest/doctest.h>

#include <array>
#include <map>
#include <string>

using namespace crowd::settlement;

namespace {

using S = PayoutStatus;
using G = PayoutSignal;
using E = PayoutEffect;

constexpr std::array<S, 7> kStatuses{S::pending, S::submitting, S::submitted, S::succeeded,
                                     S::failed,  S::returned,   S::parked};

// One cell: "-" ignored, "!" contradiction, "!q" contradiction that queries again later, "F" the attempt
// failed (a retry when attempts are left, else the money back), otherwise "status:effect" applied.
using Row = std::array<const char*, 7>;  // pending submitting submitted succeeded failed returned parked

const std::map<G, Row>& expected() {
  static const std::map<G, Row> table{
      {G::due, {"submitting:claim", "-", "-", "-", "-", "-", "-"}},
      {G::placed_processing, {"-", "submitted:await_outcome", "-", "-", "-", "-", "-"}},
      {G::placed_succeeded, {"-", "succeeded:post_sent", "-", "-", "-", "-", "-"}},
      {G::placed_failed, {"-", "F", "-", "-", "-", "-", "-"}},
      {G::place_rejected, {"-", "F", "-", "-", "-", "-", "-"}},
      {G::place_unknown, {"-", "parked:park", "-", "-", "-", "-", "-"}},
      {G::notified_succeeded,
       {"!", "succeeded:post_sent", "succeeded:post_sent", "-", "!", "!", "succeeded:post_sent"}},
      {G::notified_failed, {"-", "F", "F", "!", "-", "-", "F"}},
      {G::notified_returned, {"!", "!", "!", "returned:post_returned", "!", "-", "!"}},
      {G::notified_old_succeeded, {"!", "!", "!", "!", "!", "!", "!"}},
      {G::notified_old_failed, {"-", "-", "-", "-", "-", "-", "-"}},
      {G::notified_old_returned, {"!", "!", "!", "!", "!", "!", "!"}},
      {G::found_processing, {"-", "submitted:await_outcome", "submitted:schedule_query", "-", "-", "-", "-"}},
      {G::found_succeeded, {"-", "succeeded:post_sent", "succeeded:post_sent", "-", "-", "-", "-"}},
      {G::found_failed, {"-", "F", "F", "-", "-", "-", "-"}},
      {G::found_returned,
       {"-", "returned:post_sent_and_returned", "returned:post_sent_and_returned", "-", "-", "-", "-"}},
      {G::not_found, {"-", "submitting:place_again", "!q", "-", "-", "-", "-"}},
      {G::operator_succeeded, {"!", "!", "!", "!", "!", "!", "succeeded:post_sent"}},
      {G::operator_failed, {"!", "!", "!", "!", "!", "!", "failed:post_back"}},
  };
  return table;
}

PayoutTransition cell(const std::string& c, PayoutState from) {
  if (c == "-") return {PayoutOutcome::ignore, from.status, E::none};
  if (c == "!") return {PayoutOutcome::contradiction, from.status, E::none};
  if (c == "!q") return {PayoutOutcome::contradiction, from.status, E::schedule_query};
  if (c == "F") {
    return from.attempts_left ? PayoutTransition{PayoutOutcome::apply, S::pending, E::schedule_retry}
                              : PayoutTransition{PayoutOutcome::apply, S::failed, E::post_back};
  }
  const auto colon = c.find(':');
  const auto to = parse_payout_status(c.substr(0, colon));
  REQUIRE(to);
  for (int e = 0; e <= static_cast<int>(E::post_sent_and_returned); ++e) {
    if (to_string(static_cast<E>(e)) == c.substr(colon + 1)) return {PayoutOutcome::apply, *to, static_cast<E>(e)};
  }
  FAIL("unknown effect in the expected table: " << c);
  return {};
}

}  // namespace

TEST_CASE("payout machine: every (status, signal) pair goes where the table says") {
  const int signals = static_cast<int>(G::operator_failed) + 1;
  CHECK(expected().size() == static_cast<std::size_t>(signals));  // every signal has its row
  for (int g = 0; g < signals; ++g) {
    const auto signal = static_cast<G>(g);
    const Row& row = expected().at(signal);
    for (std::size_t i = 0; i < kStatuses.size(); ++i) {
      for (bool left : {true, false}) {
        const PayoutState from{kStatuses[i], left};
        const PayoutTransition want = cell(row[i], from), got = next(from, signal);
        INFO(to_string(kStatuses[i]) << (left ? " (attempts left) " : " (last attempt) ") << to_string(signal)
                                     << ": got " << to_string(got.outcome) << " " << to_string(got.to) << " "
                                     << to_string(got.effect));
        CHECK(got == want);
      }
    }
  }
}

TEST_CASE("payout machine: a state that does not move stays where it is, with nothing to do unless it looks again") {
  for (int g = 0; g <= static_cast<int>(G::operator_failed); ++g) {
    for (S s : kStatuses) {
      const auto t = next({s, true}, static_cast<G>(g));
      if (t.outcome == PayoutOutcome::apply) continue;
      CHECK(t.to == s);
      CHECK((t.effect == E::none || t.effect == E::schedule_query));
    }
  }
}

TEST_CASE("payout statuses keep the database's words") {
  for (S s : kStatuses) CHECK(parse_payout_status(to_string(s)) == s);
  CHECK(to_string(S::submitting) == "submitting");
  CHECK(to_string(S::parked) == "parked");
  CHECK_FALSE(parse_payout_status("processing"));
}
