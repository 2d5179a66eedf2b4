-- Two-phase escrow per assignment, and split rulings of disputes.
--
-- A task's escrow (task:{task}:escrow, escrows table of 001) now holds only the money no assignment has
-- reserved. When matching makes an assignment (assignment.created), settlement reserves its share: transfer
-- "rsv:{asg}" (kind escrow_reserve) from the task escrow to the new account asg:{asg}:reserved (kind
-- assignment_reserved, never negative). The reservation then ends exactly once:
--   posted   by delivery.accepted: the settlement legs "stl:{asg}:fee|iit|net" leave the reservation; or by
--            dispute.resolved: the legs of the worker's share, and "dsp:{asg}:refund" (kind dispute_refund)
--            back to ent:{enterprise}:available for the rest;
--   voided   by delivery.rejected, assignment.expired or matching's "asg:{asg}" release: transfer
--            "void:{asg}" (kind escrow_void) back to the task escrow (a release then returns it to the
--            enterprise, as in 001).
-- An acceptance, ruling or void that arrives before assignment.created (streams interleave in any order)
-- reserves first in its own transaction, so the late assignment.created finds the row and does nothing. A
-- void with nothing reserved writes rsv + void when the task escrow holds the money, else the row alone
-- (a tombstone: no money moved).
--
-- Escrow counters (escrows of 001) are unchanged by a reservation: held − settled − released is the money of
-- the task still in the platform's hands, = balance(task escrow) + Σ balance(reservations still reserved).
-- A ruling counts its units as settled, the worker's share in settled_fen and the refund in released_fen.
-- Invariants (GET /v1/admin/settlement/check): the equation above per task, every reserved row's account
-- holds amount_fen, every posted or voided row's account holds 0, and no asg:*:reserved account without a row.
CREATE TABLE reservations (
  assignment_id TEXT PRIMARY KEY,
  task_id TEXT NOT NULL,
  enterprise_id TEXT NOT NULL,
  worker_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  units BIGINT NOT NULL,
  amount_fen BIGINT NOT NULL,
  status TEXT NOT NULL,
  -- What ended it: 'acceptance', 'ruling', 'rejected', 'expired', 'released' (NULL while reserved).
  ended_by TEXT,
  -- 1 when rsv:{asg} was written (0: a tombstone written by a void that came first with no money to move).
  moved_money INTEGER NOT NULL DEFAULT 1,
  settlement_id TEXT,
  dispute_id TEXT,
  refund_fen BIGINT NOT NULL DEFAULT 0,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  CHECK (status IN ('reserved', 'posted', 'voided')),
  CHECK (units > 0 AND amount_fen > 0),
  CHECK (refund_fen >= 0 AND refund_fen <= amount_fen)
);
CREATE INDEX reservations_task ON reservations (task_id, status);

-- A settlement is the pay of an accepted delivery ('acceptance', submission_id set) or the worker's share of
-- a dispute ruling ('ruling', dispute_id set, submission_id ''; amount_fen = the share, which is split and
-- taxed exactly like pay). A ruling giving the worker nothing has no settlement row (see reservations).
ALTER TABLE settlements ADD COLUMN kind TEXT NOT NULL DEFAULT 'acceptance';
ALTER TABLE settlements ADD COLUMN dispute_id TEXT;
