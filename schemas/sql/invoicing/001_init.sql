-- invoicing: the buyers learnt from accounts' enterprise.registered, the e-invoices (数电票 model) issued to
-- enterprises for settlement's settlement.completed, the per-year number counter, and the settlements that
-- arrived before their enterprise. Times are ms since the epoch, money is BIGINT fen, ids are time-ordered TEXT.

-- One row per enterprise, as registered. credit_code is as received; credit_code_ok is 0 when it fails the
-- GB 32100 check (its invoices are flagged buyer_needs_review, not refused).
CREATE TABLE buyers (
  enterprise_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  credit_code TEXT NOT NULL,
  credit_code_ok INTEGER NOT NULL,
  registered_at_ms BIGINT NOT NULL
);

-- The last sequence number issued per calendar year (China time). Incremented in the transaction that
-- inserts the invoice, so a number is never reused (the row only grows) and never skipped (a rolled-back
-- issue rolls the increment back with it).
CREATE TABLE invoice_counters (
  year INTEGER PRIMARY KEY,
  last_seq BIGINT NOT NULL CHECK (last_seq >= 0)
);

-- One row per issued invoice. settlement_id is unique: one invoice per settlement, a replay is a no-op.
-- document is the invoice face as issued (JSON, services/invoicing/invoice.hpp), never updated; the other
-- columns repeat what queries and exports filter and sum on.
CREATE TABLE invoices (
  id TEXT PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  year INTEGER NOT NULL,
  sequence BIGINT NOT NULL,
  kind TEXT NOT NULL,
  settlement_id TEXT NOT NULL UNIQUE,
  enterprise_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  buyer_needs_review INTEGER NOT NULL,
  amount_fen BIGINT NOT NULL,
  tax_fen BIGINT NOT NULL,
  total_fen BIGINT NOT NULL CHECK (total_fen = amount_fen + tax_fen),
  currency TEXT NOT NULL,
  issued_at_ms BIGINT NOT NULL,
  issue_date TEXT NOT NULL,
  document TEXT NOT NULL,
  UNIQUE (year, sequence)
);
-- An enterprise's own list, newest first (GET /v1/invoices as an enterprise).
CREATE INDEX invoices_enterprise ON invoices (enterprise_id, id);

-- settlement.completed events whose enterprise.registered has not arrived yet (the two streams are not
-- ordered with each other). data is the event's data; the invoice is issued, and the row deleted, in the
-- transaction that records the enterprise.
CREATE TABLE pending_invoices (
  settlement_id TEXT PRIMARY KEY,
  enterprise_id TEXT NOT NULL,
  data TEXT NOT NULL,
  trace_id TEXT NOT NULL,
  received_at_ms BIGINT NOT NULL
);
CREATE INDEX pending_invoices_enterprise ON pending_invoices (enterprise_id, received_at_ms);
