// The second error channel: a broken invariant of our own (a ledger transfer id reused for another effect,
// an account that vanished, legs that do not add up) is a programmer error or corrupted state, never the
// sender's fault. It is not retried and never dead-lettered like a malformed event (events::Refusal): the
// event consumer that meets one stops consuming, logs it at error level and raises
// crowd_invariant_broken_total and crowd_consumer_halted on /metrics, so an operator is alerted while the
// event that exposed it stays pending for after the fix. A request handler that meets one answers 500.
#pragma once

#include <stdexcept>
#include <string>

namespace crowd {

// Deliberately not a std::logic_error: the event kit counts those (and std::invalid_argument) as refusals.
class InvariantBroken : public std::runtime_error {
 public:
  explicit InvariantBroken(const std::string& what) : std::runtime_error("invariant broken: " + what) {}
};

// Throws InvariantBroken(what) unless `ok`.
inline void invariant(bool ok, const std::string& what) {
  if (!ok) throw InvariantBroken(what);
}

}  // namespace crowd
