// accounts: enterprises, workers, operators and integrations; real-name verification, credentials and
// tokens, API keys, credit records, audited operator reads of personal data; put together. Port 8101.
#pragma once

#include "common/service_main.hpp"

namespace crowd::accounts {

ServiceSpec spec();

}  // namespace crowd::accounts
