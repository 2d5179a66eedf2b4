// HTTP types shared by every service. Beast and Asio stay out of this header: handlers are plain
// functions that run on the service's worker pool (where blocking SOCI and hiredis calls are allowed),
// while the server reads and writes on its IO thread with C++20 coroutines (server.cpp).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/auth.hpp"
#include "common/fields.hpp"

namespace crowd::http {

using json = nlohmann::json;

struct Request {
  std::string method;                          // "GET", "POST", ...
  std::string target;                          // as sent: path and query
  std::string path;                            // decoded path without query
  std::map<std::string, std::string> query;    // decoded query parameters
  std::map<std::string, std::string> params;   // path parameters from the route pattern
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string request_id;
  std::string route;                         // the matched pattern, e.g. "/v1/tasks/{id}" (for metrics and logs)
  std::optional<auth::Principal> principal;  // set when a valid bearer token came with the request

  std::string header(std::string_view name) const;  // name in lower case; "" when absent
  std::string param(const std::string& name) const;
  std::optional<std::string> query_param(const std::string& name) const;
  // The body parsed as a JSON object. Throws Problem 415 (not JSON) or 400 (malformed, not an object).
  json json_body() const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static Response json_of(int status, const json& j);
  static Response no_content();
};

// One field of bad input: the JSON path of the field ("pay_per_unit.amount_fen") and what is wrong.
using FieldError = crowd::FieldError;

// An operating error that becomes an application/problem+json response (RFC 9457).
// `type` is a stable short slug ("validation", "not-found", ...) rendered as a URI by the server.
class Problem : public std::runtime_error {
 public:
  Problem(int status, std::string type, std::string title, std::string detail = {},
          std::vector<FieldError> errors = {});
  int status;
  std::string type;
  std::string title;
  std::string detail;
  std::vector<FieldError> errors;
  json extra = json::object();  // more members for the problem body
  json to_json(const std::string& instance) const;
};

Problem not_found(std::string what);              // 404
Problem forbidden(std::string detail);            // 403
Problem unauthorized(std::string detail);         // 401
Problem conflict(std::string detail);             // 409
Problem bad_request(std::string detail);          // 400
Problem invalid(std::vector<FieldError> errors);  // 422 with field errors

// Reads the fields of a request body (common/fields.hpp), collecting every error before failing, so a client
// learns all of what is wrong at once. Call done() after the last read: it throws 422 if anything failed.
class Fields : public FieldReader {
 public:
  using FieldReader::FieldReader;
  void done() const;  // throws invalid(errors) when any read failed
};

// True when no array or object in the JSON text nests deeper than max_depth (strings are skipped).
// Deeply nested documents are refused before parsing: serialising them recurses and could overflow the
// stack of a worker thread.
bool json_nesting_within(std::string_view text, int max_depth);
inline constexpr int kMaxJsonDepth = 64;

using Handler = std::function<Response(Request&)>;

// Routes by method and path pattern; "{name}" segments bind path parameters.
class Router {
 public:
  void add(std::string method, std::string pattern, Handler handler);
  void get(std::string pattern, Handler h) { add("GET", std::move(pattern), std::move(h)); }
  void post(std::string pattern, Handler h) { add("POST", std::move(pattern), std::move(h)); }
  void put(std::string pattern, Handler h) { add("PUT", std::move(pattern), std::move(h)); }
  void del(std::string pattern, Handler h) { add("DELETE", std::move(pattern), std::move(h)); }

  struct Match {
    const Handler* handler = nullptr;
    std::string pattern;
    std::vector<std::string> allowed;  // methods allowed on a path that matched with another method
  };
  // Fills req.params on a match; on a path match with the wrong method returns allowed methods.
  Match match(Request& req) const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
};

// Authorisation helpers for handlers.
const auth::Principal& require_auth(const Request& req);  // 401 without a token
const auth::Principal& require_role(const Request& req, std::initializer_list<auth::Role> roles);  // 403

// Pagination: limit (1..max, default def) and an opaque cursor from the query string.
struct Page {
  int limit;
  std::string cursor;  // "" for the first page
};
Page page_of(const Request& req, int def = 20, int max = 100);

// Opaque page cursors: the base64url of the page's last id (ids sort by creation, so the next page starts
// after or before it). decode_cursor gives the id back when it is an id with id_prefix (ids::looks_like),
// nullopt for an edited or foreign cursor: report that as a field error ("cursor").
std::string encode_cursor(const std::string& last_id);
std::optional<std::string> decode_cursor(const std::string& cursor, std::string_view id_prefix);

}  // namespace crowd::http
