-- tasks: the tasks enterprises post and their lifecycle (services/tasks/lifecycle.hpp), and the assignments and
-- settlements learnt from events (the unique keys that make those consumers idempotent). The kit's tables
-- (outbox, inbox, idempotency keys) are schemas/sql/kit/. Times are ms since the epoch, money is BIGINT fen,
-- ids are time-ordered TEXT.

-- One row per task. status is one of pending_funding, funding_failed, open, in_progress, cancelling,
-- cancelled, completed. units is what was posted (budget_fen = units × pay_per_unit_fen), units_total
-- what is still to be worked (shrinks to the assigned units after a cancel). required_skills is a JSON
-- array of lower-cased strings. place is in micro-degrees (no floating-point column differs between the
-- backends). version is bumped by every update: writers update WHERE version = the one they read.
CREATE TABLE tasks (
  id TEXT PRIMARY KEY,
  enterprise_id TEXT NOT NULL,
  status TEXT NOT NULL,
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  category TEXT NOT NULL,
  mode TEXT NOT NULL,
  units BIGINT NOT NULL CHECK (units >= 1),
  units_total BIGINT NOT NULL CHECK (units_total >= 0 AND units_total <= units),
  units_assigned BIGINT NOT NULL CHECK (units_assigned >= 0),
  units_completed BIGINT NOT NULL CHECK (units_completed >= 0),
  required_skills TEXT NOT NULL,
  pay_per_unit_fen BIGINT NOT NULL CHECK (pay_per_unit_fen > 0),
  budget_fen BIGINT NOT NULL CHECK (budget_fen > 0),
  currency TEXT NOT NULL,
  deadline_ms BIGINT NOT NULL,
  review_window_hours BIGINT NOT NULL,
  place_lat_e6 BIGINT,
  place_lng_e6 BIGINT,
  radius_m BIGINT,
  ip_transfer_on_acceptance INTEGER NOT NULL,
  ip_license TEXT,
  escrow_transfer_id TEXT,
  funding_failure_reason TEXT,
  version BIGINT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL
);
-- An enterprise's own list, newest first (GET /v1/tasks as an enterprise).
CREATE INDEX tasks_enterprise ON tasks (enterprise_id, id);
-- Lists by status, newest first (workers list open tasks).
CREATE INDEX tasks_status ON tasks (status, id);

-- Assignments of a task's units, learnt from matching's assignment.created or, when settlement's stream
-- overtook matching's, from settlement.completed. The primary key makes each counted once, and the
-- settlement columns make each settlement counted once. worker_id lets an assigned worker keep reading the
-- task after it left the open statuses.
CREATE TABLE task_assignments (
  assignment_id TEXT PRIMARY KEY,
  task_id TEXT NOT NULL,
  worker_id TEXT NOT NULL,
  units BIGINT NOT NULL CHECK (units > 0),
  assigned_at_ms BIGINT NOT NULL,
  settlement_id TEXT,
  settled_at_ms BIGINT
);
CREATE INDEX task_assignments_task ON task_assignments (task_id);
CREATE INDEX task_assignments_worker ON task_assignments (worker_id, task_id);

