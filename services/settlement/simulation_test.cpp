// A deterministic simulation of settlement's event consumers, driven by one seed.
//
// A generated world (enterprises funding tasks by deposit, single and piecework tasks of every category,
// assignments made (assignment.created), accepted, ruled on by a dispute (a 0 %, 100 % or split share), rejected
// or expired, cancellations before and after a task opened, workers paid across months and a year boundary)
// is published on the three producer streams settlement reads (tasks, matching, delivery) and
// delivered as Redis and the kit's consumer can deliver it: the events of one
// stream first arrive in order, the streams interleave in any order, the relay sends some events twice,
// a refused event stays pending and is retried later, and a batch (one transaction, one savepoint per
// event, as common/events/consumer.cpp applies it) is sometimes abandoned before its commit or committed and not
// acknowledged, so that its events come again. The real handlers (settlement::subscribe) do the work.
//
// Oracle: after every batch the ledger check passes (GET /v1/admin/settlement/check, reservations included);
// once every event is delivered, every accepted assignment is settled exactly once and every ruled one ruled
// once (its share settled as kind "ruling", the rest refunded), every assignment's reservation ended as its
// fate says (posted by acceptance or ruling, voided by rejection, expiry or release), and every balance,
// escrow, settlement split and IIT year state equals what the world implies, with the fee and the IIT recomputed here
// with the crowd::domain functions in the order and month the settlements were applied.
//
// Time: settlement stamps a settlement with the process clock, which decides its tax month. The simulated
// months are set through the test clock (CROWD_CLOCK_FILE, see common/clock.hpp), which a process re-reads
// at most every 20 ms, so the seeds run in groups in lock step: every simulation of a group plays month 1,
// then the clock moves, and so on. A seed's run depends on nothing but the seed.
//
// Replay: CROWD_SIM_SEED=n runs that seed only; CROWD_SIM_SEEDS=count runs seeds 1..count (default
// kDefaultSeeds). A failure names the seed, the step and the month.
#include <doctest/doctest.h>
#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <thread>

#include "common/clock.hpp"
#include "services/settlement/api.hpp"
#include "services/settlement/consumers.hpp"
#include "services/settlement/fees.hpp"
#include "services/settlement/iit.hpp"
#include "services/settlement/ledger.hpp"
#include "services/settlement/rules.hpp"
#include "services/settlement/store.hpp"
#include "services/settlement/test_support.hpp"

using namespace crowd;
using namespace crowd::settlement;
using nlohmann::json;

