// The text of a flat JSON object written field by field: for hot paths (an event per write) that
// would otherwise build an nlohmann::json, a map node and strings per field, only to serialise it at once.
//
//   std::string text = JsonObjectWriter().field("amount_fen", 100).field("id", id).null_field("note").done();
//
// The text is byte for byte what nlohmann::json's dump() gives for the same object: keys must come in
// ascending byte order (std::logic_error otherwise), as dump() writes a std::map; a string that is not plain
// printable ASCII is escaped and UTF-8-checked by nlohmann itself.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace crowd {

class JsonObjectWriter {
 public:
  JsonObjectWriter();
  JsonObjectWriter& field(std::string_view key, std::string_view value);
  JsonObjectWriter& field(std::string_view key, const char* value) { return field(key, std::string_view(value)); }
  JsonObjectWriter& field(std::string_view key, const std::string& value) {
    return field(key, std::string_view(value));
  }
  JsonObjectWriter& field(std::string_view key, std::int64_t value);
  JsonObjectWriter& field(std::string_view key, int value) { return field(key, static_cast<std::int64_t>(value)); }
  JsonObjectWriter& field(std::string_view key, bool value);
  JsonObjectWriter& null_field(std::string_view key);
  // `json` must be valid JSON text (a nested object or array written elsewhere); it is copied as is.
  JsonObjectWriter& raw_field(std::string_view key, std::string_view json);
  std::string done();  // the object's text; the writer is empty afterwards

 private:
  void key(std::string_view k);
  std::string out_;
  std::string last_key_;
  bool first_ = true;
};

// `s` as a JSON string literal (quotes included), as nlohmann::json(s).dump() writes it.
void append_json_string(std::string& out, std::string_view s);

}  // namespace crowd
