// Small wrappers over libsodium and OpenSSL: hashes, HMAC, authenticated encryption of personal data.
#pragma once

#include <string>
#include <string_view>

namespace crowd::crypto {

std::string sha256_hex(std::string_view data);
std::string hmac_sha256_hex(std::string_view key, std::string_view data);
std::string hmac_sha256_raw(std::string_view key, std::string_view data);
std::string base64url_encode(std::string_view raw);
std::string base64url_decode(std::string_view text);  // throws std::invalid_argument
std::string random_token(std::size_t bytes);          // base64url of random bytes
bool equal_constant_time(std::string_view a, std::string_view b);

// XChaCha20-Poly1305 with a random nonce; key is 32 raw bytes. Output: base64url(nonce || ciphertext).
std::string seal(std::string_view key, std::string_view plaintext);
std::string open(std::string_view key, std::string_view sealed);  // throws on tampering
// Key material from a hex string of 64 characters (CROWD_PII_KEY); throws std::invalid_argument.
std::string key_from_hex(std::string_view hex);

}  // namespace crowd::crypto
