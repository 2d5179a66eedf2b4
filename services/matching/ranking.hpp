// Matching's pure ranking core: who may be offered a task and in which order. No I/O, no clock:
// everything it needs comes in as plain structs, so it is tested without a database and replays
// exactly from its inputs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace crowd::matching {

struct GeoPoint {
  double lat = 0;  // degrees, −90..90
  double lng = 0;  // degrees, −180..180
};

// Great-circle distance in metres (haversine, mean Earth radius).
double haversine_m(GeoPoint a, GeoPoint b);

// Skill names compared case-insensitively (ASCII) after trimming; sorted and without duplicates.
std::vector<std::string> normalise_skills(const std::vector<std::string>& skills);

struct WorkerProfile {
  std::string id;
  std::vector<std::string> skills;  // normalised
  std::optional<GeoPoint> home;
  std::optional<GeoPoint> place;  // reported with availability; wins over home
  bool verified = false;
  bool online = false;
  int credit_score = 0;      // 0..100
  int open_assignments = 0;  // current load

  std::optional<GeoPoint> effective_place() const { return place ? place : home; }
};

struct TaskProfile {
  std::string id;
  std::vector<std::string> required_skills;  // normalised
  std::optional<GeoPoint> place;
  std::optional<std::int64_t> radius_m;  // only meaningful with a place
};

// Score weights in points (total at most 10 000). Integers, so equal inputs give equal scores and
// ties are exact; ties are broken by worker id.
inline constexpr std::int64_t kSkillPointsMax = 4000;
inline constexpr std::int64_t kCreditPointsMax = 3000;
inline constexpr std::int64_t kDistancePointsMax = 2000;
inline constexpr std::int64_t kLoadPointsMax = 1000;
// Distance at which the distance score halves (closer is better, never negative).
inline constexpr std::int64_t kDistanceHalfScoreM = 5000;

struct Candidate {
  std::string worker_id;
  std::int64_t score = 0;
  std::int64_t skill_fit_permille = 0;
  std::optional<std::int64_t> distance_m;  // none when the task or the worker has no place
};

// Share of the required skills the worker has, in permille; 1000 when nothing is required.
std::int64_t skill_fit_permille(const std::vector<std::string>& required, const std::vector<std::string>& has);

// The worker's candidacy for the task, or nullopt when they do not fit: offline or unverified, no
// required skill at all, or (task with a place and a radius) farther than the radius or no place known.
std::optional<Candidate> evaluate(const TaskProfile& task, const WorkerProfile& worker);

// Every fitting worker, best first: score descending, then worker id ascending.
std::vector<Candidate> rank(const TaskProfile& task, const std::vector<WorkerProfile>& workers);
bool ranks_before(const Candidate& a, const Candidate& b);

// How many live offers a task with `free_units` should have out: max(min_offers, per_unit × free),
// at most cap; 0 when no unit is free.
std::size_t offer_target(std::int64_t free_units, int per_unit, int min_offers, std::size_t cap);
// New offers to create now: the target minus live offers, at most the candidates left.
std::size_t offers_to_create(std::size_t target, std::size_t live_offers, std::size_t candidates);

// A latitude/longitude box (micro-degrees) that contains every point within radius_m of the centre,
// used to narrow the candidate query before the exact distance. nullopt near the poles or across the
// antimeridian, where a box is not worth the trouble.
struct BoxE6 {
  std::int64_t lat_min, lat_max, lng_min, lng_max;
};
std::optional<BoxE6> bounding_box_e6(GeoPoint centre, std::int64_t radius_m);

// Coordinates in the database: integer micro-degrees (about 0.1 m).
std::int64_t to_e6(double degrees);
double from_e6(std::int64_t e6);

}  // namespace crowd::matching
