// delivery: submissions, reviews, revision rounds, automatic acceptance, expiry and the IP evidence chain;
// put together. Port 8104. See README.md.
#pragma once

#include "common/service_main.hpp"

namespace crowd::delivery {

ServiceSpec spec();

}  // namespace crowd::delivery
