-- paysandbox: a stand-in for a real payment provider (bank/wallet channel), run beside the platform in
-- development and tests. It keeps its own records, like a real provider: the orders the platform placed,
-- the outcomes it decided, the signed notifications it owes the platform, and the scenarios tests queue.

-- One order per merchant_ref (the platform's id for the order: a payout attempt, a deposit, a refund).
-- A repeated placement with the same merchant_ref returns this row (providers dedupe on it).
-- status: processing → succeeded | failed (payouts, refunds); awaiting_payment → succeeded (deposits);
-- succeeded → returned (a payout the receiving bank sent back).
CREATE TABLE orders (
  merchant_ref TEXT PRIMARY KEY,
  provider_ref TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  amount_fen BIGINT NOT NULL,
  payee TEXT NOT NULL,
  notify_url TEXT NOT NULL,
  status TEXT NOT NULL,
  scenario TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  created_at_ms BIGINT NOT NULL,
  due_at_ms BIGINT,
  succeeded_at_ms BIGINT,
  returned_at_ms BIGINT,
  CHECK (amount_fen > 0)
);
CREATE INDEX orders_due ON orders (status, due_at_ms);

-- Notifications owed to the platform, delivered at least once (retried with backoff until a 2xx);
-- copies > 1 delivers the same event again (the "duplicate" scenario).
CREATE TABLE notifications (
  event_id TEXT PRIMARY KEY,
  merchant_ref TEXT NOT NULL,
  notify_url TEXT NOT NULL,
  body TEXT NOT NULL,
  due_at_ms BIGINT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  copies INTEGER NOT NULL DEFAULT 1,
  delivered_at_ms BIGINT
);
CREATE INDEX notifications_due ON notifications (delivered_at_ms, due_at_ms);

-- Outcomes queued by tests for the next orders of a kind (first in, first out by id).
CREATE TABLE scenarios (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  outcome TEXT NOT NULL
);

