// A review decision applied to a pending submission: the one write path shared by the enterprise's review
// (api_review.cpp) and the auto-acceptance job (jobs.hpp). The pure rules decide (delivery_rules.hpp); this
// applies what they decided inside the caller's transaction.
#pragma once

#include <optional>
#include <string>

#include "common/http.hpp"
#include "services/delivery/delivery_rules.hpp"
#include "services/delivery/settings.hpp"
#include "services/delivery/store.hpp"

namespace soci {
class session;
}

namespace crowd::delivery {

struct Decided {
  store::Submission submission;
  store::Assignment assignment;
};

// State rules, conditional updates, evidence entry (on acceptance) and the outbox event
// (delivery.accepted, delivery.revision_requested or delivery.rejected), within the caller's transaction.
// Throws Problem 409 when the rules refuse or another writer decided first.
Decided decide(soci::session& s, const Settings& settings, store::Submission sub, store::Assignment a,
               const ReviewCommand& cmd, const std::optional<std::string>& reason, const std::string& trace_id);

// A refusal of the rules as the 409 problem the API answers.
http::Problem refused(const RuleError& e);

}  // namespace crowd::delivery
