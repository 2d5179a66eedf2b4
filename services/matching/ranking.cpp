#include "services/matching/ranking.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace crowd::matching {

namespace {

constexpr double kEarthRadiusM = 6371008.8;  // IUGG mean radius
constexpr double kPi = 3.14159265358979323846;
// A little under the true ~111 195 m per degree on this sphere, so the box errs on the inclusive side.
constexpr double kMetresPerDegreeLat = 111000.0;

double radians(double degrees) {
  return degrees * kPi / 180.0;
}

std::string trim_lower(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  std::string out = s.substr(b, e - b);
  // ASCII only: UTF-8 bytes of Chinese skill names are left as they are.
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::int64_t distance_points(std::int64_t distance_m) {
  return kDistancePointsMax * kDistanceHalfScoreM / (kDistanceHalfScoreM + std::max<std::int64_t>(0, distance_m));
}

}  // namespace

double haversine_m(GeoPoint a, GeoPoint b) {
  const double dlat = radians(b.lat - a.lat);
  const double dlng = radians(b.lng - a.lng);
  const double h = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(radians(a.lat)) * std::cos(radians(b.lat)) * std::sin(dlng / 2) * std::sin(dlng / 2);
  return 2 * kEarthRadiusM * std::asin(std::min(1.0, std::sqrt(h)));
}

std::vector<std::string> normalise_skills(const std::vector<std::string>& skills) {
  std::vector<std::string> out;
  out.reserve(skills.size());
  for (const auto& s : skills) {
    std::string n = trim_lower(s);
    if (!n.empty()) out.push_back(std::move(n));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::int64_t skill_fit_permille(const std::vector<std::string>& required, const std::vector<std::string>& has) {
  if (required.empty()) return 1000;
  std::int64_t matched = 0;
  for (const auto& r : required) {
    if (std::find(has.begin(), has.end(), r) != has.end()) ++matched;
  }
  return matched * 1000 / static_cast<std::int64_t>(required.size());
}

std::optional<Candidate> evaluate(const TaskProfile& task, const WorkerProfile& worker) {
  if (!worker.online || !worker.verified) return std::nullopt;
  Candidate c;
  c.worker_id = worker.id;
  c.skill_fit_permille = skill_fit_permille(task.required_skills, worker.skills);
  if (c.skill_fit_permille == 0) return std::nullopt;
  const bool has_radius = task.place && task.radius_m;
  if (task.place) {
    if (auto at = worker.effective_place()) {
      c.distance_m = std::llround(haversine_m(*task.place, *at));
    }
    if (has_radius && (!c.distance_m || *c.distance_m > *task.radius_m)) return std::nullopt;
  }
  const std::int64_t credit = std::clamp(worker.credit_score, 0, 100);
  const std::int64_t load = std::max(0, worker.open_assignments);
  c.score = kSkillPointsMax * c.skill_fit_permille / 1000 + kCreditPointsMax * credit / 100 +
            (c.distance_m ? distance_points(*c.distance_m) : 0) + kLoadPointsMax / (1 + load);
  return c;
}

bool ranks_before(const Candidate& a, const Candidate& b) {
  if (a.score != b.score) return a.score > b.score;
  return a.worker_id < b.worker_id;
}

std::vector<Candidate> rank(const TaskProfile& task, const std::vector<WorkerProfile>& workers) {
  std::vector<Candidate> out;
  for (const auto& w : workers) {
    if (auto c = evaluate(task, w)) out.push_back(std::move(*c));
  }
  std::sort(out.begin(), out.end(), ranks_before);
  return out;
}

std::size_t offer_target(std::int64_t free_units, int per_unit, int min_offers, std::size_t cap) {
  if (free_units <= 0) return 0;
  const std::int64_t by_units = free_units * std::max(1, per_unit);
  const std::int64_t target = std::max<std::int64_t>(std::max(1, min_offers), by_units);
  return std::min(static_cast<std::size_t>(target), cap);
}

std::size_t offers_to_create(std::size_t target, std::size_t live_offers, std::size_t candidates) {
  if (live_offers >= target) return 0;
  return std::min(target - live_offers, candidates);
}

std::optional<BoxE6> bounding_box_e6(GeoPoint centre, std::int64_t radius_m) {
  if (radius_m < 0 || std::abs(centre.lat) > 80) return std::nullopt;
  const double dlat = static_cast<double>(radius_m) / kMetresPerDegreeLat;
  // cos shrinks towards the poles: use the latitude of the box edge nearer to the pole.
  const double edge_lat = std::min(89.0, std::abs(centre.lat) + dlat);
  const double dlng = static_cast<double>(radius_m) / (kMetresPerDegreeLat * std::cos(radians(edge_lat)));
  if (centre.lng - dlng < -180 || centre.lng + dlng > 180) return std::nullopt;
  // One micro-degree of slack on each side absorbs the rounding of stored coordinates.
  return BoxE6{to_e6(centre.lat - dlat) - 1, to_e6(centre.lat + dlat) + 1, to_e6(centre.lng - dlng) - 1,
               to_e6(centre.lng + dlng) + 1};
}

std::int64_t to_e6(double degrees) {
  return std::llround(degrees * 1e6);
}
double from_e6(std::int64_t e6) {
  return static_cast<double>(e6) / 1e6;
}

}  // namespace crowd::matching
