-- delivery: submissions, reviews, revision rounds and the IP evidence chain.
-- Same SQL on SQLite 3.40 and PostgreSQL 15 (see ../README.md). Money in fen, times in ms since the epoch.

-- Assignments learnt from matching's assignment.created (one row per event; the primary key keeps a
-- replayed event from creating a second row).
-- status: working | in_review | revision_requested | accepted | rejected | expired (no submission pending
-- review when deadline_ms + CROWD_ASSIGNMENT_GRACE_S passed: the expiry job publishes assignment.expired)
CREATE TABLE assignments (
  assignment_id    TEXT PRIMARY KEY,
  offer_id         TEXT NOT NULL,
  task_id          TEXT NOT NULL,
  enterprise_id    TEXT NOT NULL,
  worker_id        TEXT NOT NULL,
  units            BIGINT NOT NULL,
  pay_per_unit_fen BIGINT NOT NULL,
  amount_fen       BIGINT NOT NULL,
  currency         TEXT NOT NULL,
  category         TEXT NOT NULL,
  title            TEXT NOT NULL,
  review_window_s  BIGINT NOT NULL,
  deadline_ms      BIGINT NOT NULL,
  status           TEXT NOT NULL,
  revision_round   INTEGER NOT NULL,   -- revision rounds requested so far
  created_at_ms    BIGINT NOT NULL,
  updated_at_ms    BIGINT NOT NULL
);
CREATE INDEX assignments_worker ON assignments (worker_id);
CREATE INDEX assignments_enterprise ON assignments (enterprise_id);
-- The expiry job's scan: assignments that take a submission, by deadline.
CREATE INDEX assignments_expiry ON assignments (status, deadline_ms);

-- One row per delivered round of an assignment. The file itself lives in object storage (storage_ref).
-- status: pending_review | revision_requested | accepted | rejected
CREATE TABLE submissions (
  submission_id      TEXT PRIMARY KEY,
  assignment_id      TEXT NOT NULL REFERENCES assignments (assignment_id),
  task_id            TEXT NOT NULL,
  enterprise_id      TEXT NOT NULL,
  worker_id          TEXT NOT NULL,
  round_no           INTEGER NOT NULL,
  status             TEXT NOT NULL,
  content_sha256     TEXT NOT NULL,
  size_bytes         BIGINT NOT NULL,
  media_type         TEXT NOT NULL,
  storage_ref        TEXT NOT NULL,
  note               TEXT,
  submitted_at_ms    BIGINT NOT NULL,
  review_deadline_ms BIGINT NOT NULL,
  evidence_hash      TEXT NOT NULL,
  decision           TEXT,             -- accept | revise | reject, once reviewed
  reason             TEXT,
  automatic          INTEGER,          -- 1 when accepted because the review window ended
  reviewed_at_ms     BIGINT,
  UNIQUE (assignment_id, round_no)
);
-- The auto-acceptance job's scan: pending submissions by deadline.
CREATE INDEX submissions_due ON submissions (status, review_deadline_ms);
CREATE INDEX submissions_enterprise ON submissions (enterprise_id, submission_id);
CREATE INDEX submissions_task ON submissions (task_id, submission_id);

-- The hash-chained evidence log (see services/delivery/evidence.hpp). seq is dense from 1; its primary
-- key makes two concurrent appends after the same entry collide instead of forking the chain.
-- kind: submission | accepted
CREATE TABLE evidence_log (
  seq            BIGINT PRIMARY KEY,
  kind           TEXT NOT NULL,
  submission_id  TEXT NOT NULL,
  payload        TEXT NOT NULL,   -- canonical JSON, exactly the text that was hashed
  prev_hash      TEXT NOT NULL,
  hash           TEXT NOT NULL UNIQUE,
  recorded_at_ms BIGINT NOT NULL,
  UNIQUE (submission_id, kind)
);

-- One row that every evidence append updates first: on PostgreSQL (read committed) the row lock queues
-- concurrent appends, and the chain head each then reads is the one committed before it. SQLite's
-- BEGIN IMMEDIATE serialises writers anyway. A single chain is sequential by nature.
CREATE TABLE evidence_head (
  id             INTEGER PRIMARY KEY,   -- always 1
  appended_at_ms BIGINT NOT NULL
);
INSERT INTO evidence_head (id, appended_at_ms) VALUES (1, 0);
