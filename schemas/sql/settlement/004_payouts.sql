-- Money leaving and entering the platform through the payment provider (services/settlement/payouts.hpp):
-- worker payouts (automatic or withdrawals on request), enterprise refunds of unused balance, deposits
-- confirmed by the provider's signed notifications, and the daily reconciliation against its statement.
--
-- Ledger accounts added: wkr:{worker}:payout_pending and ent:{enterprise}:refund_pending hold the money of
-- an order placed with the provider until its outcome is known: success moves it to external:clearing,
-- failure back to where it came from. So money is never in two places, and an order whose outcome is
-- unknown (parked) is visible as a pending balance.

-- Where a worker is paid and how: mode 'auto' (the payable is paid out whenever it reaches the minimum) or
-- 'on_request' (withdrawals). The payee account is PII: sealed (XChaCha20-Poly1305), shown masked.
CREATE TABLE payout_accounts (
  worker_id TEXT PRIMARY KEY,
  mode TEXT NOT NULL,
  payee_sealed TEXT NOT NULL,
  payee_masked TEXT NOT NULL,
  holder_masked TEXT NOT NULL,
  blocked_reason TEXT NOT NULL DEFAULT '',
  updated_at_ms BIGINT NOT NULL,
  CHECK (mode IN ('auto', 'on_request'))
);

-- One order of money out: a worker payout (party_kind 'worker', from wkr:{id}:payable) or an enterprise refund
-- (party_kind 'enterprise', from ent:{id}:available). status:
--   pending     money moved to the pending account; the next attempt is due at next_attempt_at_ms
--   submitting  an attempt is being placed (recorded before the call; a crash here is resolved by querying
--               the provider for that attempt's merchant_ref, never by placing blindly)
--   submitted   the provider took the attempt; its notification (or a status query) decides
--   parked      the outcome is unknown (timeout, 5xx after sending): never retried; reconciliation and an
--               operator (or a late signed notification) resolve it
--   succeeded   the money left (pending → external:clearing)
--   failed      every attempt failed: the money went back (pending → source)
--   returned    succeeded, then sent back by the receiving bank: the money is back in the source account
CREATE TABLE payouts (
  id TEXT PRIMARY KEY,
  party_kind TEXT NOT NULL,
  party_id TEXT NOT NULL,
  origin TEXT NOT NULL,
  amount_fen BIGINT NOT NULL,
  currency TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  next_attempt_at_ms BIGINT,
  current_ref TEXT,
  provider_ref TEXT,
  last_error TEXT NOT NULL DEFAULT '',
  resolution TEXT NOT NULL DEFAULT '',
  idempotency_key TEXT,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  CHECK (amount_fen > 0),
  CHECK (party_kind IN ('worker', 'enterprise')),
  CHECK (status IN ('pending', 'submitting', 'submitted', 'parked', 'succeeded', 'failed', 'returned'))
);
CREATE INDEX payouts_due ON payouts (status, next_attempt_at_ms);
CREATE INDEX payouts_party ON payouts (party_id, created_at_ms);

-- Every attempt placed with the provider; merchant_ref = "{payout}-{n}" is the provider's dedupe key.
-- status: submitting | accepted | rejected | ambiguous | succeeded | failed | returned
CREATE TABLE payout_attempts (
  merchant_ref TEXT PRIMARY KEY,
  payout_id TEXT NOT NULL,
  n INTEGER NOT NULL,
  status TEXT NOT NULL,
  provider_ref TEXT,
  error TEXT NOT NULL DEFAULT '',
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  UNIQUE (payout_id, n)
);

-- Provider notifications applied, by the provider's event id: a replay of one is acknowledged and ignored.
CREATE TABLE provider_events (
  event_id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  merchant_ref TEXT NOT NULL,
  outcome TEXT NOT NULL,
  received_at_ms BIGINT NOT NULL
);

-- Deposits now go through the provider: 'pending' until its signed notification, then 'completed' (the
-- transfer dep:{enterprise}:{key} is written then) or 'failed'. provider 'instant' is the in-process
-- provider used when no provider URL is configured (credited at once, as before).
ALTER TABLE deposits ADD COLUMN provider_ref TEXT;
ALTER TABLE deposits ADD COLUMN updated_at_ms BIGINT;

-- One reconciliation per CST day: the provider's statement against the ledger's orders; mismatches as JSON.
CREATE TABLE reconciliations (
  day TEXT PRIMARY KEY,
  ran_at_ms BIGINT NOT NULL,
  statement_sha256 TEXT NOT NULL,
  lines INTEGER NOT NULL,
  matched INTEGER NOT NULL,
  mismatches TEXT NOT NULL
);
-- Where the payer completes a provider deposit (from the provider's answer).
ALTER TABLE deposits ADD COLUMN pay_url TEXT;

-- The e-invoices invoicing issued for an enterprise's settlements (event invoice.issued), so the
-- enterprise's statement lists the period's invoices beside its money. issued_at_ms: the event's time.
CREATE TABLE invoices_seen (
  invoice_id TEXT PRIMARY KEY,
  number TEXT NOT NULL,
  enterprise_id TEXT NOT NULL,
  settlement_id TEXT NOT NULL,
  total_fen BIGINT NOT NULL,
  issued_at_ms BIGINT NOT NULL
);
CREATE INDEX invoices_seen_enterprise ON invoices_seen (enterprise_id, issued_at_ms);
