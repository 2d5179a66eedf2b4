// Checks of a submission's fields that need no I/O. The file itself lives in object storage: delivery
// keeps only what identifies it (its SHA-256, size, media type and where it is stored).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace crowd::delivery {

inline constexpr std::int64_t kMaxSubmissionBytes = std::int64_t{10} << 30;  // 10 GiB
inline constexpr std::size_t kMaxStorageRefLen = 500;
inline constexpr std::size_t kMaxNoteLen = 2000;
inline constexpr std::size_t kMaxReasonLen = 2000;

// 64 lower-case hexadecimal characters.
bool is_sha256_hex(std::string_view s);
// "type/subtype" with RFC 6838 restricted names (no parameters), case-insensitive.
bool is_media_type(std::string_view s);
// Free-form reference into object storage ("s3://bucket/key"): no control characters or whitespace.
bool is_storage_ref(std::string_view s);
// Lower-case ASCII copy (media types compare case-insensitively; we store them in lower case).
std::string ascii_lower(std::string_view s);

}  // namespace crowd::delivery
