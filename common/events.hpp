// Events between services on Redis Streams, one stream per producing service ("events:SERVICE") and one
// consumer group per consuming service. The kit's event parts, one file each by role (common/events/):
//
//   envelope      the envelope every event travels in, refusals
//   fields        typed reads of an event's data that refuse the event once, naming every fault
//   outbox        publish() into the outbox inside the caller's transaction; the relay to Redis
//   consumer      subscriptions, the inbox, one batch of entries applied in one transaction, reclaims
//   read_ahead    the next batch read and parsed while the current one is applied
//   dead_letters  refused events kept for operators, redrive
//
// The contract of every event (its data's JSON Schema, producer and consumers) is schemas/events/; the
// event contract test holds the services' declared publications and subscriptions against it.
#pragma once

#include "common/events/consumer.hpp"
#include "common/events/dead_letters.hpp"
#include "common/events/envelope.hpp"
#include "common/events/fields.hpp"
#include "common/events/outbox.hpp"
#include "common/events/read_ahead.hpp"
