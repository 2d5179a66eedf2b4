// The text of an enum's values, as a database column or an event stores them: one array of names in the
// order of the values, read both ways. The values must be 0, 1, 2 ... in the order of the names.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace crowd {

template <class Enum, std::size_t N>
struct EnumText {
  std::array<const char*, N> names;
  const char* what = "value";  // in the error: "unknown {what}: ..."

  const char* name(Enum v) const {
    const auto i = static_cast<std::size_t>(v);
    return i < N ? names[i] : "?";
  }
  // nullopt for any other text.
  std::optional<Enum> find(std::string_view text) const {
    for (std::size_t i = 0; i < N; ++i) {
      if (text == names[i]) return static_cast<Enum>(i);
    }
    return std::nullopt;
  }
  // std::logic_error for any other text (a corrupted row: our own data, not input).
  Enum parse(std::string_view text) const {
    if (auto v = find(text)) return *v;
    throw std::logic_error(std::string("unknown ") + what + ": " + std::string(text));
  }
};

}  // namespace crowd
