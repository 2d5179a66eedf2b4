#include "services/matching/store.hpp"

#include <soci/soci.h>

#include <cmath>
#include <deque>
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/db.hpp"

namespace crowd::matching::store {

namespace {

using crowd::db::get_i64;
using crowd::db::get_str;

// A nullable BIGINT parameter: SOCI 4.0 binds optionals through an indicator.
struct NullableI64 {
  long long value = 0;
  soci::indicator ind = soci::i_null;
  explicit NullableI64(const std::optional<std::int64_t>& v) {
    if (v) {
      value = *v;
      ind = soci::i_ok;
    }
  }
};

struct NullableStr {
  std::string value;
  soci::indicator ind = soci::i_null;
  explicit NullableStr(const std::optional<std::string>& v) {
    if (v) {
      value = *v;
      ind = soci::i_ok;
    }
  }
};

// Latitude and longitude of an optional point as two nullable micro-degree parameters.
struct NullablePoint {
  NullableI64 lat, lng;
  explicit NullablePoint(const std::optional<GeoPoint>& p)
      : lat(p ? std::optional<std::int64_t>(to_e6(p->lat)) : std::nullopt),
        lng(p ? std::optional<std::int64_t>(to_e6(p->lng)) : std::nullopt) {}
};

std::string skills_json(const std::vector<std::string>& skills) {
  return nlohmann::json(skills).dump();
}

std::vector<std::string> skills_from(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const auto& v : j) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

// An optional point stored as two nullable micro-degree columns, the next two of the row.
std::optional<GeoPoint> point_of(db::RowReader& r) {
  auto lat = r.opt_i64();
  auto lng = r.opt_i64();
  if (!lat || !lng) return std::nullopt;
  return GeoPoint{from_e6(*lat), from_e6(*lng)};
}

long long affected(soci::statement& st) {
  st.execute(true);
  return st.get_affected_rows();
}

constexpr const char* kWorkerCols =
    "w.id, w.skills, w.home_lat_e6, w.home_lng_e6, w.verified, w.credit_score, w.online, w.place_lat_e6, "
    "w.place_lng_e6, w.open_assignments, w.updated_at_ms";

WorkerRow worker_of(db::RowReader& r) {
  WorkerRow w;
  w.profile.id = r.str();
  w.profile.skills = skills_from(r.str());
  w.profile.home = point_of(r);
  w.profile.verified = r.flag();
  w.profile.credit_score = r.i32();
  w.profile.online = r.flag();
  w.profile.place = point_of(r);
  w.profile.open_assignments = r.i32();
  w.updated_at_ms = r.i64();
  return w;
}

constexpr const char* kTaskCols =
    "t.id, t.enterprise_id, t.category, t.mode, t.title, t.units_total, t.units_assigned, t.pay_per_unit_fen, "
    "t.currency, t.required_skills, t.place_lat_e6, t.place_lng_e6, t.radius_m, t.deadline_ms, t.review_window_s, "
    "t.status, t.opened, t.units_released_at_ms, t.cancel_units_released";

TaskRow task_of(db::RowReader& r) {
  TaskRow t;
  t.profile.id = r.str();
  t.enterprise_id = r.str();
  t.category = r.str();
  t.mode = r.str();
  t.title = r.str();
  t.units_total = r.i64();
  t.units_assigned = r.i64();
  t.pay_per_unit_fen = r.i64();
  t.currency = r.str();
  t.profile.required_skills = skills_from(r.str());
  t.profile.place = point_of(r);
  t.profile.radius_m = r.opt_i64();
  t.deadline_ms = r.i64();
  t.review_window_s = r.i64();
  t.is_open = r.str() == "open";
  t.opened = r.flag();
  t.units_released_at_ms = r.opt_i64();
  t.cancel_units_released = r.opt_i64();
  return t;
}

constexpr const char* kOfferCols =
    "o.id, o.task_id, o.worker_id, o.status, o.score, o.distance_m, o.created_at_ms, o.expires_at_ms, "
    "o.decided_at_ms, o.assignment_id";

OfferRow offer_of(db::RowReader& r) {
  OfferRow o;
  o.id = r.str();
  o.task_id = r.str();
  o.worker_id = r.str();
  auto status = offer_status_from(r.str());
  if (!status) throw std::logic_error("m_offers.status holds an unknown value");
  o.status = *status;
  o.score = r.i64();
  o.distance_m = r.opt_i64();
  o.created_at_ms = r.i64();
  o.expires_at_ms = r.i64();
  o.decided_at_ms = r.opt_i64();
  o.assignment_id = r.opt_str();
  return o;
}

constexpr const char* kAssignmentCols =
    "a.id, a.offer_id, a.task_id, a.enterprise_id, a.worker_id, a.units, a.pay_per_unit_fen, a.amount_fen, "
    "a.currency, a.status, a.created_at_ms, a.updated_at_ms, t.title, t.category, t.deadline_ms, t.review_window_s";

AssignmentRow assignment_of(db::RowReader& r) {
  AssignmentRow a;
  a.id = r.str();
  a.offer_id = r.str();
  a.task_id = r.str();
  a.enterprise_id = r.str();
  a.worker_id = r.str();
  a.units = r.i64();
  a.pay_per_unit_fen = r.i64();
  a.amount_fen = r.i64();
  a.currency = r.str();
  auto status = assignment_status_from(r.str());
  if (!status) throw std::logic_error("m_assignments.status holds an unknown value");
  a.status = *status;
  a.created_at_ms = r.i64();
  a.updated_at_ms = r.i64();
  a.title = r.str();
  a.category = r.str();
  a.deadline_ms = r.i64();
  a.review_window_s = r.i64();
  return a;
}

// One row of one SELECT list, read whole by `read` (its column count checked before, every column read after).
template <class Read>
auto read_row(const soci::row& row, const char* select_list, Read read) {
  db::RowReader r(row, db::column_count(select_list));
  auto out = read(r);
  r.done();
  return out;
}

}  // namespace

// ---------------------------------------------------------------- workers

void upsert_worker(soci::session& s, const WorkerProfile& w, std::int64_t now_ms) {
  const std::string skills = skills_json(w.skills);
  NullablePoint home(w.home);
  const int verified = w.verified ? 1 : 0;
  const long long now = now_ms;
  s << "INSERT INTO m_workers (id, skills, home_lat_e6, home_lng_e6, verified, credit_score, online, "
       "open_assignments, registered_at_ms, updated_at_ms) "
       "VALUES (:id, :skills, :hlat, :hlng, :verified, :credit, 0, 0, :reg, :upd) "
       "ON CONFLICT (id) DO UPDATE SET skills = excluded.skills, home_lat_e6 = excluded.home_lat_e6, "
       "home_lng_e6 = excluded.home_lng_e6, verified = excluded.verified, credit_score = excluded.credit_score, "
       "updated_at_ms = excluded.updated_at_ms",
      soci::use(w.id), soci::use(skills), soci::use(home.lat.value, home.lat.ind),
      soci::use(home.lng.value, home.lng.ind), soci::use(verified), soci::use(w.credit_score), soci::use(now),
      soci::use(now);
}

std::optional<WorkerRow> find_worker(soci::session& s, const std::string& worker_id) {
  soci::rowset<soci::row> rs =
      (s.prepare << std::string("SELECT ") + kWorkerCols + " FROM m_workers w WHERE w.id = :id", soci::use(worker_id));
  for (const auto& r : rs) return read_row(r, kWorkerCols, worker_of);
  return std::nullopt;
}

void set_availability(soci::session& s, const std::string& worker_id, bool online,
                      const std::optional<std::optional<GeoPoint>>& place, std::int64_t now_ms) {
  const int on = online ? 1 : 0;
  const long long now = now_ms;
  if (!place) {
    s << "UPDATE m_workers SET online = :online, updated_at_ms = :now WHERE id = :id", soci::use(on), soci::use(now),
        soci::use(worker_id);
    return;
  }
  NullablePoint p(*place);
  s << "UPDATE m_workers SET online = :online, place_lat_e6 = :lat, place_lng_e6 = :lng, updated_at_ms = :now "
       "WHERE id = :id",
      soci::use(on), soci::use(p.lat.value, p.lat.ind), soci::use(p.lng.value, p.lng.ind), soci::use(now),
      soci::use(worker_id);
}

std::vector<WorkerProfile> candidate_workers(soci::session& s, const std::string& task_id,
                                             const std::optional<BoxE6>& box) {
  std::string sql = std::string("SELECT ") + kWorkerCols +
                    " FROM m_workers w WHERE w.online = 1 AND w.verified = 1 AND NOT EXISTS (SELECT 1 FROM m_offers o "
                    "WHERE o.task_id = :task AND o.worker_id = w.id AND o.status <> 'withdrawn')";
  std::vector<WorkerProfile> out;
  if (!box) {
    soci::rowset<soci::row> rs = (s.prepare << sql + " ORDER BY w.id", soci::use(task_id));
    for (const auto& r : rs) out.push_back(read_row(r, kWorkerCols, worker_of).profile);
    return out;
  }
  // The reported place wins over home, as in WorkerProfile::effective_place.
  sql +=
      " AND COALESCE(w.place_lat_e6, w.home_lat_e6) BETWEEN :lat0 AND :lat1"
      " AND COALESCE(w.place_lng_e6, w.home_lng_e6) BETWEEN :lng0 AND :lng1 ORDER BY w.id";
  const long long lat0 = box->lat_min, lat1 = box->lat_max, lng0 = box->lng_min, lng1 = box->lng_max;
  soci::rowset<soci::row> rs =
      (s.prepare << sql, soci::use(task_id), soci::use(lat0), soci::use(lat1), soci::use(lng0), soci::use(lng1));
  for (const auto& r : rs) out.push_back(read_row(r, kWorkerCols, worker_of).profile);
  return out;
}

void add_load(soci::session& s, const std::string& worker_id, int delta) {
  // Never below zero: a late or duplicated event must not push the load negative (CHECK would refuse).
  s << "UPDATE m_workers SET open_assignments = CASE WHEN open_assignments + :d1 < 0 THEN 0 "
       "ELSE open_assignments + :d2 END WHERE id = :id",
      soci::use(delta), soci::use(delta), soci::use(worker_id);
}

// ---------------------------------------------------------------- tasks

namespace {

// Binds every column of a task row for INSERT/UPDATE. Kept in one place so both statements agree.
struct TaskParams {
  std::string skills;
  NullablePoint place;
  NullableI64 radius;
  long long units_total, pay, deadline, review_window_s, now;
  TaskParams(const TaskRow& t, std::int64_t now_ms)
      : skills(skills_json(t.profile.required_skills)),
        place(t.profile.place),
        radius(t.profile.radius_m),
        units_total(t.units_total),
        pay(t.pay_per_unit_fen),
        deadline(t.deadline_ms),
        review_window_s(t.review_window_s),
        now(now_ms) {}
};

}  // namespace

bool insert_task(soci::session& s, const TaskRow& t, std::int64_t now_ms) {
  TaskParams p(t, now_ms);
  soci::statement st =
      (s.prepare << "INSERT INTO m_tasks (id, enterprise_id, category, mode, title, units_total, units_assigned, "
                    "pay_per_unit_fen, currency, required_skills, place_lat_e6, place_lng_e6, radius_m, deadline_ms, "
                    "review_window_s, status, opened, match_after_ms, opened_at_ms) VALUES (:id, :ent, :cat, :mode, "
                    ":title, :units, 0, :pay, :cur, :skills, :lat, :lng, :radius, :deadline, :review, 'open', 1, 0, "
                    ":now) ON CONFLICT (id) DO NOTHING",
       soci::use(t.profile.id), soci::use(t.enterprise_id), soci::use(t.category), soci::use(t.mode),
       soci::use(t.title), soci::use(p.units_total), soci::use(p.pay), soci::use(t.currency), soci::use(p.skills),
       soci::use(p.place.lat.value, p.place.lat.ind), soci::use(p.place.lng.value, p.place.lng.ind),
       soci::use(p.radius.value, p.radius.ind), soci::use(p.deadline), soci::use(p.review_window_s), soci::use(p.now));
  return affected(st) == 1;
}

void fill_placeholder_task(soci::session& s, const TaskRow& t, std::int64_t now_ms) {
  TaskParams p(t, now_ms);
  s << "UPDATE m_tasks SET category = :cat, mode = :mode, title = :title, units_total = :units, "
       "pay_per_unit_fen = :pay, currency = :cur, required_skills = :skills, place_lat_e6 = :lat, "
       "place_lng_e6 = :lng, radius_m = :radius, deadline_ms = :deadline, review_window_s = :review, opened = 1, "
       "opened_at_ms = :now WHERE id = :id AND opened = 0",
      soci::use(t.category), soci::use(t.mode), soci::use(t.title), soci::use(p.units_total), soci::use(p.pay),
      soci::use(t.currency), soci::use(p.skills), soci::use(p.place.lat.value, p.place.lat.ind),
      soci::use(p.place.lng.value, p.place.lng.ind), soci::use(p.radius.value, p.radius.ind), soci::use(p.deadline),
      soci::use(p.review_window_s), soci::use(p.now), soci::use(t.profile.id);
}

bool insert_placeholder_task(soci::session& s, const std::string& task_id, const std::string& enterprise_id,
                             std::int64_t now_ms) {
  const long long now = now_ms;
  soci::statement st = (s.prepare << "INSERT INTO m_tasks (id, enterprise_id, status, opened, closed_at_ms) "
                                     "VALUES (:id, :ent, 'closed', 0, :now) ON CONFLICT (id) DO NOTHING",
                        soci::use(task_id), soci::use(enterprise_id), soci::use(now));
  return affected(st) == 1;
}

std::optional<TaskRow> find_task(soci::session& s, const std::string& task_id) {
  soci::rowset<soci::row> rs =
      (s.prepare << std::string("SELECT ") + kTaskCols + " FROM m_tasks t WHERE t.id = :id", soci::use(task_id));
  for (const auto& r : rs) return read_row(r, kTaskCols, task_of);
  return std::nullopt;
}

bool lock_task(soci::session& s, const std::string& task_id, std::optional<std::int64_t> match_after_ms) {
  if (match_after_ms) {
    const long long after = *match_after_ms;
    soci::statement st = (s.prepare << "UPDATE m_tasks SET match_after_ms = :after WHERE id = :id", soci::use(after),
                          soci::use(task_id));
    return affected(st) == 1;
  }
  soci::statement st =
      (s.prepare << "UPDATE m_tasks SET match_after_ms = match_after_ms WHERE id = :id", soci::use(task_id));
  return affected(st) == 1;
}

bool claim_unit(soci::session& s, const std::string& task_id) {
  // Conditional: on PostgreSQL the row lock makes concurrent claims re-check the WHERE after the first
  // commits; on SQLite BEGIN IMMEDIATE serialises writers. Either way at most units_total are taken.
  soci::statement st = (s.prepare << "UPDATE m_tasks SET units_assigned = units_assigned + 1 WHERE id = :id AND "
                                     "status = 'open' AND units_assigned < units_total",
                        soci::use(task_id));
  return affected(st) == 1;
}

bool release_units(soci::session& s, const std::string& task_id, std::int64_t units) {
  const long long n1 = units, n2 = units;
  soci::statement st = (s.prepare << "UPDATE m_tasks SET units_assigned = units_assigned - :n1 WHERE id = :id AND "
                                     "units_assigned >= :n2",
                        soci::use(n1), soci::use(task_id), soci::use(n2));
  return affected(st) == 1;
}

bool close_task(soci::session& s, const std::string& task_id, std::int64_t now_ms) {
  const long long now = now_ms;
  soci::statement st = (s.prepare << "UPDATE m_tasks SET status = 'closed', closed_at_ms = :now WHERE id = :id AND "
                                     "status = 'open'",
                        soci::use(now), soci::use(task_id));
  return affected(st) == 1;
}

bool mark_units_released(soci::session& s, const std::string& task_id, std::int64_t units_released,
                         std::int64_t now_ms) {
  const long long now = now_ms, units = units_released;
  soci::statement st = (s.prepare << "UPDATE m_tasks SET units_released_at_ms = :now, cancel_units_released = :u "
                                     "WHERE id = :id AND units_released_at_ms IS NULL",
                        soci::use(now), soci::use(units), soci::use(task_id));
  return affected(st) == 1;
}

std::vector<std::string> tasks_needing_offers(soci::session& s, std::int64_t now_ms, int limit) {
  const long long now1 = now_ms, now2 = now_ms;
  soci::rowset<soci::row> rs =
      (s.prepare << "SELECT t.id FROM m_tasks t WHERE t.status = 'open' AND t.units_assigned < t.units_total AND "
                    "t.deadline_ms > :now1 AND t.match_after_ms <= :now2 AND NOT EXISTS (SELECT 1 FROM m_offers o "
                    "WHERE o.task_id = t.id AND o.status = 'pending') ORDER BY t.match_after_ms, t.id LIMIT " +
                        std::to_string(limit),
       soci::use(now1), soci::use(now2));
  std::vector<std::string> out;
  for (const auto& r : rs) out.push_back(get_str(r, 0));
  return out;
}

namespace {

// A LIKE pattern matching a JSON array text that holds `skill` as one of its strings; nullopt when the skill
// has a character JSON would escape (then SQL cannot tell, and the skill filter is left to evaluate()).
std::optional<std::string> skill_pattern(const std::string& skill) {
  std::string p = "%\"";
  for (char c : skill) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return std::nullopt;
    if (c == '%' || c == '_' || c == '!') p += '!';
    p += c;
  }
  return p + "\"%";
}

// Micro-degrees per metre, with slack: latitude, and longitude at the latitudes a task within a radius
// of the worker (at most 200 km: task_spec) can have. 0: no usable longitude bound (near a pole or the
// antimeridian).
constexpr long long kLatE6PerMetre = 10;  // 1e6 / 111 000 = 9.01
long long lng_e6_per_metre(const GeoPoint& at) {
  const double edge = std::abs(at.lat) + 2.0;
  if (edge > 80 || std::abs(at.lng) > 177) return 0;
  return static_cast<long long>(std::ceil(1e6 / (111000.0 * std::cos(edge * 3.14159265358979323846 / 180)))) + 1;
}

}  // namespace

