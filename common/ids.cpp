#include "common/ids.hpp"

#include <sodium.h>

#include <array>
#include <cstdint>
#include <mutex>

#include "common/clock.hpp"

namespace crowd::ids {
namespace {
constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";  // Crockford base32

struct State {
  std::mutex mu;
  std::int64_t last_ms = -1;
  std::array<std::uint8_t, 10> random{};  // 80 bits
};
State g_state;

// Increments the 80-bit random part as a big-endian number (monotonic ids within one millisecond).
bool increment(std::array<std::uint8_t, 10>& r) {
  for (int i = 9; i >= 0; --i) {
    if (++r[static_cast<std::size_t>(i)] != 0) return true;
  }
  return false;
}
}  // namespace

std::string make(std::string_view prefix) {
  std::array<std::uint8_t, 16> bytes{};
  {
    std::lock_guard lock(g_state.mu);
    std::int64_t now = clock::now_ms();
    if (now <= g_state.last_ms) {
      now = g_state.last_ms;
      if (!increment(g_state.random)) {
        ++now;
        randombytes_buf(g_state.random.data(), g_state.random.size());
      }
    } else {
      randombytes_buf(g_state.random.data(), g_state.random.size());
      g_state.random[0] &= 0x7f;  // headroom so increments within one ms do not overflow
    }
    g_state.last_ms = now;
    for (int i = 0; i < 6; ++i) bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(now >> (40 - 8 * i));
    for (std::size_t i = 0; i < 10; ++i) bytes[6 + i] = g_state.random[i];
  }
  // 128 bits → 26 base32 characters (the first carries 3 bits).
  std::string out(prefix);
  out += '_';
  unsigned __int128 v = 0;
  for (auto b : bytes) v = (v << 8) | b;
  char buf[26];
  for (int i = 25; i >= 0; --i) {
    buf[i] = kAlphabet[static_cast<unsigned>(v & 31)];
    v >>= 5;
  }
  out.append(buf, 26);
  return out;
}

bool looks_like(std::string_view id, std::string_view prefix) {
  if (id.size() != prefix.size() + 27 || id.substr(0, prefix.size()) != prefix || id[prefix.size()] != '_')
    return false;
  for (char c : id.substr(prefix.size() + 1)) {
    bool ok = false;
    for (const char* a = kAlphabet; *a != '\0'; ++a) ok = ok || *a == c;
    if (!ok) return false;
  }
  return true;
}

}  // namespace crowd::ids
