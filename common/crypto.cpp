#include "common/crypto.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <stdexcept>
#include <string>

namespace crowd::crypto {
namespace {
std::string to_hex(const unsigned char* p, std::size_t n) {
  static const char* d = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = d[p[i] >> 4];
    out[2 * i + 1] = d[p[i] & 15];
  }
  return out;
}
struct SodiumInit {
  SodiumInit() {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  }
};
void ensure_sodium() {
  static SodiumInit once;
}
}  // namespace

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return to_hex(md, len);
}

std::string hmac_sha256_raw(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), md, &len);
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  std::string raw = hmac_sha256_raw(key, data);
  return to_hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}

std::string base64url_encode(std::string_view raw) {
  ensure_sodium();
  std::string out(sodium_base64_ENCODED_LEN(raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()), raw.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(out.find('\0'));
  return out;
}

std::string base64url_decode(std::string_view text) {
  ensure_sodium();
  std::string out(text.size(), '\0');
  std::size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(), nullptr,
                        &len, nullptr, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
    throw std::invalid_argument("invalid base64url");
  out.resize(len);
  return out;
}

std::string random_token(std::size_t bytes) {
  ensure_sodium();
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  return base64url_encode(raw);
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string seal(std::string_view key, std::string_view plaintext) {
  ensure_sodium();
  if (key.size() != crypto_aead_xchacha20poly1305_ietf_KEYBYTES) throw std::invalid_argument("seal: key size");
  std::string out(
      crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES,
      '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &clen,
                                             reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
                                             nullptr, 0, nullptr, nonce,
                                             reinterpret_cast<const unsigned char*>(key.data()));
  out.resize(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + clen);
  return base64url_encode(out);
}

std::string open(std::string_view key, std::string_view sealed) {
  ensure_sodium();
  if (key.size() != crypto_aead_xchacha20poly1305_ietf_KEYBYTES) throw std::invalid_argument("open: key size");
  std::string raw = base64url_decode(sealed);
  if (raw.size() < crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES)
    throw std::invalid_argument("open: too short");
  auto* nonce = reinterpret_cast<const unsigned char*>(raw.data());
  std::string out(raw.size(), '\0');
  unsigned long long mlen = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(out.data()), &mlen, nullptr,
                                                 nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                                                 raw.size() - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, nullptr, 0,
                                                 nonce, reinterpret_cast<const unsigned char*>(key.data())) != 0)
    throw std::invalid_argument("open: authentication failed");
  out.resize(mlen);
  return out;
}

std::string key_from_hex(std::string_view hex) {
  ensure_sodium();
  if (hex.size() != 64) throw std::invalid_argument("key must be 64 hex characters");
  std::string key(32, '\0');
  std::size_t len = 0;
  if (sodium_hex2bin(reinterpret_cast<unsigned char*>(key.data()), key.size(), hex.data(), hex.size(), nullptr, &len,
                     nullptr) != 0 ||
      len != 32)
    throw std::invalid_argument("key must be 64 hex characters");
  return key;
}

}  // namespace crowd::crypto
