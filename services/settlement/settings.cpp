#include "services/settlement/settings.hpp"

#include <stdexcept>

#include "services/settlement/fees.hpp"

namespace crowd::settlement {

Settings Settings::from_env(int own_port) {
  Settings s;
  s.provider = HttpProviderSettings::from_env(own_port);
  s.payouts = PayoutSettings::from_env();
  // An attempt "submitting" for longer than this was interrupted by a crash; a call in flight must end first.
  if (s.payouts.recover_after_ms <= s.provider.timeout.count()) {
    throw std::invalid_argument("CROWD_PAYOUT_RECOVER_AFTER_MS must be above CROWD_PROVIDER_TIMEOUT_MS");
  }
  s.fee_max_share_bp = domain::fee_max_share_bp();  // checked now rather than at the first settlement
  return s;
}

}  // namespace crowd::settlement
