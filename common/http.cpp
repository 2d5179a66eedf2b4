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

Fields::Fields(const json& object, std::string prefix) : obj_(object), prefix_(std::move(prefix)) {}

std::string Fields::path(const std::string& name) const {
  return prefix_.empty() ? name : prefix_ + "." + name;
}

void Fields::fail(const std::string& name, std::string message) {
  errors_.push_back({path(name), std::move(message)});
}

bool Fields::has(const std::string& name) const {
  return obj_.is_object() && obj_.contains(name) && !obj_.at(name).is_null();
}

const json* Fields::find(const std::string& name, bool required) {
  if (!obj_.is_object() || !obj_.contains(name) || obj_.at(name).is_null()) {
    if (required) fail(name, "is required");
    return nullptr;
  }
  return &obj_.at(name);
}

namespace {
// Length in Unicode code points of UTF-8 text (titles and names are Chinese).
std::size_t utf8_length(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}
}  // namespace

std::string Fields::str(const std::string& name, std::size_t min_len, std::size_t max_len) {
  auto v = opt_str(name, max_len);
  if (!v) {
    if (!has(name)) fail(name, "is required");
    return {};
  }
  if (utf8_length(*v) < min_len) fail(name, "must have at least " + std::to_string(min_len) + " characters");
  return *v;
}

std::optional<std::string> Fields::opt_str(const std::string& name, std::size_t max_len) {
  const json* v = find(name, false);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    fail(name, "must be a string");
    return std::nullopt;
  }
  std::string s = v->get<std::string>();
  if (utf8_length(s) > max_len) {
    fail(name, "must have at most " + std::to_string(max_len) + " characters");
    return std::nullopt;
  }
  return s;
}

std::int64_t Fields::i64(const std::string& name, std::int64_t min, std::int64_t max) {
  if (!has(name)) {
    fail(name, "is required");
    return 0;
  }
  return opt_i64(name, min, max).value_or(0);
}

std::optional<std::int64_t> Fields::opt_i64(const std::string& name, std::int64_t min, std::int64_t max) {
  const json* v = find(name, false);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number_integer()) {
    fail(name, "must be an integer");
    return std::nullopt;
  }
  if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(max)) {
    fail(name, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  std::int64_t n = v->get<std::int64_t>();
  if (n < min || n > max) {
    fail(name, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  return n;
}

double Fields::num(const std::string& name, double min, double max) {
  if (!has(name)) {
    fail(name, "is required");
    return 0;
  }
  return opt_num(name, min, max).value_or(0);
}

std::optional<double> Fields::opt_num(const std::string& name, double min, double max) {
  const json* v = find(name, false);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number()) {
    fail(name, "must be a number");
    return std::nullopt;
  }
  double d = v->get<double>();
  if (!(d >= min && d <= max)) {
    fail(name, "must be between " + json(min).dump() + " and " + json(max).dump());
    return std::nullopt;
  }
  return d;
}

bool Fields::boolean(const std::string& name) {
  if (!has(name)) {
    fail(name, "is required");
    return false;
  }
  return opt_bool(name).value_or(false);
}

std::optional<bool> Fields::opt_bool(const std::string& name) {
  const json* v = find(name, false);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) {
    fail(name, "must be true or false");
    return std::nullopt;
  }
  return v->get<bool>();
}

std::string Fields::one_of(const std::string& name, const std::vector<std::string>& allowed) {
  std::string v = str(name, 1, 100);
  if (!v.empty() && std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    fail(name, "must be one of: " + list);
  }
  return v;
}

std::vector<std::string> Fields::str_list(const std::string& name, std::size_t min_items, std::size_t max_items,
                                          std::size_t max_len) {
  std::vector<std::string> out;
  const json* v = find(name, min_items > 0);
  if (v == nullptr) return out;
  if (!v->is_array()) {
    fail(name, "must be an array of strings");
    return out;
  }
  if (v->size() < min_items || v->size() > max_items) {
    fail(name, "must have " + std::to_string(min_items) + " to " + std::to_string(max_items) + " items");
    return out;
  }
  for (std::size_t i = 0; i < v->size(); ++i) {
    const json& e = (*v)[i];
    std::string p = name + "[" + std::to_string(i) + "]";
    if (!e.is_string()) {
      fail(p, "must be a string");
    } else if (e.get<std::string>().empty() || utf8_length(e.get<std::string>()) > max_len) {
      fail(p, "must have 1 to " + std::to_string(max_len) + " characters");
    } else {
      out.push_back(e.get<std::string>());
    }
  }
  return out;
}

std::optional<json> Fields::opt_object(const std::string& name) {
  const json* v = find(name, false);
  if (v == nullptr) return std::nullopt;
  if (!v->is_object()) {
    fail(name, "must be an object");
    return std::nullopt;
  }
  return *v;
}

std::int64_t Fields::money_fen(const std::string& name, std::int64_t min_fen, std::int64_t max_fen) {
  const json* v = find(name, true);
  if (v == nullptr) return 0;
  if (!v->is_object()) {
    fail(name, "must be an object {\"amount_fen\": integer, \"currency\": \"CNY\"}");
    return 0;
  }
  Fields m(*v, path(name));
  std::int64_t amount = m.i64("amount_fen", min_fen, max_fen);
  if (m.has("currency")) {
    auto c = m.opt_str("currency", 3);
    if (c && *c != "CNY") m.fail("currency", "only CNY is supported");
  }
  merge(m);
  return amount;
}

void Fields::merge(const Fields& child) {
  errors_.insert(errors_.end(), child.errors_.begin(), child.errors_.end());
}

void Fields::done() const {
  if (!errors_.empty()) throw invalid(errors_);
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
