-- Settlement: the double-entry ledger, task escrows, settlements of accepted deliveries, the workers' IIT
-- cumulation, sandbox deposits. Money is integer fen; times are ms since the epoch.
--
-- Ledger convention: accounts.balance_fen = Σ credits − Σ debits of the account. A transfer debits the
-- account money leaves and credits the account it arrives in, with one amount, in the same transaction as
-- both balance updates, so the sum of all balances is 0. Only external:clearing may go negative; the CHECK
-- below backs up the conditional UPDATE in ledger.cpp.

-- One row per ledger account, opened on first use. Ids: ent:{enterprise_id}:available,
-- task:{task_id}:escrow, wkr:{worker_id}:payable, platform:fee_revenue, platform:iit_payable,
-- external:clearing.
CREATE TABLE accounts (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  allow_negative INTEGER NOT NULL DEFAULT 0,
  balance_fen BIGINT NOT NULL DEFAULT 0,
  currency TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  CHECK (allow_negative = 1 OR balance_fen >= 0)
);

-- Every movement of money. The id is unique forever and chosen by the caller from the business event
-- ("dep:{enterprise}:{key}", "hold:{task}", "release:{task}:{release_id}", "stl:{assignment}:fee|iit|net"),
-- so a replay of the same effect is a no-op. A task may have several releases: release_id "cancel" (the
-- answer to a cancel request, or a task cancelled before it opened) and "asg:{assignment}" (units of an
-- assignment that came back after the cancel), each once.
CREATE TABLE transfers (
  id TEXT PRIMARY KEY,
  debit_account TEXT NOT NULL REFERENCES accounts (id),
  credit_account TEXT NOT NULL REFERENCES accounts (id),
  amount_fen BIGINT NOT NULL,
  currency TEXT NOT NULL,
  kind TEXT NOT NULL,
  ref TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  CHECK (amount_fen > 0),
  CHECK (debit_account <> credit_account)
);
CREATE INDEX transfers_debit ON transfers (debit_account, created_at_ms);
CREATE INDEX transfers_credit ON transfers (credit_account, created_at_ms);
CREATE INDEX transfers_ref ON transfers (ref);

-- One row per task whose task.created was handled. status: held | rejected (insufficient funds; a later
-- task.created event for the task tries again) | closed (every unit settled or released).
-- Invariant (checked by /v1/admin/settlement/check): balance of account_id = held − settled − released.
-- units_released / released_fen add up every release of the task; release_transfer_id is the latest one.
CREATE TABLE escrows (
  task_id TEXT PRIMARY KEY,
  enterprise_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  category TEXT NOT NULL,
  title TEXT NOT NULL,
  pay_per_unit_fen BIGINT NOT NULL,
  units_total BIGINT NOT NULL,
  units_settled BIGINT NOT NULL DEFAULT 0,
  units_released BIGINT NOT NULL DEFAULT 0,
  held_fen BIGINT NOT NULL DEFAULT 0,
  settled_fen BIGINT NOT NULL DEFAULT 0,
  released_fen BIGINT NOT NULL DEFAULT 0,
  status TEXT NOT NULL,
  hold_transfer_id TEXT,
  release_transfer_id TEXT,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  CHECK (units_settled >= 0 AND units_released >= 0 AND units_settled + units_released <= units_total),
  CHECK (settled_fen >= 0 AND released_fen >= 0 AND settled_fen + released_fen <= held_fen)
);
CREATE INDEX escrows_enterprise ON escrows (enterprise_id);
CREATE INDEX escrows_account ON escrows (account_id);

-- One settlement per accepted assignment (assignment_id is unique): the split of the escrowed amount and
-- the IIT computation (JSON, audit evidence) that decided the withholding.
CREATE TABLE settlements (
  id TEXT PRIMARY KEY,
  assignment_id TEXT NOT NULL UNIQUE,
  submission_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  enterprise_id TEXT NOT NULL,
  worker_id TEXT NOT NULL,
  category TEXT NOT NULL,
  title TEXT NOT NULL,
  units BIGINT NOT NULL,
  amount_fen BIGINT NOT NULL,
  fee_fen BIGINT NOT NULL,
  worker_gross_fen BIGINT NOT NULL,
  iit_fen BIGINT NOT NULL,
  net_fen BIGINT NOT NULL,
  currency TEXT NOT NULL,
  tax_year INTEGER NOT NULL,
  tax_month INTEGER NOT NULL,
  computation TEXT NOT NULL,
  accepted_at_ms BIGINT NOT NULL,
  settled_at_ms BIGINT NOT NULL,
  CHECK (amount_fen > 0 AND fee_fen >= 0 AND iit_fen >= 0 AND net_fen >= 0),
  CHECK (fee_fen + worker_gross_fen = amount_fen),
  CHECK (iit_fen + net_fen = worker_gross_fen)
);
CREATE INDEX settlements_task ON settlements (task_id, id);
CREATE INDEX settlements_worker ON settlements (worker_id, settled_at_ms);

-- A worker's IIT cumulation for one tax year (cumulative withholding method), updated in the transaction
-- of each settlement.
CREATE TABLE iit_years (
  worker_id TEXT NOT NULL,
  year INTEGER NOT NULL,
  cum_income_fen BIGINT NOT NULL,
  cum_withheld_fen BIGINT NOT NULL,
  consecutive_months INTEGER NOT NULL,
  last_month INTEGER NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  PRIMARY KEY (worker_id, year)
);

-- Top-ups of enterprise balances. provider 'sandbox' credits at once (no real money moves); real provider
-- callbacks come later and will use status 'pending' until confirmed.
CREATE TABLE deposits (
  id TEXT PRIMARY KEY,
  enterprise_id TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  amount_fen BIGINT NOT NULL,
  currency TEXT NOT NULL,
  provider TEXT NOT NULL,
  status TEXT NOT NULL,
  transfer_id TEXT NOT NULL UNIQUE,
  created_at_ms BIGINT NOT NULL,
  UNIQUE (enterprise_id, idempotency_key)
);

