// The payment provider as settlement sees it: place an order (a payout attempt, a refund attempt, a
// deposit), ask about one, fetch a day's statement. Outcomes arrive later as signed notifications
// (POST /v1/provider/notifications, payouts.hpp). One implementation speaks HTTP to a provider with the
// paysandbox API (services/paysandbox); tests may implement the interface in process.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace crowd::settlement {

struct ProviderOrder {
  std::string merchant_ref;  // our id for the order; the provider dedupes on it
  std::string kind;          // payout | refund | deposit
  std::int64_t amount_fen = 0;
  std::string payee;  // account paid (payout/refund) or the payer (deposit)
};

struct PlaceResult {
  // accepted: the provider took it (its outcome comes by notification); rejected: it refused it for good
  // (nothing happened there); unknown: it may or may not have taken it (timeout, 5xx, cut connection).
  enum class Outcome { accepted, rejected, unknown };
  Outcome outcome = Outcome::unknown;
  std::string provider_ref;
  std::string status;   // the provider's status when accepted (processing, succeeded, ...)
  std::string error;    // why, when not accepted
  std::string pay_url;  // deposits: where the payer completes the payment
};

struct QueryResult {
  enum class Found { yes, no, unknown };  // unknown: the query itself failed
  Found found = Found::unknown;
  std::string status;  // processing | awaiting_payment | succeeded | failed | returned
  std::string provider_ref;
  std::int64_t amount_fen = 0;
  std::string reason;
  std::string error;
};

class Provider {
 public:
  virtual ~Provider() = default;
  virtual std::string name() const = 0;
  virtual PlaceResult place(const ProviderOrder& order) = 0;
  virtual QueryResult query(const std::string& merchant_ref) = 0;
  // The statement (CSV) of one CST day "YYYY-MM-DD"; nullopt when it could not be fetched.
  virtual std::optional<std::string> statement(const std::string& day) = 0;
};

struct HttpProviderSettings {
  std::string base_url;                     // CROWD_PROVIDER_URL, e.g. http://127.0.0.1:8107 (empty: no provider)
  std::string secret;                       // CROWD_PROVIDER_SECRET (shared; signs both directions)
  std::string notify_url;                   // CROWD_PROVIDER_NOTIFY_URL: where the provider sends notifications
  std::chrono::milliseconds timeout{3000};  // CROWD_PROVIDER_TIMEOUT_MS
  static HttpProviderSettings from_env(int own_port);
};

std::unique_ptr<Provider> make_http_provider(const HttpProviderSettings& settings);

}  // namespace crowd::settlement
