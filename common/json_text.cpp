#include "common/json_text.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace crowd {

void append_json_string(std::string& out, std::string_view s) {
  bool plain = true;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x80 || c == '"' || c == '\\') {
      plain = false;
      break;
    }
  }
  if (!plain) {  // escapes and UTF-8 validation: nlohmann's own
    out += nlohmann::json(std::string(s)).dump();
    return;
  }
  out += '"';
  out += s;
  out += '"';
}

JsonObjectWriter::JsonObjectWriter() {
  out_.reserve(512);
  out_ += '{';
}

void JsonObjectWriter::key(std::string_view k) {
  if (!first_ && k <= std::string_view(last_key_)) {
    throw std::logic_error("JsonObjectWriter: key " + std::string(k) + " is not after " + last_key_);
  }
  last_key_.assign(k);
  if (!first_) out_ += ',';
  first_ = false;
  append_json_string(out_, k);
  out_ += ':';
}

JsonObjectWriter& JsonObjectWriter::field(std::string_view k, std::string_view value) {
  key(k);
  append_json_string(out_, value);
  return *this;
}

JsonObjectWriter& JsonObjectWriter::field(std::string_view k, std::int64_t value) {
  key(k);
  out_ += std::to_string(value);
  return *this;
}

JsonObjectWriter& JsonObjectWriter::field(std::string_view k, bool value) {
  key(k);
  out_ += value ? "true" : "false";
  return *this;
}

JsonObjectWriter& JsonObjectWriter::null_field(std::string_view k) {
  key(k);
  out_ += "null";
  return *this;
}

JsonObjectWriter& JsonObjectWriter::raw_field(std::string_view k, std::string_view json) {
  key(k);
  out_ += json;
  return *this;
}

std::string JsonObjectWriter::done() {
  out_ += '}';
  std::string text = std::move(out_);
  out_.clear();
  out_ += '{';
  last_key_.clear();
  first_ = true;
  return text;
}

}  // namespace crowd