std::vector<TaskRow> open_tasks_for_worker(soci::session& s, const WorkerProfile& worker, std::int64_t now_ms) {
  // Values bound in the order their placeholders appear (deques keep their addresses for the statement).
  std::deque<long long> nums;
  std::deque<std::string> strs;
  std::vector<std::function<void(soci::details::prepare_temp_type&)>> binds;
  auto num = [&](long long v) {
    nums.push_back(v);
    const long long& ref = nums.back();
    binds.push_back([&ref](soci::details::prepare_temp_type& p) { p, soci::use(ref); });
  };
  auto str = [&](std::string v) {
    strs.push_back(std::move(v));
    const std::string& ref = strs.back();
    binds.push_back([&ref](soci::details::prepare_temp_type& p) { p, soci::use(ref); });
  };

  std::string sql = std::string("SELECT ") + kTaskCols +
                    " FROM m_tasks t WHERE t.status = 'open' AND t.opened = 1 AND t.units_assigned < t.units_total "
                    "AND t.deadline_ms > :now AND NOT EXISTS (SELECT 1 FROM m_offers o WHERE o.task_id = t.id AND "
                    "o.worker_id = :wkr AND o.status <> 'withdrawn')";
  num(now_ms);
  str(worker.id);

  // Skills: none required, or one of the worker's (a skill SQL cannot match safely disables the filter).
  std::string skills = "t.required_skills = '[]'";
  bool skills_checkable = true;
  for (const auto& skill : worker.skills) {
    auto p = skill_pattern(skill);
    if (!p) {
      skills_checkable = false;
      break;
    }
    skills += " OR t.required_skills LIKE :skill" + std::to_string(strs.size()) + " ESCAPE '!'";
    str(std::move(*p));
  }
  if (skills_checkable) {
    sql += " AND (" + skills + ")";
  } else {
    // drop the skill binds added before the unsafe one
    binds.resize(2);
  }

  // A task with a place and a radius: the worker's place inside its box (no place: such tasks never fit).
  const auto at = worker.effective_place();
  if (!at) {
    sql += " AND (t.radius_m IS NULL OR t.place_lat_e6 IS NULL)";
  } else {
    sql += " AND (t.radius_m IS NULL OR t.place_lat_e6 IS NULL OR (ABS(t.place_lat_e6 - :wlat) <= t.radius_m * :klat";
    num(to_e6(at->lat));
    num(kLatE6PerMetre);
    if (const long long k = lng_e6_per_metre(*at); k > 0) {
      sql += " AND ABS(t.place_lng_e6 - :wlng) <= t.radius_m * :klng";
      num(to_e6(at->lng));
      num(k);
    }
    sql += "))";
  }

  soci::details::prepare_temp_type prep = (s.prepare << sql);
  for (const auto& bind : binds) bind(prep);
  soci::rowset<soci::row> rs(prep);
  std::vector<TaskRow> out;
  for (const auto& r : rs) out.push_back(read_row(r, kTaskCols, task_of));
  return out;
}

