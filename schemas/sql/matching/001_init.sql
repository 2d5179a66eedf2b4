-- Matching: the online workers' index, the tasks as matching sees them, offers and assignments.
-- Coordinates are integer micro-degrees (lat_e6 = round(lat * 1e6), about 0.1 m): no floating point column.
-- Times are ms since the epoch on the crowd clock. Booleans are INTEGER 0/1.

-- Workers learnt from accounts' worker.registered. online, place and open_assignments (the load) are
-- matching's own: availability sets the first two, assignments move the load.
CREATE TABLE m_workers (
  id TEXT PRIMARY KEY,
  skills TEXT NOT NULL,
  home_lat_e6 BIGINT,
  home_lng_e6 BIGINT,
  verified INTEGER NOT NULL,
  credit_score INTEGER NOT NULL,
  online INTEGER NOT NULL DEFAULT 0,
  place_lat_e6 BIGINT,
  place_lng_e6 BIGINT,
  open_assignments INTEGER NOT NULL DEFAULT 0,
  registered_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  CHECK (open_assignments >= 0)
);
CREATE INDEX m_workers_online ON m_workers (online, verified);

-- Tasks learnt from task.opened. opened = 0 marks a row made by a task.cancel_requested that arrived
-- before task.opened (its task.opened then fills the row in and finds it closed).
-- Every write that gives out or takes back a unit keeps 0 <= units_assigned <= units_total (CHECK).
-- match_after_ms: the periodic job leaves the task alone before this time (back-off when nobody fits).
-- units_released_at_ms / cancel_units_released: the first answer to a cancel request (task.units_released
-- with release_id "cancel") and the units it released; every later cancel request is answered again with
-- that same figure, so the release named "cancel" always carries one amount.
CREATE TABLE m_tasks (
  id TEXT PRIMARY KEY,
  enterprise_id TEXT NOT NULL,
  category TEXT NOT NULL DEFAULT '',
  mode TEXT NOT NULL DEFAULT '',
  title TEXT NOT NULL DEFAULT '',
  units_total BIGINT NOT NULL DEFAULT 0,
  units_assigned BIGINT NOT NULL DEFAULT 0,
  pay_per_unit_fen BIGINT NOT NULL DEFAULT 0,
  currency TEXT NOT NULL DEFAULT 'CNY',
  required_skills TEXT NOT NULL DEFAULT '[]',
  place_lat_e6 BIGINT,
  place_lng_e6 BIGINT,
  radius_m BIGINT,
  deadline_ms BIGINT NOT NULL DEFAULT 0,
  review_window_s BIGINT NOT NULL DEFAULT 0,
  status TEXT NOT NULL,
  opened INTEGER NOT NULL,
  match_after_ms BIGINT NOT NULL DEFAULT 0,
  opened_at_ms BIGINT,
  closed_at_ms BIGINT,
  units_released_at_ms BIGINT,
  cancel_units_released BIGINT,
  CHECK (status IN ('open', 'closed')),
  CHECK (units_assigned >= 0 AND units_assigned <= units_total)
);
CREATE INDEX m_tasks_sweep ON m_tasks (status, match_after_ms);

-- Offers of a task to a worker. At most one offer per (task, worker) that is not withdrawn: a worker
-- who declined, let it expire or took a unit is not asked again, while a withdrawn offer (the task filled
-- up) does not keep them from a unit that comes back later.
CREATE TABLE m_offers (
  id TEXT PRIMARY KEY,
  task_id TEXT NOT NULL,
  worker_id TEXT NOT NULL,
  status TEXT NOT NULL,
  score BIGINT NOT NULL,
  distance_m BIGINT,
  created_at_ms BIGINT NOT NULL,
  expires_at_ms BIGINT NOT NULL,
  decided_at_ms BIGINT,
  assignment_id TEXT,
  CHECK (status IN ('pending', 'accepted', 'declined', 'expired', 'withdrawn'))
);
CREATE UNIQUE INDEX m_offers_task_worker ON m_offers (task_id, worker_id) WHERE status <> 'withdrawn';
CREATE INDEX m_offers_task ON m_offers (task_id, status);
CREATE INDEX m_offers_worker ON m_offers (worker_id, status, id);
CREATE INDEX m_offers_expiry ON m_offers (status, expires_at_ms);

-- One unit of a task held by one worker, made from one accepted offer. active → completed (delivery
-- accepted) | rejected (delivery rejected) | expired (delivery's assignment.expired: no submission by the
-- deadline); a rejected or expired assignment's units leave units_assigned.
CREATE TABLE m_assignments (
  id TEXT PRIMARY KEY,
  offer_id TEXT NOT NULL UNIQUE,
  task_id TEXT NOT NULL,
  enterprise_id TEXT NOT NULL,
  worker_id TEXT NOT NULL,
  units BIGINT NOT NULL,
  pay_per_unit_fen BIGINT NOT NULL,
  amount_fen BIGINT NOT NULL,
  currency TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  CHECK (status IN ('active', 'completed', 'rejected', 'expired')),
  CHECK (units > 0 AND pay_per_unit_fen >= 0 AND amount_fen = units * pay_per_unit_fen)
);
CREATE INDEX m_assignments_worker ON m_assignments (worker_id, id);
CREATE INDEX m_assignments_task ON m_assignments (task_id);

