-- An assignment ends once: settled (settlement.completed: settlement_id, settled_at_ms) or without acceptance
-- (delivery.rejected, assignment.expired, or matching's task.units_released "asg:{assignment_id}"): ended_by
-- names that event type and ended_at_ms says when. Either end frees the assignment's units from the count.
ALTER TABLE task_assignments ADD COLUMN ended_by TEXT;
ALTER TABLE task_assignments ADD COLUMN ended_at_ms BIGINT;