// ---------------------------------------------------------------- offers

bool insert_offer(soci::session& s, const OfferRow& o) {
  const std::string status(to_string(o.status));
  const long long score = o.score, created = o.created_at_ms, expires = o.expires_at_ms;
  NullableI64 distance(o.distance_m);
  // No conflict target: the unique index on (task_id, worker_id) is partial (non-withdrawn offers).
  soci::statement st =
      (s.prepare << "INSERT INTO m_offers (id, task_id, worker_id, status, score, distance_m, created_at_ms, "
                    "expires_at_ms) VALUES (:id, :task, :wkr, :status, :score, :dist, :created, :expires) "
                    "ON CONFLICT DO NOTHING",
       soci::use(o.id), soci::use(o.task_id), soci::use(o.worker_id), soci::use(status), soci::use(score),
       soci::use(distance.value, distance.ind), soci::use(created), soci::use(expires));
  return affected(st) == 1;
}

std::optional<OfferRow> find_offer(soci::session& s, const std::string& offer_id) {
  soci::rowset<soci::row> rs =
      (s.prepare << std::string("SELECT ") + kOfferCols + " FROM m_offers o WHERE o.id = :id", soci::use(offer_id));
  for (const auto& r : rs) return read_row(r, kOfferCols, offer_of);
  return std::nullopt;
}

