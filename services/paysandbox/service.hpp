// paysandbox: the sandbox payment provider (services/paysandbox/sandbox.hpp), put together. Port 8107.
// It publishes no events: it tells the platform of outcomes by signed HTTP notifications (jobs.hpp).
#pragma once

#include "common/service_main.hpp"

namespace crowd::paysandbox {

ServiceSpec spec();

}  // namespace crowd::paysandbox
