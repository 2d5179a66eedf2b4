// A small blocking HTTP/1.1 client for service-to-service calls (the payment provider). Each call opens a
// loopback/LAN connection, sends one request and reads one response within one deadline; it runs on the
// caller's thread (a worker of the pool, never the IO thread) with a private io_context.
//
// Failures say how far the request got, because for money that decides what a caller may do next:
//   - not_sent: the connection was never made (DNS, refused, connect timeout): the peer saw nothing and
//     the call may be repeated;
//   - maybe_sent: writing started (or the response never came back in time / was cut): the peer may have
//     acted on it. Only a query, never a blind repeat, may follow.
#pragma once

#include <chrono>
#include <map>
#include <stdexcept>
#include <string>

namespace crowd::http {

struct ClientResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

class TransportError : public std::runtime_error {
 public:
  enum class Stage { not_sent, maybe_sent };
  TransportError(Stage stage, const std::string& what) : std::runtime_error(what), stage(stage) {}
  Stage stage;
};

struct ClientRequest {
  std::string method = "GET";
  std::string target = "/";  // path and query
  std::string body;          // sent with Content-Type: application/json when non-empty
  std::map<std::string, std::string> headers;
  std::chrono::milliseconds timeout{3000};  // connect + write + read
};

// "http://host:port" (no path, no TLS: the provider sandbox and in-cluster peers) → host and port.
struct BaseUrl {
  std::string host;
  std::string port;
};
BaseUrl parse_base_url(const std::string& url);  // std::invalid_argument when it is not http://host[:port]

// Throws TransportError; any HTTP status (including 5xx) is a response, not an exception.
ClientResponse fetch(const BaseUrl& base, const ClientRequest& req);

}  // namespace crowd::http