std::int64_t count_live_offers(soci::session& s, const std::string& task_id, std::int64_t now_ms) {
  const long long now = now_ms;
  soci::rowset<soci::row> rs = (s.prepare << "SELECT COUNT(*) FROM m_offers WHERE task_id = :task AND "
                                             "status = 'pending' AND expires_at_ms > :now",
                                soci::use(task_id), soci::use(now));
  for (const auto& r : rs) return get_i64(r, 0);
  return 0;
}

bool decide_offer(soci::session& s, const std::string& offer_id, OfferStatus to, std::int64_t now_ms,
                  const std::optional<std::string>& assignment_id) {
  const std::string status(to_string(to));
  const long long now = now_ms;
  NullableStr asg(assignment_id);
  soci::statement st = (s.prepare << "UPDATE m_offers SET status = :status, decided_at_ms = :now, assignment_id = "
                                     ":asg WHERE id = :id AND status = 'pending'",
                        soci::use(status), soci::use(now), soci::use(asg.value, asg.ind), soci::use(offer_id));
  return affected(st) == 1;
}

std::int64_t withdraw_pending_offers(soci::session& s, const std::string& task_id, std::int64_t now_ms) {
  const long long now = now_ms;
  soci::statement st = (s.prepare << "UPDATE m_offers SET status = 'withdrawn', decided_at_ms = :now WHERE "
                                     "task_id = :task AND status = 'pending'",
                        soci::use(now), soci::use(task_id));
  return affected(st);
}

