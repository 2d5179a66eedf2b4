// Producing events: publish() writes the event into the service's outbox table inside the caller's
// transaction; the relay (relay_once) XADDs unsent rows and marks them sent. A crash between XADD and the
// mark re-sends the row: consumers dedupe by event id.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/fwd.hpp"

namespace crowd::events {

// Writes an event into the outbox within the caller's open transaction. Returns the event id.
// The producer is the running service's name (set once at start by Service). When the service declared
// what it publishes (declare_published), any other type is a programmer error: std::logic_error.
std::string publish(soci::session& s, const std::string& type, const std::string& key, nlohmann::json data,
                    const std::string& trace_id = {});
// The same with the data already written as a JSON object's text (JsonObjectWriter, json_text.hpp), for
// hot paths; the text is written into the envelope as it is.
std::string publish_text(soci::session& s, const std::string& type, const std::string& key,
                         const std::string& data_text, const std::string& trace_id = {});
void set_producer(const std::string& service_name);
const std::string& producer();
// The event types this service publishes (its part of schemas/events/catalogue.json). Set once at start.
void declare_published(const std::vector<std::string>& types);
const std::vector<std::string>& declared_published();

// Sends up to `batch` unsent outbox rows in id order with one pipelined round of XADDs, then marks them
// sent in one transaction. Returns how many were sent.
int relay_once(db::Database& db, redis::Client& redis, int batch);

}  // namespace crowd::events
