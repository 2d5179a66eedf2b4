-- Housekeeping (common/housekeeping.hpp) prunes the inbox by age in small batches: the age index lets each
-- bounded DELETE find its oldest rows without a scan. (The outbox's sent rows are found through outbox_unsent,
-- the idempotency keys through idempotency_keys_age.)
CREATE INDEX IF NOT EXISTS inbox_age ON inbox (processed_at_ms);
