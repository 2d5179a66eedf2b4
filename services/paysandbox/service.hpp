// paysandbox: the sandbox payment provider (services/paysandbox/sandbox.hpp), put together. Port 8107.
#pragma once

#include "common/service_main.hpp"

namespace crowd::paysandbox {

ServiceSpec spec();

}  // namespace crowd::paysandbox
