// The field reader shared by request bodies and event data (see fields.hpp).
#include "common/fields.hpp"

#include <algorithm>

namespace crowd {

using json = nlohmann::json;

FieldReader::FieldReader(const json& object, std::string prefix) : obj_(object), prefix_(std::move(prefix)) {}

std::string FieldReader::path(const std::string& name) const {
  return prefix_.empty() ? name : prefix_ + "." + name;
}

void FieldReader::fail(const std::string& name, std::string message) {
  errors_.push_back({path(name), std::move(message)});
}

bool FieldReader::has(const std::string& name) const {
  return obj_.is_object() && obj_.contains(name) && !obj_.at(name).is_null();
}

const json* FieldReader::find(const std::string& name, bool required) {
  if (!obj_.is_object() || !obj_.contains(name) || obj_.at(name).is_null()) {
    if (required) fail(name, "is required");
    return nullptr;
  }
  return &obj_.at(name);
}

std::size_t utf8_length(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string FieldReader::str(const std::string& name, std::size_t min_len, std::size_t max_len) {
  auto v = opt_str(name, max_len);
  if (!v) {
    if (!has(name)) fail(name, "is required");
    return {};
  }
  if (utf8_length(*v) < min_len) fail(name, "must have at least " + std::to_string(min_len) + " characters");
  return *v;
}

std::optional<std::string> FieldReader::opt_str(const std::string& name, std::size_t max_len) {
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

std::int64_t FieldReader::i64(const std::string& name, std::int64_t min, std::int64_t max) {
  if (!has(name)) {
    fail(name, "is required");
    return 0;
  }
  return opt_i64(name, min, max).value_or(0);
}

std::optional<std::int64_t> FieldReader::opt_i64(const std::string& name, std::int64_t min, std::int64_t max) {
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

double FieldReader::num(const std::string& name, double min, double max) {
  if (!has(name)) {
    fail(name, "is required");
    return 0;
  }
  return opt_num(name, min, max).value_or(0);
}

std::optional<double> FieldReader::opt_num(const std::string& name, double min, double max) {
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

bool FieldReader::boolean(const std::string& name) {
  if (!has(name)) {
    fail(name, "is required");
    return false;
  }
  return opt_bool(name).value_or(false);
}

std::optional<bool> FieldReader::opt_bool(const std::string& name) {
  const json* v = find(name, false);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) {
    fail(name, "must be true or false");
    return std::nullopt;
  }
  return v->get<bool>();
}

std::string FieldReader::one_of(const std::string& name, const std::vector<std::string>& allowed) {
  std::string v = str(name, 1, 100);
  if (!v.empty() && std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    fail(name, "must be one of: " + list);
  }
  return v;
}

std::vector<std::string> FieldReader::str_list(const std::string& name, std::size_t min_items, std::size_t max_items,
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

std::optional<json> FieldReader::opt_object(const std::string& name) {
  const json* v = find(name, false);
  if (v == nullptr) return std::nullopt;
  if (!v->is_object()) {
    fail(name, "must be an object");
    return std::nullopt;
  }
  return *v;
}

std::int64_t FieldReader::money_fen(const std::string& name, std::int64_t min_fen, std::int64_t max_fen) {
  const json* v = find(name, true);
  if (v == nullptr) return 0;
  if (!v->is_object()) {
    fail(name, "must be an object {\"amount_fen\": integer, \"currency\": \"CNY\"}");
    return 0;
  }
  FieldReader m(*v, path(name));
  std::int64_t amount = m.i64("amount_fen", min_fen, max_fen);
  if (m.has("currency")) {
    auto c = m.opt_str("currency", 3);
    if (c && *c != "CNY") m.fail("currency", "only CNY is supported");
  }
  merge(m);
  return amount;
}

void FieldReader::merge(const FieldReader& child) {
  errors_.insert(errors_.end(), child.errors_.begin(), child.errors_.end());
}

std::string FieldReader::id(const std::string& name, std::size_t max_len) {
  std::string v = str(name, 1, max_len);
  for (const char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (c == ':' || u <= 0x20 || u == 0x7f) {
      fail(name, "must not hold ':', a space or a control character");
      break;
    }
  }
  return v;
}

std::string FieldReader::summary() const {
  std::string out;
  for (const auto& e : errors_) out += (out.empty() ? "" : "; ") + e.field + ": " + e.message;
  return out;
}

}  // namespace crowd
