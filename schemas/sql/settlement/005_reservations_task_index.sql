-- The reservations of a task are looked up by task_id alone. With status in the index, every
-- reservation posted or voided (an UPDATE of status) also rewrote its index entry.
DROP INDEX reservations_task;
CREATE INDEX reservations_task ON reservations (task_id);