std::int64_t expire_offers(soci::session& s, std::int64_t now_ms) {
  const long long now1 = now_ms, now2 = now_ms;
  soci::statement st = (s.prepare << "UPDATE m_offers SET status = 'expired', decided_at_ms = :now1 WHERE "
                                     "status = 'pending' AND expires_at_ms <= :now2",
                        soci::use(now1), soci::use(now2));
  return affected(st);
}

std::vector<OfferView> live_offers_of_worker(soci::session& s, const std::string& worker_id, std::int64_t now_ms,
                                             const std::string& after_id, int limit) {
  const long long now = now_ms;
  soci::rowset<soci::row> rs =
      (s.prepare << std::string("SELECT ") + kOfferCols + ", " + kTaskCols +
                        " FROM m_offers o JOIN m_tasks t ON t.id = o.task_id WHERE o.worker_id = :wkr AND "
                        "o.status = 'pending' AND o.expires_at_ms > :now AND o.id > :after ORDER BY o.id LIMIT " +
                        std::to_string(limit),
       soci::use(worker_id), soci::use(now), soci::use(after_id));
  std::vector<OfferView> out;
  for (const auto& row : rs) {
    db::RowReader r(row, db::column_count(kOfferCols) + db::column_count(kTaskCols));
    OfferView v{offer_of(r), task_of(r)};
    r.done();
    out.push_back(std::move(v));
  }
  return out;
}

