// JSON representations of delivery resources for the API (times as RFC 3339 UTC, with the _ms twin that
// tests and the edge use to move clocks; amounts as {amount_fen, currency}).
#pragma once

#include <nlohmann/json.hpp>

#include "services/delivery/evidence.hpp"
#include "services/delivery/store.hpp"

namespace crowd::delivery::views {

nlohmann::json submission(const store::Submission& s);
nlohmann::json assignment(const store::Assignment& a, int max_revisions);
nlohmann::json evidence_entry(const evidence::Entry& e);

}  // namespace crowd::delivery::views
