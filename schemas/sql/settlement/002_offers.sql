-- Offers that matching made (event offer.created), kept so a worker can ask for the net pay preview of an
-- offer before accepting it. One row per offer (offer_id is the primary key: a repeated event inserts
-- nothing). amount_fen = units × pay_per_unit_fen is what settles when the offer is accepted and the
-- delivery is accepted; the preview splits it with the escrow's category.
CREATE TABLE offers (
  offer_id TEXT PRIMARY KEY,
  task_id TEXT NOT NULL,
  enterprise_id TEXT NOT NULL,
  worker_id TEXT NOT NULL,
  units BIGINT NOT NULL,
  pay_per_unit_fen BIGINT NOT NULL,
  amount_fen BIGINT NOT NULL,
  currency TEXT NOT NULL,
  category TEXT NOT NULL,
  expires_at_ms BIGINT NOT NULL,
  received_at_ms BIGINT NOT NULL,
  CHECK (units > 0 AND pay_per_unit_fen > 0 AND amount_fen > 0)
);
CREATE INDEX offers_worker ON offers (worker_id, expires_at_ms);