// ---------------------------------------------------------------- assignments

void insert_assignment(soci::session& s, const AssignmentRow& a) {
  const std::string status(to_string(a.status));
  const long long units = a.units, pay = a.pay_per_unit_fen, amount = a.amount_fen, created = a.created_at_ms,
                  updated = a.updated_at_ms;
  s << "INSERT INTO m_assignments (id, offer_id, task_id, enterprise_id, worker_id, units, pay_per_unit_fen, "
       "amount_fen, currency, status, created_at_ms, updated_at_ms) VALUES (:id, :offer, :task, :ent, :wkr, :units, "
       ":pay, :amount, :cur, :status, :created, :updated)",
      soci::use(a.id), soci::use(a.offer_id), soci::use(a.task_id), soci::use(a.enterprise_id), soci::use(a.worker_id),
      soci::use(units), soci::use(pay), soci::use(amount), soci::use(a.currency), soci::use(status), soci::use(created),
      soci::use(updated);
}

std::optional<AssignmentRow> find_assignment(soci::session& s, const std::string& assignment_id) {
  soci::rowset<soci::row> rs =
      (s.prepare << std::string("SELECT ") + kAssignmentCols +
                        " FROM m_assignments a JOIN m_tasks t ON t.id = a.task_id WHERE a.id = :id",
       soci::use(assignment_id));
  for (const auto& r : rs) return read_row(r, kAssignmentCols, assignment_of);
  return std::nullopt;
}

