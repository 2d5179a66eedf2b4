// The task aggregate as plain data: what an enterprise posted (TaskSpec), where the task stands in its
// lifecycle (Progress), and the stored row that joins them (Task). No I/O here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crowd::tasks {

// pending_funding → open → in_progress → completed, with the side roads funding_failed, cancelling and
// cancelled (lifecycle.hpp holds the table of allowed moves).
enum class Status { pending_funding, funding_failed, open, in_progress, cancelling, cancelled, completed };

std::string_view status_name(Status s);
std::optional<Status> status_from(std::string_view name);

inline constexpr std::string_view kCategories[] = {"rd_design", "manufacturing", "knowledge", "life_service"};
inline constexpr std::string_view kModes[] = {"single", "piecework"};

// A place in micro-degrees: integers, so no floating-point column differs between SQLite and PostgreSQL
// and a stored place reads back exactly as it was answered.
struct Place {
  std::int64_t lat_e6 = 0;
  std::int64_t lng_e6 = 0;
};

// A validated POST /v1/tasks body, normalised (trimmed title, lower-cased deduplicated skills).
struct TaskSpec {
  std::string title;
  std::string description;
  std::string category;
  std::string mode;
  std::int64_t units = 1;
  std::vector<std::string> required_skills;
  std::int64_t pay_per_unit_fen = 0;
  std::string currency = "CNY";
  std::int64_t budget_fen = 0;  // units × pay_per_unit_fen
  std::int64_t deadline_ms = 0;
  std::int64_t review_window_hours = 72;
  std::optional<Place> place;
  std::optional<std::int64_t> radius_m;  // only with a place
  bool ip_transfer_on_acceptance = false;
  std::optional<std::string> ip_license;
};

// The counters the lifecycle reasons about. units_total starts at the posted units and shrinks to the
// assigned units when a cancel releases the rest.
struct Progress {
  Status status = Status::pending_funding;
  std::int64_t units_total = 0;
  std::int64_t units_assigned = 0;
  std::int64_t units_completed = 0;
  bool operator==(const Progress&) const = default;
};

struct Task {
  std::string id;
  std::string enterprise_id;
  TaskSpec spec;
  Progress progress;
  std::optional<std::string> escrow_transfer_id;
  std::optional<std::string> funding_failure_reason;
  std::int64_t version = 0;  // optimistic concurrency: every update bumps it
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
};

}  // namespace crowd::tasks
