#include "services/settlement/provider.hpp"

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/config.hpp"
#include "common/http_client.hpp"
#include "common/log.hpp"
#include "common/signature.hpp"

namespace crowd::settlement {

using nlohmann::json;

HttpProviderSettings HttpProviderSettings::from_env(int own_port) {
  HttpProviderSettings s;
  s.base_url = config::env_str("CROWD_PROVIDER_URL", "");
  s.secret = config::env_str("CROWD_PROVIDER_SECRET", "");
  s.notify_url = config::env_str("CROWD_PROVIDER_NOTIFY_URL",
                                 "http://127.0.0.1:" + std::to_string(own_port) + "/v1/provider/notifications");
  s.timeout = std::chrono::milliseconds(config::env_int("CROWD_PROVIDER_TIMEOUT_MS", 3000));
  if (!s.base_url.empty() && s.secret.size() < 16) {
    throw std::invalid_argument("CROWD_PROVIDER_SECRET must be set (at least 16 characters) with CROWD_PROVIDER_URL");
  }
  return s;
}

namespace {

class HttpProvider final : public Provider {
 public:
  explicit HttpProvider(HttpProviderSettings s) : s_(std::move(s)), base_(http::parse_base_url(s_.base_url)) {}
  std::string name() const override { return "sandbox"; }

  PlaceResult place(const ProviderOrder& o) override {
    const json body{{"merchant_ref", o.merchant_ref},
                    {"kind", o.kind},
                    {"amount_fen", o.amount_fen},
                    {"payee", o.payee},
                    {"notify_url", s_.notify_url}};
    PlaceResult out;
    try {
      const auto res = call("POST", "/sandbox/v1/orders", body.dump());
      const json j = json::parse(res.body, nullptr, false);
      if (res.status == 200 || res.status == 201) {
        out.outcome = PlaceResult::Outcome::accepted;
        out.provider_ref = j.value("provider_ref", "");
        out.status = j.value("status", "");
        out.pay_url = j.value("pay_url", "");
      } else if (res.status >= 400 && res.status < 500 && res.status != 408 && res.status != 429) {
        // A refusal with a reason: the provider recorded nothing (a 409 on our own ref is our bug: also final).
        out.outcome = PlaceResult::Outcome::rejected;
        out.error = "provider answered " + std::to_string(res.status) + ": " +
                    (j.is_object() ? j.value("detail", j.value("title", std::string())) : res.body.substr(0, 200));
      } else {
        out.outcome = PlaceResult::Outcome::unknown;
        out.error = "provider answered " + std::to_string(res.status);
      }
    } catch (const http::TransportError& e) {
      out.outcome = e.stage == http::TransportError::Stage::not_sent ? PlaceResult::Outcome::rejected
                                                                     : PlaceResult::Outcome::unknown;
      out.error = e.what();
      if (e.stage == http::TransportError::Stage::not_sent) out.error = "not sent: " + out.error;
    }
    return out;
  }

  QueryResult query(const std::string& ref) override {
    QueryResult q;
    try {
      const auto res = call("GET", "/sandbox/v1/orders/" + ref, "");
      if (res.status == 404) {
        q.found = QueryResult::Found::no;
        return q;
      }
      const json j = json::parse(res.body, nullptr, false);
      if (res.status != 200 || !j.is_object()) {
        q.error = "provider answered " + std::to_string(res.status);
        return q;
      }
      q.found = QueryResult::Found::yes;
      q.status = j.value("status", "");
      q.provider_ref = j.value("provider_ref", "");
      q.amount_fen = j.value("amount_fen", std::int64_t{0});
      q.reason = j.value("reason", "");
    } catch (const http::TransportError& e) {
      q.error = e.what();
    }
    return q;
  }

  std::optional<std::string> statement(const std::string& day) override {
    try {
      const auto res = call("GET", "/sandbox/v1/statements/" + day, "");
      if (res.status == 200) return res.body;
      log::warn("statement not available", {{"day", day}, {"status", res.status}});
    } catch (const http::TransportError& e) {
      log::warn("statement not fetched", {{"day", day}, {"error", e.what()}});
    }
    return std::nullopt;
  }

 private:
  http::ClientResponse call(const std::string& method, const std::string& target, const std::string& body) {
    http::ClientRequest req;
    req.method = method;
    req.target = target;
    req.body = body;
    req.timeout = s_.timeout;
    req.headers = signature::headers(s_.secret, clock::now_ms(), signature::payload(method, target, body));
    return http::fetch(base_, req);
  }
  HttpProviderSettings s_;
  http::BaseUrl base_;
};

}  // namespace

std::unique_ptr<Provider> make_http_provider(const HttpProviderSettings& settings) {
  return std::make_unique<HttpProvider>(settings);
}

}  // namespace crowd::settlement
