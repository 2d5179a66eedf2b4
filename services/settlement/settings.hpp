// settlement's settings, read from the environment once at start (service.cpp): the payment provider's
// (provider.hpp), the payout machine's (payouts.hpp) and the fee cap's (fees.hpp). Invalid values refuse to
// start (std::invalid_argument).
#pragma once

#include "services/settlement/payouts.hpp"
#include "services/settlement/provider.hpp"

namespace crowd::settlement {

struct Settings {
  HttpProviderSettings provider;
  PayoutSettings payouts;
  int fee_max_share_bp = 0;  // CROWD_FEE_MAX_SHARE_BP (fees.hpp)

  static Settings from_env(int own_port);
  // No provider URL: deposits are credited at once (development); payouts wait for a provider.
  bool has_provider() const { return !provider.base_url.empty(); }
};

}  // namespace crowd::settlement
