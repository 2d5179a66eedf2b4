#include "common/http.hpp"

#include <algorithm>
#include <limits>

#include "common/crypto.hpp"
#include "common/ids.hpp"

namespace crowd::http {

// ---------------------------------------------------------------- Request / Response

std::string Request::header(std::string_view name) const {
  auto it = headers.find(std::string(name));
  return it == headers.end() ? std::string() : it->second;
}

std::string Request::param(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

std::optional<std::string> Request::query_param(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

json Request::json_body() const {
  std::string ct = header("content-type");
  std::string base = ct.substr(0, ct.find(';'));
  base.erase(std::remove(base.begin(), base.end(), ' '), base.end());
  std::transform(base.begin(), base.end(), base.begin(), [](unsigned char c) { return std::tolower(c); });
  if (!base.empty() && base != "application/json" && !(base.size() > 5 && base.ends_with("+json")))
    throw Problem(415, "unsupported-media-type", "Unsupported media type", "the body must be application/json");
  if (body.empty()) throw Problem(400, "malformed-json", "Malformed JSON", "the request body is empty");
  if (!json_nesting_within(body, kMaxJsonDepth))
    throw Problem(400, "malformed-json", "Malformed JSON",
                  "the request body nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) throw Problem(400, "malformed-json", "Malformed JSON", "the request body is not valid JSON");
  if (!j.is_object()) throw Problem(400, "malformed-json", "Malformed JSON", "the request body must be a JSON object");
  return j;
}

Response Response::json_of(int status, const json& j) {
  Response r;
  r.status = status;
  r.body = j.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

Response Response::no_content() {
  Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

bool json_nesting_within(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

// ---------------------------------------------------------------- Problems

Problem::Problem(int status_, std::string type_, std::string title_, std::string detail_,
                 std::vector<FieldError> errors_)
    : std::runtime_error(title_ + (detail_.empty() ? "" : ": " + detail_)),
      status(status_),
      type(std::move(type_)),
      title(std::move(title_)),
      detail(std::move(detail_)),
      errors(std::move(errors_)) {}

json Problem::to_json(const std::string& instance) const {
  json j = extra.is_object() ? extra : json::object();
  j["type"] = "https://errors.crowd.example/" + type;
  j["title"] = title;
  j["status"] = status;
  if (!detail.empty()) j["detail"] = detail;
  if (!instance.empty()) j["instance"] = instance;
  if (!errors.empty()) {
    json arr = json::array();
    for (const auto& e : errors) arr.push_back({{"field", e.field}, {"message", e.message}});
    j["errors"] = arr;
  }
  return j;
}

Problem not_found(std::string what) {
  return Problem(404, "not-found", "Not found", std::move(what));
}
Problem forbidden(std::string detail) {
  return Problem(403, "forbidden", "Forbidden", std::move(detail));
}
Problem unauthorized(std::string detail) {
  return Problem(401, "unauthorized", "Authentication required", std::move(detail));
}
Problem conflict(std::string detail) {
  return Problem(409, "conflict", "Conflict", std::move(detail));
}
Problem bad_request(std::string detail) {
  return Problem(400, "bad-request", "Bad request", std::move(detail));
}
Problem invalid(std::vector<FieldError> errors) {
  return Problem(422, "validation", "Invalid request", "one or more fields are invalid", std::move(errors));
}

// ---------------------------------------------------------------- Fields

void Fields::done() const {
  if (!ok()) throw invalid(errors());
}

// ---------------------------------------------------------------- Router

namespace {
std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    std::size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}
}  // namespace

void Router::add(std::string method, std::string pattern, Handler handler) {
  Route r{std::move(method), pattern, split_path(pattern), std::move(handler)};
  routes_.push_back(std::move(r));
}

Router::Match Router::match(Request& req) const {
  Match m;
  auto segs = split_path(req.path);
  for (const auto& r : routes_) {
    if (r.segments.size() != segs.size()) continue;
    std::map<std::string, std::string> params;
    bool ok = true;
    for (std::size_t i = 0; i < segs.size() && ok; ++i) {
      const auto& p = r.segments[i];
      if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
        params[p.substr(1, p.size() - 2)] = segs[i];
      } else {
        ok = p == segs[i];
      }
    }
    if (!ok) continue;
    if (r.method != req.method && !(req.method == "HEAD" && r.method == "GET")) {
      m.allowed.push_back(r.method);
      continue;
    }
    req.params = std::move(params);
    m.handler = &r.handler;
    m.pattern = r.pattern;
    return m;
  }
  return m;
}

// ---------------------------------------------------------------- Authorisation

const auth::Principal& require_auth(const Request& req) {
  if (!req.principal) throw unauthorized("a valid bearer token is required");
  return *req.principal;
}

const auth::Principal& require_role(const Request& req, std::initializer_list<auth::Role> roles) {
  const auto& p = require_auth(req);
  for (auto r : roles)
    if (p.role == r) return p;
  throw forbidden("this operation is not available to the " + auth::role_name(p.role) + " role");
}

Page page_of(const Request& req, int def, int max) {
  Page p{def, req.query_param("cursor").value_or("")};
  if (auto l = req.query_param("limit")) {
    char* end = nullptr;
    long v = std::strtol(l->c_str(), &end, 10);
    if (l->empty() || *end != '\0' || v < 1 || v > max)
      throw invalid({{"limit", "must be an integer between 1 and " + std::to_string(max)}});
    p.limit = static_cast<int>(v);
  }
  if (p.cursor.size() > 200) throw invalid({{"cursor", "is not a valid cursor"}});
  return p;
}

std::string encode_cursor(const std::string& last_id) {
  return crypto::base64url_encode(last_id);
}

std::optional<std::string> decode_cursor(const std::string& cursor, std::string_view id_prefix) {
  try {
    std::string id = crypto::base64url_decode(cursor);
    if (ids::looks_like(id, id_prefix)) return id;
  } catch (const std::exception&) {
    // Not base64url: an edited or foreign cursor, answered like any other bad cursor.
  }
  return std::nullopt;
}

}  // namespace crowd::http
