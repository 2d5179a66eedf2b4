#include "services/delivery/views.hpp"

#include "common/clock.hpp"
#include "common/money.hpp"

namespace crowd::delivery::views {

namespace {

nlohmann::json opt(const std::optional<std::string>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json submission(const store::Submission& s) {
  nlohmann::json review = nullptr;
  if (s.review) {
    review = {{"decision", to_string(s.review->decision)},
              {"reason", opt(s.review->reason)},
              {"automatic", s.review->automatic},
              {"reviewed_at", clock::rfc3339(s.review->reviewed_at_ms)},
              {"reviewed_at_ms", s.review->reviewed_at_ms}};
  }
  return {{"id", s.id},
          {"assignment_id", s.assignment_id},
          {"task_id", s.task_id},
          {"enterprise_id", s.enterprise_id},
          {"worker_id", s.worker_id},
          {"round", s.round},
          {"status", to_string(s.status)},
          {"content_sha256", s.content_sha256},
          {"size_bytes", s.size_bytes},
          {"media_type", s.media_type},
          {"storage_ref", s.storage_ref},
          {"note", opt(s.note)},
          {"submitted_at", clock::rfc3339(s.submitted_at_ms)},
          {"submitted_at_ms", s.submitted_at_ms},
          {"review_deadline", clock::rfc3339(s.review_deadline_ms)},
          {"review_deadline_ms", s.review_deadline_ms},
          {"evidence_hash", s.evidence_hash},
          {"review", review}};
}

nlohmann::json assignment(const store::Assignment& a, int max_revisions) {
  return {{"id", a.id},
          {"task_id", a.task_id},
          {"enterprise_id", a.enterprise_id},
          {"worker_id", a.worker_id},
          {"units", a.units},
          {"amount", money::to_json(a.amount_fen, a.currency)},
          {"category", a.category},
          {"title", a.title},
          {"status", to_string(a.status)},
          {"revision_round", a.revision_round},
          {"max_revisions", max_revisions},
          {"review_window_s", a.review_window_s},
          {"deadline", clock::rfc3339(a.deadline_ms)},
          {"deadline_ms", a.deadline_ms}};
}

nlohmann::json evidence_entry(const evidence::Entry& e) {
  // The payload as an object for reading, and as the exact text that was hashed for checking. A stored
  // text that no longer parses (tampering) shows as null; the chain verification reports it.
  auto payload = nlohmann::json::parse(e.payload, nullptr, false);
  if (payload.is_discarded()) payload = nullptr;
  return {{"seq", e.seq},
          {"kind", e.kind},
          {"payload", payload},
          {"canonical_payload", e.payload},
          {"prev_hash", e.prev_hash},
          {"hash", e.hash},
          {"recorded_at", clock::rfc3339(e.recorded_at_ms)},
          {"recorded_at_ms", e.recorded_at_ms}};
}

}  // namespace crowd::delivery::views
