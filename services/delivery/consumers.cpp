#include "services/delivery/consumers.hpp"

#include <limits>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "services/delivery/store.hpp"

namespace crowd::delivery {

namespace {

constexpr std::int64_t kMaxI64 = std::numeric_limits<std::int64_t>::max();

store::Assignment assignment_from_event(const events::Event& e, std::int64_t now_ms) {
  events::Fields f(e);
  store::Assignment a;
  a.id = f.id("assignment_id");
  a.offer_id = f.id("offer_id");
  a.task_id = f.id("task_id");
  a.enterprise_id = f.id("enterprise_id");
  a.worker_id = f.id("worker_id");
  a.units = f.i64("units", 1, kMaxI64);
  a.pay_per_unit_fen = f.i64("pay_per_unit_fen", 0, kMaxI64);
  a.amount_fen = f.i64("amount_fen", 0, kMaxI64);
  a.currency = f.str("currency", 1, 10);
  a.category = f.str("category", 1, 100);
  a.title = f.str("title", 1, 10'000);
  a.review_window_s = f.i64("review_window_s", 0, kMaxI64);
  a.deadline_ms = f.i64("deadline_ms", 0, kMaxI64);
  f.done();
  a.status = AssignmentStatus::working;
  a.revision_round = 0;
  a.created_at_ms = now_ms;
  a.updated_at_ms = now_ms;
  return a;
}

}  // namespace

void on_assignment_created(soci::session& s, const events::Event& e) {
  const auto a = assignment_from_event(e, clock::now_ms());
  if (!store::insert_assignment(s, a)) {
    log::debug("assignment already known", {{"assignment_id", a.id}, {"event_id", e.id}});
  }
}

void add_consumers(events::Subscriptions& subs) {
  subs.on("matching", "assignment.created", on_assignment_created);
}

}  // namespace crowd::delivery
