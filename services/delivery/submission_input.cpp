#include "services/delivery/submission_input.hpp"

namespace crowd::delivery {

namespace {

bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// RFC 6838 §4.2: restricted-name = restricted-name-first *126restricted-name-chars
bool is_restricted_name(std::string_view s) {
  if (s.empty() || s.size() > 127 || !is_alnum(s.front())) return false;
  for (char c : s) {
    if (is_alnum(c)) continue;
    switch (c) {
      case '!':
      case '#':
      case '$':
      case '&':
      case '-':
      case '^':
      case '_':
      case '.':
      case '+':
        continue;
      default:
        return false;
    }
  }
  return true;
}

}  // namespace

bool is_sha256_hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool is_media_type(std::string_view s) {
  auto slash = s.find('/');
  if (slash == std::string_view::npos) return false;
  return is_restricted_name(s.substr(0, slash)) && is_restricted_name(s.substr(slash + 1));
}

bool is_storage_ref(std::string_view s) {
  if (s.empty() || s.size() > kMaxStorageRefLen) return false;
  for (unsigned char c : s) {
    if (c <= 0x20 || c == 0x7f) return false;
  }
  return true;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace crowd::delivery
