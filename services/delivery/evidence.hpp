// The IP evidence chain (知识产权存证): one hash-chained log per delivery service. Each entry's hash is
//   hash = SHA-256_hex(prev_hash || canonical_json(payload))
// where prev_hash is the previous entry's hash (64 '0' for the first entry) and canonical JSON has keys
// sorted by code point, no whitespace, only strings, integers and booleans (the RFC 8785 subset these
// payloads use).
// Changing, dropping or reordering any entry breaks every later hash, so a verifier that recomputes the
// chain from the start detects it.
//
// Entry kinds:
//   "submission": {submission_id, assignment_id, worker_id, content_sha256, size, submitted_at_ms}
//   "accepted":   {event: "accepted", submission_id, assignment_id, enterprise_id, worker_id, content_sha256,
//                  automatic (bool), accepted_at_ms} — the moment rights pass to the enterprise where the
//                  task's IP terms say so (the terms are not known here yet; see README.md beside this file).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace crowd::delivery::evidence {

inline constexpr std::string_view kGenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";
inline constexpr std::string_view kSubmissionKind = "submission";
inline constexpr std::string_view kAcceptedKind = "accepted";

struct SubmissionFacts {
  std::string submission_id;
  std::string assignment_id;
  std::string worker_id;
  std::string content_sha256;
  std::int64_t size_bytes = 0;
  std::int64_t submitted_at_ms = 0;
};

struct AcceptanceFacts {
  std::string submission_id;
  std::string assignment_id;
  std::string enterprise_id;
  std::string worker_id;
  std::string content_sha256;
  bool automatic = false;
  std::int64_t accepted_at_ms = 0;
};

nlohmann::json submission_payload(const SubmissionFacts& f);
nlohmann::json acceptance_payload(const AcceptanceFacts& f);

// Canonical text of a payload; throws std::invalid_argument on floats or non-object input (they have no
// stable text here) and nlohmann's type_error on invalid UTF-8.
std::string canonical(const nlohmann::json& payload);

// SHA-256 hex of prev_hash followed by the canonical payload text.
std::string entry_hash(std::string_view prev_hash, std::string_view canonical_payload);

struct Entry {
  std::int64_t seq = 0;  // 1, 2, 3, ... in append order
  std::string kind;
  std::string submission_id;
  std::string payload;  // canonical JSON text, as hashed
  std::string prev_hash;
  std::string hash;
  std::int64_t recorded_at_ms = 0;
};

// The entry that follows `prev` (nullptr for the first entry of the chain).
Entry next_entry(const Entry* prev, std::string kind, std::string submission_id, const nlohmann::json& payload,
                 std::int64_t recorded_at_ms);

// Streams a chain from its first entry and stops believing it at the first broken link.
class ChainVerifier {
 public:
  // Returns false (and keeps returning false) once an entry does not follow from the ones before it.
  bool feed(const Entry& e);
  bool ok() const { return !failure_.has_value(); }
  std::int64_t checked() const { return checked_; }
  // "seq N: why", when broken.
  const std::optional<std::string>& failure() const { return failure_; }

 private:
  std::int64_t checked_ = 0;
  std::int64_t last_seq_ = 0;
  std::string last_hash_{kGenesisHash};
  std::optional<std::string> failure_;
};

}  // namespace crowd::delivery::evidence
