// matching: the online workers' index, offers and assignments, put together. Port 8103.
// Roles: settings.hpp (tuning), api.hpp (routes), consumers.hpp (events), jobs.hpp (the sweep), store.hpp
// (SQL), and the domain: ranking.hpp and rules.hpp (pure), engine.hpp and offers.hpp (offer rounds and what
// a worker does with an offer), views.hpp (JSON shapes).
#pragma once

#include "common/service_main.hpp"

namespace crowd::matching {

ServiceSpec spec();

}  // namespace crowd::matching