std::optional<AssignmentRow> find_assignment_by_offer(soci::session& s, const std::string& offer_id) {
  soci::rowset<soci::row> rs =
      (s.prepare << std::string("SELECT ") + kAssignmentCols +
                        " FROM m_assignments a JOIN m_tasks t ON t.id = a.task_id WHERE a.offer_id = :offer",
       soci::use(offer_id));
  for (const auto& r : rs) return read_row(r, kAssignmentCols, assignment_of);
  return std::nullopt;
}

bool move_assignment(soci::session& s, const std::string& assignment_id, AssignmentStatus from, AssignmentStatus to,
                     std::int64_t now_ms) {
  const std::string from_s(to_string(from)), to_s(to_string(to));
  const long long now = now_ms;
  soci::statement st = (s.prepare << "UPDATE m_assignments SET status = :to, updated_at_ms = :now WHERE id = :id AND "
                                     "status = :from",
                        soci::use(to_s), soci::use(now), soci::use(assignment_id), soci::use(from_s));
  return affected(st) == 1;
}

std::vector<AssignmentRow> assignments_of_worker(soci::session& s, const std::string& worker_id,
                                                 const std::string& after_id, int limit) {
  soci::rowset<soci::row> rs =
      (s.prepare << std::string("SELECT ") + kAssignmentCols +
                        " FROM m_assignments a JOIN m_tasks t ON t.id = a.task_id WHERE a.worker_id = :wkr AND "
                        "a.id > :after ORDER BY a.id LIMIT " +
                        std::to_string(limit),
       soci::use(worker_id), soci::use(after_id));
  std::vector<AssignmentRow> out;
  for (const auto& r : rs) out.push_back(read_row(r, kAssignmentCols, assignment_of));
  return out;
}

}  // namespace crowd::matching::store
