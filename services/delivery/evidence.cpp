#include "services/delivery/evidence.hpp"

#include <stdexcept>
#include <utility>

#include "common/crypto.hpp"

namespace crowd::delivery::evidence {

namespace {

void require_canonicalisable(const nlohmann::json& j) {
  if (j.is_number_float()) throw std::invalid_argument("evidence payloads hold no floating-point numbers");
  if (j.is_structured()) {
    for (const auto& item : j) require_canonicalisable(item);
  }
}

}  // namespace

nlohmann::json submission_payload(const SubmissionFacts& f) {
  return {{"submission_id", f.submission_id},
          {"assignment_id", f.assignment_id},
          {"worker_id", f.worker_id},
          {"content_sha256", f.content_sha256},
          {"size", f.size_bytes},
          {"submitted_at_ms", f.submitted_at_ms}};
}

nlohmann::json acceptance_payload(const AcceptanceFacts& f) {
  return {{"event", std::string(kAcceptedKind)},
          {"submission_id", f.submission_id},
          {"assignment_id", f.assignment_id},
          {"enterprise_id", f.enterprise_id},
          {"worker_id", f.worker_id},
          {"content_sha256", f.content_sha256},
          {"automatic", f.automatic},
          {"accepted_at_ms", f.accepted_at_ms}};
}

std::string canonical(const nlohmann::json& payload) {
  if (!payload.is_object()) throw std::invalid_argument("an evidence payload is a JSON object");
  require_canonicalisable(payload);
  // nlohmann's default object is a std::map: keys come out sorted bytewise (= code point order for
  // UTF-8), compact separators, strings escaped as RFC 8785 does and non-ASCII left as UTF-8.
  return payload.dump();
}

std::string entry_hash(std::string_view prev_hash, std::string_view canonical_payload) {
  std::string data;
  data.reserve(prev_hash.size() + canonical_payload.size());
  data.append(prev_hash).append(canonical_payload);
  return crypto::sha256_hex(data);
}

Entry next_entry(const Entry* prev, std::string kind, std::string submission_id, const nlohmann::json& payload,
                 std::int64_t recorded_at_ms) {
  Entry e;
  e.seq = prev ? prev->seq + 1 : 1;
  e.kind = std::move(kind);
  e.submission_id = std::move(submission_id);
  e.payload = canonical(payload);
  e.prev_hash = prev ? prev->hash : std::string(kGenesisHash);
  e.hash = entry_hash(e.prev_hash, e.payload);
  e.recorded_at_ms = recorded_at_ms;
  return e;
}

bool ChainVerifier::feed(const Entry& e) {
  if (failure_) return false;
  const std::string at = "seq " + std::to_string(e.seq) + ": ";
  if (e.seq != last_seq_ + 1) {
    failure_ = at + "expected seq " + std::to_string(last_seq_ + 1) + " (an entry is missing or out of order)";
  } else if (e.prev_hash != last_hash_) {
    failure_ = at + "prev_hash does not match the previous entry's hash";
  } else if (entry_hash(e.prev_hash, e.payload) != e.hash) {
    failure_ = at + "hash does not match the recomputed hash of its payload";
  } else {
    last_seq_ = e.seq;
    last_hash_ = e.hash;
    ++checked_;
    return true;
  }
  return false;
}

}  // namespace crowd::delivery::evidence
