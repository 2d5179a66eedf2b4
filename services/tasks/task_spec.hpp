// Validation of a posted task (POST /v1/tasks body), pure: the clock is a parameter. Every field error is
// collected, named by its JSON path ("pay_per_unit.amount_fen", "required_skills[2]", "place.lat").
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "common/http.hpp"
#include "services/tasks/task.hpp"

namespace crowd::tasks {

inline constexpr std::int64_t kUnitsMax = 100'000;
inline constexpr std::int64_t kPayPerUnitMaxFen = 100'000'000'000;  // 10^9 yuan
inline constexpr std::int64_t kDeadlineAheadMaxMs = 365LL * 24 * 3600 * 1000;
inline constexpr std::int64_t kReviewWindowDefaultHours = 72;

struct SpecResult {
  std::optional<TaskSpec> spec;  // set exactly when errors is empty
  std::vector<http::FieldError> errors;
};

// now_ms is the crowd clock; the deadline must lie in (now, now + 365 days].
SpecResult validate_task_spec(const nlohmann::json& body, std::int64_t now_ms);

}  // namespace crowd::tasks