namespace {

// ---- Knobs ----
// Measured: a seed (~85 events, ~110 deliveries) costs ~90 ms of CPU in Debug and ~250 ms with ASan; the 40
// default seeds take ~12 s with ASan on 2 busy cores. CROWD_SIM_SEEDS=200 locally for a deeper run.
constexpr int kDefaultSeeds = 40;
constexpr std::size_t kGroupSize = 25;  // simulations alive at once (one SQLite file each)
constexpr int kTasks = 24;              // per seed, besides the two of the short-funded enterprise
constexpr int kRichEnterprises = 3;
constexpr int kWorkers = 5;
constexpr int kMaxBatch = 8;
constexpr int kAbandonPercent = 8;    // the batch's transaction is rolled back before its commit
constexpr int kUnackedPercent = 8;    // committed, then the consumer dies before XACK
constexpr int kRelayDupPercent = 10;  // the outbox relay sends the event a second time, later
constexpr int kMaxIdleSteps = 6;      // a pending entry is claimed again 1..kMaxIdleSteps steps later
constexpr int kStallPercent = 10;     // a stream is not read for 1..kMaxStallSteps steps (its events lag)
constexpr int kMaxStallSteps = 15;
constexpr int kMaxDrainSteps = 20'000;

// Tax months played, in order: a year boundary, then a month without pay (the consecutive-month count).
constexpr std::array<clock::YearMonth, 4> kMonths{{{2025, 11}, {2025, 12}, {2026, 1}, {2026, 3}}};
const std::array<std::string, 4> kCategories{"rd_design", "manufacturing", "knowledge", "life_service"};
const std::array<std::int64_t, 5> kPaysFen{800, 5'000, 60'000, 300'000, 1'200'000};

// dispute.resolved comes on delivery's stream: delivery is its producer (schemas/events/catalogue.json).
enum Stream { kTasksStream = 0, kMatchingStream = 1, kDeliveryStream = 2 };
constexpr int kStreams = 3;
const std::array<std::string, kStreams> kStreamNames{"tasks", "matching", "delivery"};
constexpr int kDisputePercent = 15;  // of the assignments that end delivered: ruled on instead of accepted

// A seeded generator with portable draws (the standard distributions differ between libraries).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : g_(seed) {}
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(g_() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  bool percent(int p) { return between(0, 99) < p; }
  template <class T>
  const T& pick(const T* items, std::size_t n) {
    return items[static_cast<std::size_t>(between(0, static_cast<std::int64_t>(n) - 1))];
  }

 private:
  std::mt19937_64 g_;
};

class Failure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::int64_t count(soci::session& s, const std::string& sql) {
  std::int64_t n = 0;
  s << sql, soci::into(n);
  return n;
}

// ---- The world ----

struct Publication {
  events::Event event;
  Stream stream = kTasksStream;
  // tasks re-publishes task.cancelled when escrow.held reaches a task cancelled before it opened: such an
  // event is produced only once `after` was published and the task's hold committed.
  int after = -1;
  std::string after_hold_of;
  // Produced only once this task's hold committed (see Generator::short_funded), unless CROWD_SIM_ANY_ORDER.
  std::string produced_after_hold_of;
};

struct Deposit {
  enum Kind { fresh, replay, reuse } kind = fresh;  // reuse: the same key with another amount (422)
  std::string enterprise;
  std::string key;
  std::int64_t amount_fen = 0;
};

struct Action {
  int publication = -1;  // an index into World::publications, or -1 for a deposit
  Deposit deposit;
};

struct TaskPlan {
  std::string id, enterprise, category, mode;
  std::int64_t units = 0;
  std::int64_t pay_fen = 0;
  bool fundable = true;  // false: every hold is refused for insufficient funds, in any order
  std::int64_t released_units = 0;
  int releases = 0;  // releases that move money (escrow.released events)
  std::int64_t budget() const { return units * pay_fen; }
};

struct AssignmentPlan {
  std::string id, task, worker;
  std::int64_t units = 0;
  std::string fate;  // accepted | ruled | rejected | expired | released (rejected or expired after the cancel)
  std::string dispute_id;
  std::int64_t share_fen = 0;  // ruled: the worker's share of units × pay
};

struct World {
  std::vector<Publication> publications;
  std::vector<int> conditional;  // publications produced in reaction to settlement (Publication::after)
  std::vector<Action> setup;     // deposits before any event
  std::vector<Action> timeline;  // production order
  std::vector<std::size_t> month_end;
  std::map<std::string, TaskPlan> tasks;
  std::map<std::string, AssignmentPlan> accepted;
  std::map<std::string, AssignmentPlan> ruled;
  std::map<std::string, AssignmentPlan> assignments;  // every assignment made, with its fate
  std::map<std::string, std::int64_t> deposited;      // per enterprise, distinct keys
};

class Generator {
 public:
  Generator(Rng& rng, World& w) : rng_(rng), w_(w) {}

  void run() {
    std::vector<std::vector<Action>> scripts;
    std::vector<std::string> rich;
    for (int i = 1; i <= kRichEnterprises; ++i) rich.push_back("ent_" + std::to_string(i));
    for (int i = 1; i <= kTasks; ++i) {
      TaskPlan t = new_task("tsk_" + std::to_string(i), rich[rng_.between(0, kRichEnterprises - 1)]);
      scripts.push_back(task_script(t));
    }
    for (const auto& e : rich) scripts.push_back(fund(e));
    short_funded(scripts);
    w_.timeline = interleave(scripts);
    for (std::size_t m = 0; m < kMonths.size(); ++m) {
      w_.month_end.push_back(w_.timeline.size() * (m + 1) / kMonths.size());
    }
  }

 private:
  TaskPlan new_task(const std::string& id, const std::string& enterprise) {
    TaskPlan t;
    t.id = id;
    t.enterprise = enterprise;
    t.category = rng_.pick(kCategories.data(), kCategories.size());
    t.mode = rng_.percent(40) ? "single" : "piecework";
    t.units = t.mode == "single" ? 1 : rng_.between(2, 6);
    t.pay_fen = rng_.pick(kPaysFen.data(), kPaysFen.size());
    return t;
  }

  int publish(std::vector<Action>* out, Stream stream, const std::string& type, const std::string& key, json data) {
    Publication p;
    p.event.id = "evt_sim" + std::to_string(w_.publications.size() + 1);
    p.event.type = type;
    p.event.producer = kStreamNames[stream];
    p.event.key = key;
    p.event.trace_id = "trc_sim";
    p.event.data = std::move(data);
    p.stream = stream;
    w_.publications.push_back(std::move(p));
    const int index = static_cast<int>(w_.publications.size()) - 1;
    if (out != nullptr) out->push_back(Action{index, {}});
    return index;
  }

  static json created_data(const TaskPlan& t) {
    return {{"task_id", t.id},        {"enterprise_id", t.enterprise}, {"category", t.category},   {"mode", t.mode},
            {"units", t.units},       {"pay_per_unit_fen", t.pay_fen}, {"budget_fen", t.budget()}, {"currency", "CNY"},
            {"title", "Task " + t.id}};
  }

  static json release_data(const TaskPlan& t, const std::string& release_id, std::int64_t units,
                           std::int64_t assigned) {
    return {{"task_id", t.id},         {"enterprise_id", t.enterprise}, {"release_id", release_id},
            {"units_released", units}, {"units_assigned", assigned},    {"units_total", t.units}};
  }

  // The events of one task in causal order; a task cancelled before it opened, or opened and worked on.
  std::vector<Action> task_script(TaskPlan& t, std::vector<Action> prefix = {}) {
    std::vector<Action> out = std::move(prefix);
    if (out.empty()) publish(&out, kTasksStream, "task.created", t.id, created_data(t));
    if (rng_.percent(12)) {
      const json cancelled{{"task_id", t.id}, {"enterprise_id", t.enterprise}, {"units_released", t.units}};
      const int first = publish(&out, kTasksStream, "task.cancelled", t.id, cancelled);
      if (t.fundable) {
        const int again = publish(nullptr, kTasksStream, "task.cancelled", t.id, cancelled);
        w_.publications[again].after = first;
        w_.publications[again].after_hold_of = t.id;
        w_.conditional.push_back(again);
        t.released_units = t.units;
        t.releases = 1;
      }
    } else if (t.fundable) {
      opened(t, out);
    }
    w_.tasks[t.id] = t;
    return out;
  }

  struct Open {
    std::int64_t pool = 0;  // units not assigned (offered again after a rejection on an open task)
    bool cancelled = false;
    std::int64_t cancel_units = 0;
    std::int64_t accepted_units = 0;
    std::vector<AssignmentPlan> active;
  };

  // An opened task: assignments made, accepted (delivery) or rejected (their units offered again, or, after
  // a cancel, released by matching under "asg:{id}"); maybe a cancel answered by matching ("cancel",
  // repeated with the same units), and tasks' task.cancelled when nothing was completed.
  void opened(TaskPlan& t, std::vector<Action>& out) {
    Open o;
    o.pool = t.units;
    const std::int64_t cancel_at = rng_.percent(30) ? rng_.between(0, 2 * t.units) : -1;
    for (std::int64_t turn = 0; o.pool > 0 || !o.active.empty(); ++turn) {
      if (!o.cancelled && turn == cancel_at) {
        cancel(t, o, out);
        continue;
      }
      if (o.cancelled && rng_.percent(15)) {  // a repeated cancel request, answered again
        publish(&out, kMatchingStream, "task.units_released", t.id,
                release_data(t, kCancelReleaseId, o.cancel_units, t.units - o.pool));
      }
      if (o.pool > 0 && (o.active.empty() || rng_.percent(50))) {
        assign(t, o, out);
        continue;
      }
      const auto i = static_cast<std::size_t>(rng_.between(0, static_cast<std::int64_t>(o.active.size()) - 1));
      const AssignmentPlan a = o.active[i];
      o.active.erase(o.active.begin() + static_cast<std::ptrdiff_t>(i));
      resolve(t, o, a, out, turn > 60 || rng_.percent(80));
    }
    if (o.cancelled && o.accepted_units == 0) {
      publish(&out, kTasksStream, "task.cancelled", t.id,
              {{"task_id", t.id},
               {"enterprise_id", t.enterprise},
               {"units_released", t.units},
               {"released_by_matching", true}});
    }
  }

  void cancel(TaskPlan& t, Open& o, std::vector<Action>& out) {
    o.cancelled = true;
    o.cancel_units = o.pool;
    std::int64_t assigned = o.accepted_units;
    for (const auto& a : o.active) assigned += a.units;
    publish(&out, kMatchingStream, "task.units_released", t.id, release_data(t, kCancelReleaseId, o.pool, assigned));
    t.released_units += o.pool;
    if (o.pool > 0) ++t.releases;
    o.pool = 0;
  }

  // Matching's assignment.created: settlement reserves the assignment's share of the escrow.
  void assign(const TaskPlan& t, Open& o, std::vector<Action>& out) {
    AssignmentPlan a;
    a.id = "asg_" + std::to_string(++assignments_);
    a.task = t.id;
    a.worker = "wkr_" + std::to_string(rng_.between(1, kWorkers));
    a.units = t.mode == "single" ? 1 : rng_.between(1, std::min<std::int64_t>(2, o.pool));
    o.pool -= a.units;
    o.active.push_back(a);
    publish(&out, kMatchingStream, "assignment.created", a.id,
            {{"assignment_id", a.id},
             {"offer_id", "ofr_" + a.id},
             {"task_id", t.id},
             {"enterprise_id", t.enterprise},
             {"worker_id", a.worker},
             {"units", a.units},
             {"pay_per_unit_fen", t.pay_fen},
             {"amount_fen", a.units * t.pay_fen},
             {"currency", "CNY"},
             {"category", t.category},
             {"title", "Task " + t.id},
             {"review_window_s", 86'400},
             {"deadline_ms", 0}});
  }

  void resolve(TaskPlan& t, Open& o, AssignmentPlan a, std::vector<Action>& out, bool accept) {
    const std::int64_t amount = a.units * t.pay_fen;
    if (accept && rng_.percent(kDisputePercent)) {
      // A dispute over the delivery, ruled by an operator: 0 %, 100 % or a split to the worker.
      o.accepted_units += a.units;
      a.fate = "ruled";
      a.dispute_id = "dsp_" + a.id;
      const auto pick = rng_.between(0, 3);
      a.share_fen = pick == 0 ? 0 : pick == 1 ? amount : rng_.between(1, amount - 1 > 0 ? amount - 1 : 1);
      w_.ruled[a.id] = a;
      w_.assignments[a.id] = a;
      publish(&out, kDeliveryStream, "dispute.resolved", a.id,
              {{"dispute_id", a.dispute_id},
               {"assignment_id", a.id},
               {"task_id", t.id},
               {"enterprise_id", t.enterprise},
               {"worker_id", a.worker},
               {"units", a.units},
               {"amount_fen", amount},
               {"worker_share_fen", a.share_fen},
               {"resolved_at_ms", 0},
               {"operator_id", "op_sim"}});
      return;
    }
    if (accept) {
      o.accepted_units += a.units;
      a.fate = "accepted";
      w_.accepted[a.id] = a;
      w_.assignments[a.id] = a;
      publish(&out, kDeliveryStream, "delivery.accepted", a.id,
              {{"submission_id", "sub_" + a.id},
               {"assignment_id", a.id},
               {"task_id", t.id},
               {"enterprise_id", t.enterprise},
               {"worker_id", a.worker},
               {"units", a.units},
               {"amount_fen", amount},
               {"currency", "CNY"},
               {"category", t.category},
               {"title", "Task " + t.id},
               {"automatic", rng_.percent(20)},
               {"accepted_at_ms", 0}});  // stamped with the simulated time when published
      return;
    }
    // Rejected or expired (delivery): the reservation is voided back to the task escrow.
    const bool expiry = rng_.percent(30);
    json ended{{"assignment_id", a.id},
               {"task_id", t.id},
               {"enterprise_id", t.enterprise},
               {"worker_id", a.worker},
               {"units", a.units}};
    if (expiry) {
      ended["reason"] = "deadline_passed";
      ended["expired_at_ms"] = 0;
      publish(&out, kDeliveryStream, "assignment.expired", a.id, ended);
    } else {
      ended["submission_id"] = "sub_" + a.id;
      ended["reason"] = "incomplete";
      publish(&out, kDeliveryStream, "delivery.rejected", a.id, ended);
    }
    a.fate = expiry ? "expired" : "rejected";
    if (o.cancelled) {
      // matching, on hearing of it, releases the unit of the closed task.
      publish(&out, kMatchingStream, "task.units_released", t.id, release_data(t, "asg:" + a.id, a.units, 0));
      t.released_units += a.units;
      ++t.releases;
    } else {
      o.pool += a.units;  // rejected or expired on an open task: offered again
    }
    w_.assignments[a.id] = a;
  }

  // Deposits covering every task of the enterprise before any event (so that no hold depends on the
  // order), then, during the run, replays of those keys, a reuse with another amount and extra top-ups.
  std::vector<Action> fund(const std::string& enterprise) {
    const int parts = static_cast<int>(rng_.between(1, 3));
    std::int64_t need = rng_.between(parts, 100'000);  // a little more than the tasks need
    for (const auto& [id, t] : w_.tasks) need += t.enterprise == enterprise ? t.budget() : 0;
    std::vector<Deposit> made;
    for (int i = 0; i < parts; ++i) {
      const std::int64_t amount = i + 1 == parts ? need : rng_.between(1, need - (parts - i - 1));
      need -= amount;
      made.push_back(deposit(enterprise, Deposit::fresh, amount));
      w_.setup.push_back(Action{-1, made.back()});
    }
    std::vector<Action> later;
    for (int i = static_cast<int>(rng_.between(1, 4)); i > 0; --i) {
      Deposit d = made[static_cast<std::size_t>(rng_.between(0, parts - 1))];
      d.kind = rng_.percent(70) ? Deposit::replay : Deposit::reuse;
      if (d.kind == Deposit::reuse) d.amount_fen += 1;
      later.push_back(Action{-1, d});
    }
    later.push_back(Action{-1, deposit(enterprise, Deposit::fresh, rng_.between(1, 50'000))});
    return later;
  }

  Deposit deposit(const std::string& enterprise, Deposit::Kind kind, std::int64_t amount) {
    Deposit d{kind, enterprise, "dep" + std::to_string(++deposits_), amount};
    if (kind == Deposit::fresh) w_.deposited[enterprise] += amount;
    return d;
  }

  // An enterprise short of money: its first task's hold is refused until a top-up and tasks' funding retry
  // (a new task.created event), or holds at once when its event comes after the top-up; its second task
  // is larger than everything it ever deposits, so its holds are always refused.
  void short_funded(std::vector<std::vector<Action>>& scripts) {
    const std::string poor = "ent_poor";
    TaskPlan t = new_task("tsk_funded", poor);
    const std::int64_t first = rng_.between(0, t.budget() - 1);
    if (first > 0) w_.setup.push_back(Action{-1, deposit(poor, Deposit::fresh, first)});
    std::vector<Action> prefix;
    publish(&prefix, kTasksStream, "task.created", t.id, created_data(t));
    prefix.push_back(Action{-1, deposit(poor, Deposit::fresh, t.budget() - first + rng_.between(0, 1'000))});
    publish(&prefix, kTasksStream, "task.created", t.id, created_data(t));
    scripts.push_back(task_script(t, std::move(prefix)));
    // Matching and delivery hear of a task only after it opened, which tasks does on escrow.held: their
    // events about it exist only once its hold committed. That order matters for this task alone: a release
    // reaching a rejected escrow is a no-op by contract, so one produced before the funding retry's hold
    // would be lost (CROWD_SIM_ANY_ORDER=1 drops this constraint: see the reproducer test case below).
    for (const Action& a : scripts.back()) {
      auto& p = w_.publications[static_cast<std::size_t>(std::max(a.publication, 0))];
      if (a.publication >= 0 && p.stream != kTasksStream) p.produced_after_hold_of = t.id;
    }

    TaskPlan never = new_task("tsk_unfunded", poor);
    never.units = 1;
    never.pay_fen = w_.deposited[poor] + 1'001;
    never.fundable = false;
    std::vector<Action> tries;
    publish(&tries, kTasksStream, "task.created", never.id, created_data(never));
    publish(&tries, kTasksStream, "task.created", never.id, created_data(never));  // a funding retry
    scripts.push_back(task_script(never, std::move(tries)));
  }

  // Merges the scripts into one production order, keeping each script's own order.
  std::vector<Action> interleave(std::vector<std::vector<Action>>& scripts) {
    std::vector<std::size_t> next(scripts.size(), 0);
    std::vector<Action> out;
    std::vector<std::size_t> live;
    for (std::size_t i = 0; i < scripts.size(); ++i) {
      if (!scripts[i].empty()) live.push_back(i);
    }
    while (!live.empty()) {
      const auto k = static_cast<std::size_t>(rng_.between(0, static_cast<std::int64_t>(live.size()) - 1));
      const std::size_t s = live[k];
      out.push_back(scripts[s][next[s]++]);
      if (next[s] == scripts[s].size()) live.erase(live.begin() + static_cast<std::ptrdiff_t>(k));
    }
    return out;
  }

  Rng& rng_;
  World& w_;
  int assignments_ = 0;
  int deposits_ = 0;
};

// ---- The database ----

// A settlement database per simulation, always SQLite (many at once, each in its own file): a copy of one
// file migrated once with the real migrations (migrating every seed's file would cost more than its run).
class SimDb {
 public:
  SimDb() : path_(make_temp_db_path()) {
    std::filesystem::copy_file(template_path(), path_, std::filesystem::copy_options::overwrite_existing);
    db_ = std::make_unique<db::Database>("sqlite3://db=" + path_ + " timeout=5", 2);
    db_->migrate_service(db::embedded_migrations());  // nothing left to apply: checks the copy is complete
    events::set_producer("settlement");
  }
  ~SimDb() {
    db_.reset();
    remove_files(path_);
  }
  SimDb(const SimDb&) = delete;
  SimDb& operator=(const SimDb&) = delete;

  db::Database& db() { return *db_; }

  // Made on first use; removed at exit.
  static const std::string& template_path() {
    static const Template t;
    return t.path;
  }

 private:
  struct Template {
    std::string path = make_temp_db_path();
    Template() {
      db::Database d("sqlite3://db=" + path + " timeout=5", 1);
      d.migrate_service(db::embedded_migrations());
    }  // closing the last connection checkpoints the WAL into the file
    ~Template() { remove_files(path); }
  };

  static void remove_files(const std::string& path) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  }

  std::string path_;
  std::unique_ptr<db::Database> db_;
};

// ---- The delivery model and the consumer ----

struct Delivered {
  int publication = 0;
  int deliveries = 0;
};

struct PendingEntry {
  Delivered entry;
  std::int64_t ready_at_step = 0;  // claimed again (XAUTOCLAIM) once idle long enough
};

struct Settled {
  std::string assignment_id;
  std::size_t month = 0;
};

struct Abandoned {};

// What a run went through, to show that the delivery model does what it claims.
struct Stats {
  std::int64_t seeds = 0, events = 0, deliveries = 0, batches = 0, refused = 0, duplicates = 0, abandoned = 0,
               unacked = 0, settlements = 0, rulings = 0, voids = 0, tombstones = 0;
  void add(const Stats& o) {
    seeds += o.seeds;
    events += o.events;
    deliveries += o.deliveries;
    batches += o.batches;
    refused += o.refused;
    duplicates += o.duplicates;
    abandoned += o.abandoned;
    unacked += o.unacked;
    settlements += o.settlements;
    rulings += o.rulings;
    voids += o.voids;
    tombstones += o.tombstones;
  }
};  // thrown inside the batch's transaction: a crash before its commit

class Simulation {
 public:
  // any_order: matching's and delivery's events of the short-funded task may also be produced before its
  // hold committed (the reproducer below; the default follows the causal order of the real services).
  Simulation(std::uint64_t seed, bool any_order) : seed_(seed), any_order_(any_order), rng_(seed) {
    Generator(rng_, w_).run();
    published_.assign(w_.publications.size(), false);
    settlement::subscribe(subs_);
  }

  std::uint64_t seed() const { return seed_; }
  std::int64_t steps() const { return step_; }
  Stats stats() const {
    Stats s = stats_;
    s.seeds = 1;
    s.events = static_cast<std::int64_t>(w_.publications.size());
    s.settlements = static_cast<std::int64_t>(settled_.size());
    s.rulings = static_cast<std::int64_t>(w_.ruled.size());
    s.voids = voids_;
    s.tombstones = tombstones_;
    return s;
  }

  // Plays one month: the world produces its actions of the month while batches are consumed, then a few
  // more batches run (some events stay pending into the next month).
  void run_month(std::size_t m) {
    month_ = m;
    if (m == 0) {
      for (const auto& a : w_.setup) deposit(a.deposit);
    }
    while (next_action_ < w_.month_end[m]) step();
    for (auto extra = rng_.between(0, 4); extra > 0; --extra) step();
  }

  // Delivers until every event was applied and acknowledged.
  void drain() {
    month_ = kMonths.size() - 1;
    for (int i = 0; !idle(); ++i) {
      if (i == kMaxDrainSteps) fail("no progress after " + std::to_string(i) + " drain steps: " + stuck());
      step();
    }
  }

  void final_check();

 private:
  [[noreturn]] void fail(const std::string& what) const {
    char ym[16];
    std::snprintf(ym, sizeof ym, "%04d-%02d", kMonths[month_].year, kMonths[month_].month);
    throw Failure("seed " + std::to_string(seed_) + ", step " + std::to_string(step_) + " (month " + ym + "): " + what +
                  "  [replay: CROWD_SIM_SEED=" + std::to_string(seed_) + "]");
  }

  std::int64_t sim_now_ms() const {
    return cst_month_start_ms(kMonths[month_].year, kMonths[month_].month) + 14 * 86'400'000LL + step_ * 60'000;
  }

  void step() {
    ++step_;
    for (std::size_t i = 0; i < relay_.size();) {
      if (relay_[i].first > step_) {
        ++i;
        continue;
      }
      unread_[w_.publications[relay_[i].second].stream].push_back(relay_[i].second);
      relay_.erase(relay_.begin() + static_cast<std::ptrdiff_t>(i));
    }
    publish_reactions();
    if (rng_.percent(kStallPercent))
      stalled_until_[static_cast<std::size_t>(rng_.between(0, kStreams - 1))] = step_ + rng_.between(1, kMaxStallSteps);
    const std::size_t end = w_.month_end[std::min(month_, w_.month_end.size() - 1)];
    bool changed = false;
    for (auto k = rng_.between(0, 3); k > 0 && next_action_ < end; --k) {
      if (!may_produce(w_.timeline[next_action_])) break;  // the world waits for settlement
      const Action& a = w_.timeline[next_action_++];
      if (a.publication >= 0) {
        publish(a.publication);
      } else {
        deposit(a.deposit);
        changed = true;
      }
    }
    if ((run_batch() || changed) && !std::getenv("SIM_NOCHECK")) check_ledger();
  }

  void publish(int index) {
    Publication& p = w_.publications[static_cast<std::size_t>(index)];
    p.event.occurred_at_ms = sim_now_ms();
    if (p.event.type == "delivery.accepted") p.event.data["accepted_at_ms"] = sim_now_ms();
    if (p.event.type == "dispute.resolved") p.event.data["resolved_at_ms"] = sim_now_ms();
    if (p.event.type == "assignment.expired") p.event.data["expired_at_ms"] = sim_now_ms();
    published_[static_cast<std::size_t>(index)] = true;
    unread_[p.stream].push_back(index);
    if (rng_.percent(kRelayDupPercent)) relay_.emplace_back(step_ + rng_.between(1, 30), index);
  }

  bool hold_committed(const std::string& task_id) {
    return db_.db().with([&](soci::session& s) {
      const auto e = load_escrow(s, task_id);
      return e && (e->status == EscrowStatus::held || e->status == EscrowStatus::closed);
    });
  }

  bool may_produce(const Action& a) {
    if (a.publication < 0 || any_order_) return true;
    const std::string& task = w_.publications[static_cast<std::size_t>(a.publication)].produced_after_hold_of;
    return task.empty() || hold_committed(task);
  }

  void publish_reactions() {
    for (std::size_t i = 0; i < w_.conditional.size();) {
      const Publication& p = w_.publications[static_cast<std::size_t>(w_.conditional[i])];
      if (published_[static_cast<std::size_t>(p.after)] && hold_committed(p.after_hold_of)) {
        publish(w_.conditional[i]);
        w_.conditional.erase(w_.conditional.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        ++i;
      }
    }
  }

  bool idle() const {
    if (next_action_ < w_.timeline.size() || !relay_.empty() || !pending_.empty()) return false;
    for (const auto& q : unread_) {
      if (!q.empty()) return false;
    }
    return w_.conditional.empty();
  }

  std::string stuck() const {
    std::string out = std::to_string(pending_.size()) + " pending, " + std::to_string(w_.conditional.size()) +
                      " reactions unpublished";
    for (const auto& p : pending_) {
      const auto& e = w_.publications[static_cast<std::size_t>(p.entry.publication)].event;
      const auto it = last_error_.find(e.id);
      out += "; " + e.type + " " + e.id + " (" + e.key + "): " + (it == last_error_.end() ? "?" : it->second);
    }
    return out;
  }

  // CROWD_SIM_TRACE=1 prints every batch and deposit (with CROWD_SIM_SEED, to follow one failing seed).
  static void trace(const std::string& line) {
    static const bool on = std::getenv("CROWD_SIM_TRACE") != nullptr;
    if (on) std::fprintf(stderr, "%s\n", line.c_str());
  }

  void deposit(const Deposit& d);
  std::vector<Delivered> take_batch();
  bool run_batch();
  bool apply_one(soci::session& s, const events::Event& e, std::vector<Settled>& settled);
  void park(const Delivered& d) { pending_.push_back({d, step_ + rng_.between(1, kMaxIdleSteps)}); }
  void check_ledger();

  void check_delivered();
  struct Sums {
    std::int64_t fee = 0, iit = 0;
    std::map<std::string, std::int64_t> net_of_worker, settled_of_task, settled_units_of_task, refund_of_task;
  };
  Sums check_settlements();
  void check_iit_years(const std::map<std::pair<std::string, int>, domain::IitYearState>& years);
  void check_balances(const Sums& sums);
  void check_escrows(const Sums& sums);
  void check_outbox();
  void check_reservations();

  std::uint64_t seed_;
  bool any_order_;
  Rng rng_;
  World w_;
  SimDb db_;
  events::Subscriptions subs_;
  std::size_t month_ = 0;
  std::int64_t step_ = 0;
  Stats stats_;
  std::array<std::int64_t, kStreams> stalled_until_{};
  std::size_t next_action_ = 0;
  std::vector<bool> published_;
  std::array<std::deque<int>, kStreams> unread_;
  std::vector<PendingEntry> pending_;
  std::vector<std::pair<std::int64_t, int>> relay_;  // (step, publication): a second XADD by the relay
  std::vector<Settled> settled_;                     // committed settlements in the order they applied
  std::map<std::string, std::string> deposit_bodies_;
  std::map<std::string, std::string> last_error_;  // event id → why it was last refused
  std::int64_t voids_ = 0, tombstones_ = 0;
};

void Simulation::deposit(const Deposit& d) {
  trace("step " + std::to_string(step_) + ": deposit " + d.enterprise + " " + d.key + " " +
        std::to_string(d.amount_fen) +
        (d.kind == Deposit::fresh    ? ""
         : d.kind == Deposit::replay ? " (replay)"
                                     : " (key reused)"));
  http::Request r;
  r.principal = auth::Principal{d.enterprise, auth::Role::enterprise, 0, 0};
  r.headers["idempotency-key"] = d.key;
  r.body = json{{"amount", {{"amount_fen", d.amount_fen}, {"currency", "CNY"}}}}.dump();
  try {
    const http::Response res = post_deposit(db_.db(), r);
    if (d.kind == Deposit::reuse) fail("deposit key " + d.key + " reused with another amount was accepted");
    if (res.status != 201) fail("deposit " + d.key + " answered " + std::to_string(res.status));
    if (d.kind == Deposit::fresh) {
      deposit_bodies_[d.key] = res.body;
    } else if (res.body != deposit_bodies_[d.key]) {
      fail("deposit replay of " + d.key + " answered another body: " + res.body);
    }
  } catch (const http::Problem& p) {
    if (d.kind != Deposit::reuse || p.status != 422 || p.type != "idempotency-key-reuse") {
      fail("deposit " + d.key + ": problem " + std::to_string(p.status) + " " + p.type + ": " + p.detail);
    }
  }
}

// Up to kMaxBatch entries: new ones from the head of any stream (one stream's entries in order), or
// pending ones that have been idle long enough (a redelivery comes later, in any order).
std::vector<Delivered> Simulation::take_batch() {
  std::vector<Delivered> out;
  for (auto n = rng_.between(1, kMaxBatch); n > 0; --n) {
    std::vector<int> sources;
    for (int k = 0; k < kStreams; ++k) {
      const auto i = static_cast<std::size_t>(k);
      if (!unread_[i].empty() && stalled_until_[i] <= step_) sources.push_back(k);
    }
    std::vector<std::size_t> ready;
    for (std::size_t i = 0; i < pending_.size(); ++i) {
      if (pending_[i].ready_at_step <= step_) ready.push_back(i);
    }
    if (!ready.empty()) sources.push_back(kStreams);  // the pending entries
    if (sources.empty()) break;
    const int source = rng_.pick(sources.data(), sources.size());
    if (source < kStreams) {
      auto& q = unread_[static_cast<std::size_t>(source)];
      out.push_back({q.front(), 1});
      q.pop_front();
    } else {
      const std::size_t i = rng_.pick(ready.data(), ready.size());
      Delivered d = pending_[i].entry;
      ++d.deliveries;
      pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
      out.push_back(d);
    }
  }
  return out;
}

// One batch as the kit applies it: one transaction, a savepoint per event with its inbox row; a failed
// event is rolled back alone and stays pending. Then, by chance, a crash before the commit (everything
// stays pending) or after it (committed, nothing acknowledged: every entry is delivered again).
bool Simulation::run_batch() {
  const std::vector<Delivered> batch = take_batch();
  if (batch.empty()) return false;
  const bool abandon = rng_.percent(kAbandonPercent);
  const bool unacked = !abandon && rng_.percent(kUnackedPercent);
  stats_.deliveries += static_cast<std::int64_t>(batch.size());
  ++stats_.batches;
  stats_.abandoned += abandon ? 1 : 0;
  stats_.unacked += unacked ? 1 : 0;
  std::vector<bool> applied(batch.size(), false);
  std::vector<Settled> settled;
  trace("step " + std::to_string(step_) +
        (abandon   ? ": batch (abandoned before commit)"
         : unacked ? ": batch (committed, not acknowledged)"
                   : ": batch"));
  try {
    db_.db().tx([&](soci::session& s) {
      settled.clear();
      for (std::size_t i = 0; i < batch.size(); ++i) {
        applied[i] = apply_one(s, w_.publications[static_cast<std::size_t>(batch[i].publication)].event, settled);
      }
      if (abandon) throw Abandoned{};
    });
  } catch (const Abandoned&) {
    for (const auto& d : batch) park(d);
    return true;
  }
  settled_.insert(settled_.end(), settled.begin(), settled.end());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (!applied[i] || unacked) park(batch[i]);
  }
  return true;
}

bool Simulation::apply_one(soci::session& s, const events::Event& e, std::vector<Settled>& settled) {
  const events::Handler* handler = subs_.find(e.type);
  if (handler == nullptr) fail("settlement does not subscribe to " + e.type);
  // An acceptance settles; so does a ruling with a worker share (its settlement row has kind "ruling").
  const bool acceptance = e.type == "delivery.accepted" || e.type == "dispute.resolved";
  const std::string asg = acceptance ? e.data.at("assignment_id").get<std::string>() : "";
  s << "SAVEPOINT crowd_event";
  try {
    if (!events::inbox_claim(s, e.id, e.type)) {
      ++stats_.duplicates;
      trace("  duplicate " + e.type + " " + e.id + " " + e.data.dump());
    } else {
      trace("  apply " + e.type + " " + e.id + " " + e.data.dump());
      const bool before = acceptance && find_settlement_by_assignment(s, asg).has_value();
      (*handler)(s, e);
      if (acceptance && !before && find_settlement_by_assignment(s, asg)) settled.push_back({asg, month_});
      // Two-phase escrow: once assignment.created is applied, the assignment has its reservation (made now,
      // or earlier by its acceptance, ruling or void).
      if (e.type == "assignment.created") {
        const std::string id = e.data.at("assignment_id").get<std::string>();
        if (!load_reservation(s, id)) fail("assignment.created " + e.id + " applied without a reservation of " + id);
      }
    }
    s << "RELEASE SAVEPOINT crowd_event";
    last_error_.erase(e.id);
    return true;
  } catch (const std::exception& ex) {
    s << "ROLLBACK TO SAVEPOINT crowd_event";
    s << "RELEASE SAVEPOINT crowd_event";
    // One connection at a time on SQLite: only a refusal, or an event that overtook the one it needs (retried
    // by the kit), can make an event fail here.
    if (!events::is_refusal(ex) && !dynamic_cast<const WaitingForEvent*>(&ex))
      fail(e.type + " " + e.id + " failed, not as a refusal: " + ex.what());
    last_error_[e.id] = ex.what();
    ++stats_.refused;
    trace(std::string("  refused: ") + ex.what());
    return false;
  }
}

void Simulation::check_ledger() {
  http::Request r;
  r.principal = auth::Principal{"op_sim", auth::Role::operator_, 0, 0};
  const json j = json::parse(get_ledger_check(db_.db(), r).body);
  if (j.at("ok") != true) fail("ledger check failed: " + j.at("checks").dump());
  const auto rows = db_.db().with([](soci::session& s) { return count(s, "SELECT COUNT(*) FROM settlements"); });
  if (rows != static_cast<std::int64_t>(settled_.size())) {
    fail(std::to_string(rows) + " settlements stored, " + std::to_string(settled_.size()) + " committed");
  }
}

// ---- The final oracle ----

void Simulation::final_check() {
  check_delivered();
  const Sums sums = check_settlements();
  check_balances(sums);
  check_escrows(sums);
  check_outbox();
  check_reservations();
}

void Simulation::check_delivered() {
  for (std::size_t i = 0; i < published_.size(); ++i) {
    if (!published_[i]) fail("event never produced: " + w_.publications[i].event.id);
  }
  const auto inbox = db_.db().with([](soci::session& s) { return count(s, "SELECT COUNT(*) FROM inbox"); });
  if (inbox != static_cast<std::int64_t>(w_.publications.size())) {
    fail("inbox holds " + std::to_string(inbox) + " events, " + std::to_string(w_.publications.size()) +
         " were published");
  }
}

// Every accepted assignment settled exactly once; each settlement's fee and IIT recomputed in the order
// and month the settlements applied, per worker (the cumulative method depends on that order).
Simulation::Sums Simulation::check_settlements() {
  std::map<std::string, std::vector<std::int64_t>> rows;  // assignment → figures
  std::map<std::string, std::string> owner;               // assignment → task|worker|kind|dispute
  db_.db().with([&](soci::session& s) {
    soci::rowset<soci::row> rs = s.prepare << "SELECT assignment_id, task_id, worker_id, units, amount_fen, fee_fen, "
                                              "worker_gross_fen, iit_fen, net_fen, tax_year, tax_month, kind, "
                                              "COALESCE(dispute_id, '') FROM settlements";
    for (const auto& r : rs) {
      const std::string asg = db::get_str(r, 0);
      owner[asg] = db::get_str(r, 1) + "|" + db::get_str(r, 2) + "|" + db::get_str(r, 11) + "|" + db::get_str(r, 12);
      for (std::size_t c = 3; c <= 10; ++c) rows[asg].push_back(db::get_i64(r, c));
    }
  });
  // Paid: every accepted assignment, and every ruled one whose worker got a share (a 0 share settles nothing).
  std::map<std::string, AssignmentPlan> paid = w_.accepted;
  for (const auto& [id, a] : w_.ruled) {
    if (a.share_fen > 0) paid[id] = a;
  }
  if (rows.size() != paid.size() || settled_.size() != paid.size()) {
    fail(std::to_string(rows.size()) + " settlements stored, " + std::to_string(settled_.size()) + " applied, " +
         std::to_string(paid.size()) + " assignments accepted or ruled with a share");
  }
  Sums sums;
  for (const auto& [id, a] : w_.ruled) {
    const TaskPlan& t = w_.tasks.at(a.task);
    sums.refund_of_task[t.id] += a.units * t.pay_fen - a.share_fen;
    if (a.share_fen == 0) sums.settled_units_of_task[t.id] += a.units;  // ruled: its units are done
  }
  std::map<std::string, domain::IitYearState> state;
  std::map<std::pair<std::string, int>, domain::IitYearState> years;
  std::set<std::string> seen;
  for (const Settled& x : settled_) {
    const auto a = paid.find(x.assignment_id);
    if (a == paid.end() || !seen.insert(x.assignment_id).second || !rows.count(x.assignment_id)) {
      fail("settlement of " + x.assignment_id + " is not one of an accepted or ruled assignment, once");
    }
    const TaskPlan& t = w_.tasks.at(a->second.task);
    const bool ruled = a->second.fate == "ruled";
    // A ruling's share is split and taxed exactly like pay.
    const std::int64_t amount = ruled ? a->second.share_fen : a->second.units * t.pay_fen;
    const std::int64_t fee = domain::platform_fee(t.category, amount);
    const std::int64_t gross = amount - fee;
    const clock::YearMonth ym = kMonths[x.month];
    std::int64_t iit = 0;
    if (gross > 0) {
      domain::IitYearState after;
      iit = domain::withhold_cumulative(state[a->second.worker], ym.year, ym.month, gross, after).withheld_fen;
      state[a->second.worker] = after;
      years[{a->second.worker, ym.year}] = after;
    }
    const std::vector<std::int64_t> want{a->second.units, amount, fee, gross, iit, gross - iit, ym.year, ym.month};
    const std::string want_owner =
        t.id + "|" + a->second.worker + (ruled ? "|ruling|" + a->second.dispute_id : std::string("|acceptance|"));
    if (rows[x.assignment_id] != want || owner[x.assignment_id] != want_owner) {
      fail("settlement of " + x.assignment_id + " is " + json(rows[x.assignment_id]).dump() + ", expected " +
           json(want).dump() + " (units, amount, fee, gross, iit, net, year, month)");
    }
    sums.fee += fee;
    sums.iit += iit;
    sums.net_of_worker[a->second.worker] += gross - iit;
    sums.settled_of_task[t.id] += amount;
    sums.settled_units_of_task[t.id] += a->second.units;
  }
  check_iit_years(years);
  return sums;
}

// The stored year states equal the recomputation, and their cumulative figures the worker's settlements of
// that year.
void Simulation::check_iit_years(const std::map<std::pair<std::string, int>, domain::IitYearState>& years) {
  std::map<std::pair<std::string, int>, std::pair<std::int64_t, std::int64_t>> from_rows;
  db_.db().with([&](soci::session& s) {
    soci::rowset<soci::row> rs = s.prepare
                                 << "SELECT worker_id, tax_year, SUM(worker_gross_fen), SUM(iit_fen) FROM settlements "
                                    "WHERE worker_gross_fen > 0 GROUP BY worker_id, tax_year";
    for (const auto& r : rs) {
      from_rows[{db::get_str(r, 0), static_cast<int>(db::get_i64(r, 1))}] = {db::get_i64(r, 2), db::get_i64(r, 3)};
    }
  });
  std::size_t stored = 0;
  db_.db().with([&](soci::session& s) {
    soci::rowset<soci::row> rs = s.prepare << "SELECT worker_id, year, cum_income_fen, cum_withheld_fen, "
                                              "consecutive_months, last_month FROM iit_years";
    for (const auto& r : rs) {
      ++stored;
      const std::pair<std::string, int> k{db::get_str(r, 0), static_cast<int>(db::get_i64(r, 1))};
      const auto it = years.find(k);
      const std::vector<std::int64_t> got{db::get_i64(r, 2), db::get_i64(r, 3), db::get_i64(r, 4), db::get_i64(r, 5)};
      if (it == years.end() || from_rows[k] != std::pair{got[0], got[1]} ||
          got != std::vector<std::int64_t>{it->second.cum_income_fen, it->second.cum_withheld_fen,
                                           it->second.consecutive_months, it->second.last_month}) {
        fail("iit_years of " + k.first + " " + std::to_string(k.second) + " is " + json(got).dump() +
             " (income, withheld, consecutive months, last month), not the recomputation");
      }
    }
  });
  if (stored != years.size())
    fail(std::to_string(stored) + " iit_years rows, expected " + std::to_string(years.size()));
}

// Every account: enterprises' available = deposits − holds + releases + ruling refunds, escrows = held − settled
// − released − refunded, every reservation 0 (each ended),
// workers' payable = Σ net, fee revenue = Σ fee, IIT payable = Σ IIT, clearing = −Σ deposits.
void Simulation::check_balances(const Sums& sums) {
  std::map<std::string, std::int64_t> want;
  std::int64_t deposited = 0;
  for (const auto& [e, fen] : w_.deposited) {
    want[enterprise_available(e)] += fen;
    deposited += fen;
  }
  for (const auto& [id, t] : w_.tasks) {
    if (!t.fundable) continue;
    const std::int64_t released = t.released_units * t.pay_fen;
    const auto settled = sums.settled_of_task.find(id);
    const auto refund = sums.refund_of_task.find(id);
    const std::int64_t refunded = refund == sums.refund_of_task.end() ? 0 : refund->second;
    want[enterprise_available(t.enterprise)] += released + refunded - t.budget();
    want[task_escrow(id)] =
        t.budget() - released - refunded - (settled == sums.settled_of_task.end() ? 0 : settled->second);
  }
  for (const auto& [w, fen] : sums.net_of_worker) want[worker_payable(w)] = fen;
  want[kFeeRevenue] = sums.fee;
  want[kIitPayable] = sums.iit;
  want[kClearing] = -deposited;
  std::map<std::string, std::int64_t> got;
  db_.db().with([&](soci::session& s) {
    soci::rowset<soci::row> rs = s.prepare << "SELECT id, balance_fen FROM accounts";
    for (const auto& r : rs) got[db::get_str(r, 0)] = db::get_i64(r, 1);
  });
  for (const auto& [account, fen] : got) want.try_emplace(account, 0);
  for (const auto& [account, fen] : want) {
    const auto it = got.find(account);
    const std::int64_t have = it == got.end() ? 0 : it->second;
    if (have != fen) {
      fail("balance of " + account + " is " + std::to_string(have) + ", expected " + std::to_string(fen));
    }
  }
}

void Simulation::check_escrows(const Sums& sums) {
  std::map<std::string, std::vector<std::int64_t>> got;
  std::map<std::string, std::string> status;
  db_.db().with([&](soci::session& s) {
    soci::rowset<soci::row> rs = s.prepare << "SELECT task_id, status, units_total, units_settled, units_released, "
                                              "held_fen, settled_fen, released_fen FROM escrows";
    for (const auto& r : rs) {
      status[db::get_str(r, 0)] = db::get_str(r, 1);
      for (std::size_t c = 2; c <= 7; ++c) got[db::get_str(r, 0)].push_back(db::get_i64(r, c));
    }
  });
  for (const auto& [id, t] : w_.tasks) {
    const auto units = sums.settled_units_of_task.find(id);
    const auto fen = sums.settled_of_task.find(id);
    const auto refund = sums.refund_of_task.find(id);
    const std::int64_t settled_units = units == sums.settled_units_of_task.end() ? 0 : units->second;
    const std::int64_t settled_fen = fen == sums.settled_of_task.end() ? 0 : fen->second;
    const std::int64_t refunded = refund == sums.refund_of_task.end() ? 0 : refund->second;
    const std::vector<std::int64_t> want =
        t.fundable ? std::vector<std::int64_t>{t.units,    settled_units, t.released_units,
                                               t.budget(), settled_fen,   t.released_units * t.pay_fen + refunded}
                   : std::vector<std::int64_t>{t.units, 0, 0, 0, 0, 0};
    const std::string want_status = t.fundable ? "closed" : "rejected";
    if (got[id] != want || status[id] != want_status) {
      fail("escrow of " + id + " is " + status[id] + " " + json(got[id]).dump() + ", expected " + want_status + " " +
           json(want).dump() + " (units total, settled, released, held, settled, released fen)");
    }
  }
}

void Simulation::check_outbox() {
  std::map<std::string, std::int64_t> got;
  db_.db().with([&](soci::session& s) {
    soci::rowset<soci::row> rs = s.prepare << "SELECT envelope FROM outbox";
    for (const auto& r : rs) ++got[json::parse(db::get_str(r, 0)).at("type").get<std::string>()];
  });
  std::int64_t held = 0, releases = 0;
  for (const auto& [id, t] : w_.tasks) {
    held += t.fundable ? 1 : 0;
    releases += t.releases;
  }
  std::int64_t settled = static_cast<std::int64_t>(w_.accepted.size());
  for (const auto& [id, a] : w_.ruled) settled += a.share_fen > 0 ? 1 : 0;
  const auto ruled = static_cast<std::int64_t>(w_.ruled.size());
  if (got["escrow.held"] != held || got["escrow.released"] != releases || got["settlement.completed"] != settled ||
      got["escrow.ruled"] != ruled) {
    fail("outbox holds " + json(got).dump() + "; expected escrow.held " + std::to_string(held) + ", escrow.released " +
         std::to_string(releases) + ", settlement.completed " + std::to_string(settled) + ", escrow.ruled " +
         std::to_string(ruled));
  }
}

// Every assignment made has one reservation, ended as its fate says: posted by its acceptance or ruling
// (with the dispute and the refund), voided by its rejection, expiry or release. Its account holds 0.
void Simulation::check_reservations() {
  std::map<std::string, std::vector<std::string>> got;
  db_.db().with([&](soci::session& s) {
    soci::rowset<soci::row> rs =
        s.prepare << "SELECT r.assignment_id, r.task_id, r.status, r.ended_by, COALESCE(r.dispute_id, ''), "
                     "r.refund_fen, r.units, r.amount_fen, COALESCE(a.balance_fen, 0) FROM reservations r "
                     "LEFT JOIN accounts a ON a.id = r.account_id";
    for (const auto& r : rs) {
      got[db::get_str(r, 0)] = {db::get_str(r, 1),
                                db::get_str(r, 2),
                                db::get_str(r, 3),
                                db::get_str(r, 4),
                                std::to_string(db::get_i64(r, 5)),
                                std::to_string(db::get_i64(r, 6)),
                                std::to_string(db::get_i64(r, 7)),
                                std::to_string(db::get_i64(r, 8))};
    }
  });
  if (got.size() != w_.assignments.size()) {
    fail(std::to_string(got.size()) + " reservations, " + std::to_string(w_.assignments.size()) + " assignments");
  }
  db_.db().with([&](soci::session& s) {
    voids_ = count(s, "SELECT COUNT(*) FROM reservations WHERE status = 'voided'");
    tombstones_ = count(s, "SELECT COUNT(*) FROM reservations WHERE moved_money = 0");
  });
  for (const auto& [id, a] : w_.assignments) {
    const TaskPlan& t = w_.tasks.at(a.task);
    const std::int64_t amount = a.units * t.pay_fen;
    const bool posted = a.fate == "accepted" || a.fate == "ruled";
    // A release may void it before delivery's rejection or expiry arrives: either names the void.
    const std::vector<std::string> want{t.id,
                                        posted ? "posted" : "voided",
                                        a.fate == "accepted" ? "acceptance"
                                        : a.fate == "ruled"  ? "ruling"
                                                             : "",
                                        a.dispute_id,
                                        std::to_string(a.fate == "ruled" ? amount - a.share_fen : 0),
                                        std::to_string(a.units),
                                        std::to_string(amount),
                                        "0"};
    auto have = got[id];
    const bool void_reason_ok = posted || (!have.empty() && (have[2] == a.fate || have[2] == "released"));
    if (!posted && have.size() == want.size()) have[2] = "";
    if (have != want || !void_reason_ok) {
      fail("reservation of " + id + " is " + json(got[id]).dump() + ", expected " + json(want).dump() +
           " (task, status, ended by, dispute, refund, units, amount, balance)");
    }
  }
}

// ---- The driver ----

// Moves the process clock (common/clock.hpp's test clock) to the middle of a simulated month. The offset
// file is re-read at most every 20 ms, so each move waits until the clock shows the month.
class SimClock {
 public:
  SimClock() {
    path_ = (std::filesystem::temp_directory_path() / ("crowd_sim_clock_" + std::to_string(::getpid()))).string();
    write(0);
    ::setenv("CROWD_CLOCK_FILE", path_.c_str(), 1);
    clock::init_from_env();  // once per process; a later SimClock finds it initialised on the same path
  }
  ~SimClock() {
    try {
      write(0);
      wait_until([] { return std::abs(clock::now_ms() - system_ms()) < 60'000; });
      std::filesystem::remove(path_);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "simulation: could not reset the test clock: %s\n", e.what());
    }
  }

  void set(clock::YearMonth ym) {
    const std::int64_t target = cst_month_start_ms(ym.year, ym.month) + 14 * 86'400'000LL + 12 * 3'600'000LL;
    write(target - system_ms());
    wait_until([&] {
      const auto now = clock::cst_year_month(clock::now_ms());
      return now.year == ym.year && now.month == ym.month;
    });
  }

 private:
  // The real time, only to compute the offset that puts the process clock where the simulation wants it.
  static std::int64_t system_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }

  void write(std::int64_t offset) {
    const std::string tmp = path_ + ".tmp";
    std::ofstream(tmp) << offset << "\n";
    std::filesystem::rename(tmp, path_);  // a new file, a new mtime: the clock re-reads it
  }

  template <class F>
  static void wait_until(F&& ok) {
    for (int i = 0; i < 400 && !ok(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (!ok()) throw std::runtime_error("the test clock did not move");
  }

  std::string path_;
};

// Settlement logs every refusal; thousands of them would bury the test output.
class QuietLogs {
 public:
  QuietLogs() : level_(spdlog::default_logger_raw()->level()) {
    spdlog::default_logger_raw()->set_level(spdlog::level::off);
  }
  ~QuietLogs() { spdlog::default_logger_raw()->set_level(level_); }

 private:
  spdlog::level::level_enum level_;
};

std::vector<std::uint64_t> seeds_to_run() {
  if (const char* one = std::getenv("CROWD_SIM_SEED"); one != nullptr && *one != '\0') return {std::stoull(one)};
  int count = kDefaultSeeds;
  if (const char* n = std::getenv("CROWD_SIM_SEEDS"); n != nullptr && *n != '\0') count = std::stoi(n);
  std::vector<std::uint64_t> seeds;
  for (int i = 1; i <= count; ++i) seeds.push_back(static_cast<std::uint64_t>(i));
  return seeds;
}

// Runs one group of simulations in lock step over the months. Returns the failures (seed and step each).
std::vector<std::string> run_group(SimClock& clk, const std::vector<std::uint64_t>& seeds, bool any_order,
                                   Stats& stats) {
  std::vector<std::unique_ptr<Simulation>> sims;
  for (const auto seed : seeds) sims.push_back(std::make_unique<Simulation>(seed, any_order));
  std::vector<std::string> failures;
  auto guarded = [&](std::unique_ptr<Simulation>& sim, auto&& fn) {
    if (!sim) return;
    try {
      fn(*sim);
    } catch (const Failure& f) {
      failures.push_back(f.what());
      sim.reset();
    } catch (const std::exception& e) {
      failures.push_back("seed " + std::to_string(sim->seed()) + ", step " + std::to_string(sim->steps()) +
                         ": unexpected exception: " + e.what() +
                         "  [replay: CROWD_SIM_SEED=" + std::to_string(sim->seed()) + "]");
      sim.reset();
    }
  };
  for (std::size_t m = 0; m < kMonths.size(); ++m) {
    clk.set(kMonths[m]);
    for (auto& sim : sims) guarded(sim, [m](Simulation& s) { s.run_month(m); });
  }
  for (auto& sim : sims) {
    guarded(sim, [](Simulation& s) {
      s.drain();
      s.final_check();
    });
    if (sim) stats.add(sim->stats());
  }
  return failures;
}

// Runs the seeds in groups and reports what they went through; every failure is a failed check.
void run_seeds(const std::vector<std::uint64_t>& seeds, bool any_order) {
  QuietLogs quiet;
  SimClock clk;
  Stats stats;
  std::vector<std::string> failures;
  const auto started = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < seeds.size(); i += kGroupSize) {
    const auto first = seeds.begin() + static_cast<std::ptrdiff_t>(i);
    const auto n = static_cast<std::ptrdiff_t>(std::min(kGroupSize, seeds.size() - i));
    for (auto& f : run_group(clk, std::vector<std::uint64_t>(first, first + n), any_order, stats)) {
      failures.push_back(std::move(f));
    }
  }
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  MESSAGE(seeds.size() << " seeds (" << stats.seeds << " passed) in " << ms << " ms: " << stats.events << " events, "
                       << stats.deliveries << " deliveries in " << stats.batches << " batches, " << stats.refused
                       << " refusals retried, " << stats.duplicates << " duplicates, " << stats.abandoned
                       << " batches abandoned, " << stats.unacked << " committed unacknowledged, " << stats.settlements
                       << " settlements, " << stats.rulings << " rulings, " << stats.voids << " reservations voided ("
                       << stats.tombstones << " before any money was reserved, as tombstones)");
  for (const auto& f : failures) FAIL_CHECK(f);
  CHECK(failures.empty());
}

}  // namespace

TEST_CASE("settlement simulation: seeded worlds with duplicates, reordering and crashes keep the ledger right") {
  run_seeds(seeds_to_run(), std::getenv("CROWD_SIM_ANY_ORDER") != nullptr);
}

// Found by this simulation (seed 23 with CROWD_SIM_ANY_ORDER): matching's task.units_released reaching
// settlement while the task's escrow is "rejected" (its first hold found too little money) used to be
// consumed as "nothing to release"; the funding retry's hold then stranded the released units' money in
// escrow. The real services cannot produce that order today (matching releases only tasks that opened),
// but settlement now refuses such an early release until the hold lands. These seeds drop the ordering
// guarantee and must keep the ledger right.
TEST_CASE("settlement simulation: releases arriving before a funding retry's hold wait for it (any order)") {
  run_seeds({23, 52, 73, 76, 78}, true);
}
