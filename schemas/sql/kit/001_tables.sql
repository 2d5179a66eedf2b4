-- The kit's own tables, the same in every service's database and defined only here: applied before the
-- service's own migrations (Service::run, testing::ServiceDb), recorded as "kit/001_tables". IF NOT EXISTS:
-- databases created before the kit owned these tables have them from their service's first migration.

-- Transactional outbox (common/events/outbox.hpp): an event is written here in the transaction of the state
-- change it announces; the relay XADDs unsent rows and stamps sent_at_ms.
CREATE TABLE IF NOT EXISTS outbox (id TEXT PRIMARY KEY, stream TEXT NOT NULL, envelope TEXT NOT NULL,
                                   created_at_ms BIGINT NOT NULL, sent_at_ms BIGINT);
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (sent_at_ms, id);

-- Inbox (common/events/consumer.hpp): the id of every event applied, committed with its effect, so a
-- redelivery is recognised and only acknowledged.
CREATE TABLE IF NOT EXISTS inbox (event_id TEXT PRIMARY KEY, type TEXT NOT NULL, processed_at_ms BIGINT NOT NULL);

-- Idempotency-Key records (common/idempotency.hpp, schemas/sql/README.md): scope is whose key it is (normally
-- the caller's party id), idem_key the header's value, request_hash what was asked, status and response the
-- first 2xx answer (sealed when the service gives a sealing key).
CREATE TABLE IF NOT EXISTS idempotency_keys (scope TEXT NOT NULL, idem_key TEXT NOT NULL,
                                             request_hash TEXT NOT NULL, status INTEGER NOT NULL,
                                             response TEXT NOT NULL, created_at_ms BIGINT NOT NULL,
                                             PRIMARY KEY (scope, idem_key));
CREATE INDEX IF NOT EXISTS idempotency_keys_age ON idempotency_keys (created_at_ms);
