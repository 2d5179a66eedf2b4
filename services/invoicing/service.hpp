// invoicing: e-invoices (数电票 model) to enterprises for their settlements, put together. Port 8106.
// Issuing: consumers.hpp (settlement.completed, enterprise.registered); reading: api.hpp.
#pragma once

#include "common/service_main.hpp"

namespace crowd::invoicing {

ServiceSpec spec();

}  // namespace crowd::invoicing
