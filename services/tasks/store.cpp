#include "services/tasks/store.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/db.hpp"
#include "common/events.hpp"
#include "services/tasks/task_json.hpp"

namespace crowd::tasks::store {

namespace {

constexpr const char* kColumns =
    "id, enterprise_id, status, title, description, category, mode, units, units_total, units_assigned, "
    "units_completed, required_skills, pay_per_unit_fen, budget_fen, currency, deadline_ms, review_window_hours, "
    "place_lat_e6, place_lng_e6, radius_m, ip_transfer_on_acceptance, ip_license, escrow_transfer_id, "
    "funding_failure_reason, version, created_at_ms, updated_at_ms";

// A nullable bound value: SOCI 4.0 binds std::optional only through indicators.
template <class T>
struct Nullable {
  T value{};
  soci::indicator ind = soci::i_null;
  explicit Nullable(const std::optional<T>& v) {
    if (v) {
      value = *v;
      ind = soci::i_ok;
    }
  }
};

Task from_row(const soci::row& row) {
  db::RowReader r(row, db::column_count(kColumns));
  Task t;
  TaskSpec& s = t.spec;
  r.fields(t.id, t.enterprise_id);
  const std::string status_text = r.str();
  const auto status = status_from(status_text);
  if (!status) throw std::domain_error("tasks: unknown status in row " + t.id);
  t.progress.status = *status;
  r.fields(s.title, s.description, s.category, s.mode, s.units, t.progress.units_total, t.progress.units_assigned,
           t.progress.units_completed);
  s.required_skills = nlohmann::json::parse(r.str()).get<std::vector<std::string>>();
  r.fields(s.pay_per_unit_fen, s.budget_fen, s.currency, s.deadline_ms, s.review_window_hours);
  const auto lat = r.opt_i64();
  const auto lng = r.opt_i64();
  if (lat && lng) s.place = Place{*lat, *lng};
  r.into(s.radius_m, s.ip_transfer_on_acceptance, s.ip_license, t.escrow_transfer_id, t.funding_failure_reason,
         t.version, t.created_at_ms, t.updated_at_ms);
  return t;
}

constexpr const char* kUnitsColumns = "units";

std::optional<std::int64_t> units_of(soci::session& s, const std::string& assignment_id) {
  soci::rowset<soci::row> rs =
      (s.prepare << "SELECT " << kUnitsColumns << " FROM task_assignments WHERE assignment_id = :a",
       soci::use(assignment_id));
  for (const soci::row& row : rs) {
    db::RowReader r(row, db::column_count(kUnitsColumns));
    const std::int64_t units = r.i64();
    r.done();
    return units;
  }
  return std::nullopt;
}

}  // namespace

// Contract: inside the POST transaction, with the task.created event; the id is fresh, so a duplicate is
// a bug and throws.
void insert(soci::session& s, const Task& t) {
  const TaskSpec& sp = t.spec;
  const std::string status(status_name(t.progress.status));
  const std::string skills = nlohmann::json(sp.required_skills).dump();
  Nullable<std::int64_t> lat(sp.place ? std::optional(sp.place->lat_e6) : std::nullopt);
  Nullable<std::int64_t> lng(sp.place ? std::optional(sp.place->lng_e6) : std::nullopt);
  Nullable<std::int64_t> radius(sp.radius_m);
  Nullable<std::string> license(sp.ip_license);
  Nullable<std::string> escrow(t.escrow_transfer_id);
  Nullable<std::string> reason(t.funding_failure_reason);
  const int ip_transfer = sp.ip_transfer_on_acceptance ? 1 : 0;
  s << "INSERT INTO tasks (" << kColumns
    << ") VALUES (:id, :ent, :status, :title, :descr, :cat, :mode, :units, :ut, :ua, :uc, :skills, :pay, :budget, "
       ":cur, :deadline, :review, :lat, :lng, :radius, :ipt, :license, :escrow, :reason, :version, :created, "
       ":updated)",
      soci::use(t.id), soci::use(t.enterprise_id), soci::use(status), soci::use(sp.title), soci::use(sp.description),
      soci::use(sp.category), soci::use(sp.mode), soci::use(sp.units), soci::use(t.progress.units_total),
      soci::use(t.progress.units_assigned), soci::use(t.progress.units_completed), soci::use(skills),
      soci::use(sp.pay_per_unit_fen), soci::use(sp.budget_fen), soci::use(sp.currency), soci::use(sp.deadline_ms),
      soci::use(sp.review_window_hours), soci::use(lat.value, lat.ind), soci::use(lng.value, lng.ind),
      soci::use(radius.value, radius.ind), soci::use(ip_transfer), soci::use(license.value, license.ind),
      soci::use(escrow.value, escrow.ind), soci::use(reason.value, reason.ind), soci::use(t.version),
      soci::use(t.created_at_ms), soci::use(t.updated_at_ms);
}

std::optional<Task> find(soci::session& s, const std::string& id) {
  soci::rowset<soci::row> rs = (s.prepare << "SELECT " << kColumns << " FROM tasks WHERE id = :id", soci::use(id));
  for (const soci::row& r : rs) return from_row(r);
  return std::nullopt;
}

// Contract: optimistic concurrency on `version`; only the lifecycle columns change after the insert.
bool update(soci::session& s, Task& t, std::int64_t now_ms) {
  const std::string status(status_name(t.progress.status));
  Nullable<std::string> escrow(t.escrow_transfer_id);
  Nullable<std::string> reason(t.funding_failure_reason);
  const std::int64_t next_version = t.version + 1;
  soci::statement st =
      (s.prepare << "UPDATE tasks SET status = :status, units_total = :ut, units_assigned = :ua, "
                    "units_completed = :uc, escrow_transfer_id = :escrow, funding_failure_reason = :reason, "
                    "version = :next, updated_at_ms = :now WHERE id = :id AND version = :version",
       soci::use(status), soci::use(t.progress.units_total), soci::use(t.progress.units_assigned),
       soci::use(t.progress.units_completed), soci::use(escrow.value, escrow.ind), soci::use(reason.value, reason.ind),
       soci::use(next_version), soci::use(now_ms), soci::use(t.id), soci::use(t.version));
  st.execute(true);
  if (st.get_affected_rows() != 1) return false;
  t.version = next_version;
  t.updated_at_ms = now_ms;
  return true;
}

bool apply(soci::session& s, Task& t, const Step& step, bool fields_changed, std::int64_t now_ms,
           const std::string& trace_id) {
  const bool changed = fields_changed || !(step.next == t.progress);
  if (changed) {
    const Progress before = t.progress;
    t.progress = step.next;
    if (!update(s, t, now_ms)) {
      t.progress = before;
      return false;
    }
  }
  for (Emit e : step.emit) {
    events::publish(s, emit_type(e), t.id, event_data(e, t, step.units_released, step.released_by_matching), trace_id);
  }
  return true;
}

std::vector<Task> list(soci::session& s, const ListQuery& q) {
  // Only the filters given become conditions, so each query can use its index; values are bound, never
  // spliced (limit is an int checked by the caller).
  std::string sql = std::string("SELECT ") + kColumns + " FROM tasks WHERE id < :before";
  std::vector<std::string> params{q.before_id};
  if (q.enterprise_id) {
    sql += " AND enterprise_id = :ent";
    params.push_back(*q.enterprise_id);
  }
  if (q.status) {
    sql += " AND status = :status";
    params.push_back(*q.status);
  }
  if (q.category) {
    sql += " AND category = :cat";
    params.push_back(*q.category);
  }
  sql += " ORDER BY id DESC LIMIT " + std::to_string(q.limit);
  soci::details::prepare_temp_type prep = (s.prepare << sql);
  for (const std::string& p : params) prep, soci::use(p);
  soci::rowset<soci::row> rs(prep);
  std::vector<Task> out;
  for (const soci::row& r : rs) out.push_back(from_row(r));
  return out;
}

bool insert_assignment(soci::session& s, const std::string& assignment_id, const std::string& task_id,
                       const std::string& worker_id, std::int64_t units, std::int64_t now_ms) {
  soci::statement st =
      (s.prepare << "INSERT INTO task_assignments (assignment_id, task_id, worker_id, units, assigned_at_ms) "
                    "VALUES (:a, :t, :w, :u, :now) ON CONFLICT (assignment_id) DO NOTHING",
       soci::use(assignment_id), soci::use(task_id), soci::use(worker_id), soci::use(units), soci::use(now_ms));
  st.execute(true);
  return st.get_affected_rows() == 1;
}

std::optional<std::int64_t> settle_assignment(soci::session& s, const std::string& assignment_id,
                                              const std::string& settlement_id, std::int64_t now_ms) {
  soci::statement st = (s.prepare << "UPDATE task_assignments SET settlement_id = :sid, settled_at_ms = :now "
                                     "WHERE assignment_id = :a AND settled_at_ms IS NULL AND ended_at_ms IS NULL",
                        soci::use(settlement_id), soci::use(now_ms), soci::use(assignment_id));
  st.execute(true);
  if (st.get_affected_rows() != 1) return std::nullopt;
  return units_of(s, assignment_id);
}

AssignmentEnd end_assignment(soci::session& s, const EndedAssignment& a, std::int64_t now_ms) {
  soci::statement ins =
      (s.prepare << "INSERT INTO task_assignments (assignment_id, task_id, worker_id, units, assigned_at_ms, "
                    "ended_by, ended_at_ms) VALUES (:a, :t, :w, :u, :now, :why, :ended) "
                    "ON CONFLICT (assignment_id) DO NOTHING",
       soci::use(a.assignment_id), soci::use(a.task_id), soci::use(a.worker_id), soci::use(a.units), soci::use(now_ms),
       soci::use(a.why), soci::use(now_ms));
  ins.execute(true);
  if (ins.get_affected_rows() == 1) return {AssignmentEnd::Kind::recorded_first, a.units};
  soci::statement up = (s.prepare << "UPDATE task_assignments SET ended_by = :why, ended_at_ms = :now "
                                     "WHERE assignment_id = :a AND settled_at_ms IS NULL AND ended_at_ms IS NULL",
                        soci::use(a.why), soci::use(now_ms), soci::use(a.assignment_id));
  up.execute(true);
  if (up.get_affected_rows() != 1) return {AssignmentEnd::Kind::over_already, 0};
  return {AssignmentEnd::Kind::ended_active, units_of(s, a.assignment_id).value_or(a.units)};
}

bool worker_assigned(soci::session& s, const std::string& task_id, const std::string& worker_id) {
  soci::rowset<soci::row> rs = (s.prepare << "SELECT 1 FROM task_assignments WHERE worker_id = :w AND task_id = :t",
                                soci::use(worker_id), soci::use(task_id));
  return rs.begin() != rs.end();
}

}  // namespace crowd::tasks::store
