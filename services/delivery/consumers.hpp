// Event consumers of delivery: matching's assignment.created records the assignment as "working".
#pragma once

#include <soci/soci.h>

#include "common/events.hpp"

namespace crowd::delivery {

// Runs inside the kit's inbox transaction. Idempotent: a replay (new event id, same assignment) inserts
// nothing thanks to the primary key. A malformed event is refused (events::Refusal naming every bad field):
// retried, then dead-lettered after the kit's maximum deliveries (the kit also dead-letters versions above 1
// before calling this).
void on_assignment_created(soci::session& s, const events::Event& e);

void add_consumers(events::Subscriptions& subs);

}  // namespace crowd::delivery
