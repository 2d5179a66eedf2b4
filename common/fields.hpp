// Typed, ranged reads of the members of a JSON object that collect every fault instead of stopping at the
// first, so that whoever sent the object learns all of what is wrong at once. Two readers build on it:
// http::Fields (a request body: its faults become one 422 problem) and events::Fields (an event's data: its
// faults refuse the event once, naming them). A member that is null counts as absent.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace crowd {

// One fault: the path of the field ("pay_per_unit.amount_fen", "data.units") and what is wrong with it.
struct FieldError {
  std::string field;
  std::string message;
};

class FieldReader {
 public:
  // `object` must outlive the reader; `prefix` names it in the faults ("place" → "place.lat").
  explicit FieldReader(const nlohmann::json& object, std::string prefix = {});

  std::string str(const std::string& name, std::size_t min_len = 1, std::size_t max_len = 1000);
  std::optional<std::string> opt_str(const std::string& name, std::size_t max_len = 1000);
  // An id of ours: 1..max_len characters, no ':' (our ledger and release names use it as a separator), no
  // space or control character.
  std::string id(const std::string& name, std::size_t max_len = 100);
  std::int64_t i64(const std::string& name, std::int64_t min, std::int64_t max);
  std::optional<std::int64_t> opt_i64(const std::string& name, std::int64_t min, std::int64_t max);
  double num(const std::string& name, double min, double max);
  std::optional<double> opt_num(const std::string& name, double min, double max);
  bool boolean(const std::string& name);
  std::optional<bool> opt_bool(const std::string& name);
  std::string one_of(const std::string& name, const std::vector<std::string>& allowed);
  std::vector<std::string> str_list(const std::string& name, std::size_t min_items, std::size_t max_items,
                                    std::size_t max_len = 100);
  // A nested object (absent → nullopt; wrong type → fault). Read its members with a child reader and merge it.
  std::optional<nlohmann::json> opt_object(const std::string& name);
  // {"amount_fen": integer in [min_fen, max_fen], "currency": "CNY" (optional)}: the amount in fen.
  std::int64_t money_fen(const std::string& name, std::int64_t min_fen, std::int64_t max_fen);

  void fail(const std::string& name, std::string message);
  bool has(const std::string& name) const;
  bool ok() const { return errors_.empty(); }
  const std::vector<FieldError>& errors() const { return errors_; }
  // Takes over the faults of a child reader (a nested object).
  void merge(const FieldReader& child);
  // The faults as one line: "units: must be between 1 and 100000; title: is required".
  std::string summary() const;

 protected:
  const nlohmann::json* find(const std::string& name, bool required);
  std::string path(const std::string& name) const;

 private:
  const nlohmann::json& obj_;
  std::string prefix_;
  std::vector<FieldError> errors_;
};

// Length in Unicode code points of UTF-8 text (titles and names are Chinese).
std::size_t utf8_length(const std::string& s);

}  // namespace crowd
