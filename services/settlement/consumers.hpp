// Event consumers of settlement. Each runs inside the transaction that records the event in the inbox:
// it writes its effect and its follow-up events with that session and never commits. A handler that
// throws leaves the event pending: it is retried and, after the bounded retries, dead-lettered.
#pragma once

#include "common/events.hpp"
#include "services/settlement/consumer_support.hpp"

namespace crowd::settlement {

void on_task_created(soci::session& s, const events::Event& e);
void on_units_released(soci::session& s, const events::Event& e);
void on_task_cancelled(soci::session& s, const events::Event& e);
void on_delivery_accepted(soci::session& s, const events::Event& e);  // consumers_pay.cpp
void on_offer_created(soci::session& s, const events::Event& e);
// invoice.issued (invoicing) → the invoice, kept for the enterprise's statement (once per invoice id).
void on_invoice_issued(soci::session& s, const events::Event& e);
// Two-phase escrow per assignment (consumers.cpp) and split rulings (consumers_pay.cpp);
// 003_escrow_reservations.sql.
void on_assignment_created(soci::session& s, const events::Event& e);
void on_delivery_rejected(soci::session& s, const events::Event& e);
void on_assignment_expired(soci::session& s, const events::Event& e);
void on_dispute_resolved(soci::session& s, const events::Event& e);

// tasks: task.created, task.cancelled; matching: task.units_released, offer.created, assignment.created;
// delivery: delivery.accepted, delivery.rejected, assignment.expired; disputes: dispute.resolved;
// invoicing: invoice.issued.
void subscribe(events::Subscriptions& subs);

}  // namespace crowd::settlement
