// Settlement benchmark: accepted deliveries through the real stream and the real settlement process, with
// this machine's ceilings measured in the same run. Prints figures; asserts nothing (not a test).
//
//   build/release/tests/bench/settlement_bench [deliveries=20000] [workers=1000]
//
// 1. Starts redis-server (append-only, fsync every second) and the settlement binary on SQLite.
// 2. Tops up one enterprise over HTTP and XADDs `deliveries` task.created events; waits for every escrow.
//    Then XADDs every unit's assignment.created and waits for the reservations (production's order: an
//    assignment is made long before its delivery is accepted).
// 3. XADDs `deliveries` delivery.accepted events (pipelined) and waits for every settlement.completed.
//    Throughput = deliveries / wall time; latency = stream time of settlement.completed − accepted_at_ms.
//    Then the same again without assignment.created: each acceptance overtakes its assignment and reserves
//    and posts in one transaction. CROWD_BENCH_ONLY=reserved|overtaking runs one of the two.
// 4. Ceilings on the same machine: a raw XREADGROUP+XACK loop on the same Redis, pipelined XADD, and the
//    SQLite commit rate of single-row and 1000-row transactions (WAL, synchronous=NORMAL), with SQLite's
//    default 4 KiB pages (the other services) and settlement's 16 KiB.
#include <soci/soci.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/auth.hpp"
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/events.hpp"
#include "common/ids.hpp"
#include "common/redis.hpp"
#include "tests/integration/harness.hpp"

using namespace crowd;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string envelope(const std::string& type, const std::string& producer, const std::string& key,
                     nlohmann::json data) {
  events::Event e;
  e.id = ids::make("evt");
  e.type = type;
  e.occurred_at_ms = clock::now_ms();
  e.producer = producer;
  e.key = key;
  e.data = std::move(data);
  return e.envelope().dump();
}

// XADDs the envelopes to `stream`, 1000 per pipelined round.
void xadd_all(redis::Client& r, const std::string& stream, const std::vector<std::string>& envelopes) {
  for (std::size_t i = 0; i < envelopes.size(); i += 1000) {
    std::vector<std::vector<std::string>> cmds;
    for (std::size_t j = i; j < std::min(envelopes.size(), i + 1000); ++j)
      cmds.push_back({"XADD", stream, "*", "event", envelopes[j]});
    for (const auto& reply : r.pipeline(cmds))
      if (reply.is_error()) throw std::runtime_error("XADD: " + reply.str);
  }
}

void wait_for_len(redis::Client& r, const std::string& stream, std::int64_t n, int timeout_s) {
  auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
  while (r.command({"XLEN", stream}).integer < n) {
    if (Clock::now() > deadline) throw std::runtime_error("timed out waiting for " + stream);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::int64_t percentile(std::vector<std::int64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

struct Figures {
  double settlements_per_s = 0;
  std::int64_t p50_ms = 0, p99_ms = 0, max_ms = 0;
  double cpu_us_per_settlement = 0;  // the settlement process's user + system time, all its threads
};

// User + system CPU seconds of a process so far (/proc/PID/stat, fields 14 and 15).
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));  // after "pid (comm) "
  std::string f;
  long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stoll(f);
    if (i == 15) stime = std::stoll(f);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// A line of /proc/PID/status in MiB ("VmHWM", "VmRSS").
double status_mib(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::stod(line.substr(key.size() + 1)) / 1024.0;  // kB
  }
  return 0;
}

// How many rows `table` of settlement's SQLite database holds (read beside the running service; WAL).
std::int64_t rows_in(db::Database& d, const std::string& table) {
  long long n = 0;
  d.with([&](soci::session& s) { s << "SELECT COUNT(*) FROM " + table, soci::into(n); });
  return n;
}

void wait_for_rows(db::Database& d, const std::string& table, std::int64_t n, int timeout_s) {
  auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
  while (rows_in(d, table) < n) {
    if (Clock::now() > deadline) throw std::runtime_error("timed out waiting for rows in " + table);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// One run: `n` single-unit tasks of one enterprise held in escrow, then (reserved_first) every assignment's
// assignment.created applied, as in production where the assignment is made long before its delivery is
// accepted; then `n` delivery.accepted events, timed. Without reserved_first each acceptance overtakes its
// assignment.created and reserves + posts in one transaction (the rarer order). Ids have production's shape.
Figures run_settlement(test::Platform& p, int n, int workers, bool reserved_first, const char* label) {
  redis::Client r({"127.0.0.1", p.redis_port()});
  const std::string ent = ids::make("ent");
  auto token = auth::issue_token("integration-test-secret-0123456789abcdef",
                                 {ent, auth::Role::enterprise, clock::now_ms(), clock::now_ms() + 3600000});
  const std::int64_t pay = 10'000;
  auto dep = p.call("settlement", "POST", "/v1/deposits", {{"amount", {{"amount_fen", pay * n}, {"currency", "CNY"}}}},
                    token, {{"Idempotency-Key", ent}});
  if (dep.status != 201) throw std::runtime_error("deposit failed: " + dep.body);

  std::vector<std::string> worker_ids;
  for (int w = 0; w < workers; ++w) worker_ids.push_back(ids::make("wkr"));
  struct Unit {
    std::string task, assignment, worker;
  };
  std::vector<Unit> units;
  std::unordered_map<std::string, std::size_t> index_of;
  std::vector<std::string> created, assigned, accepted;
  for (int i = 0; i < n; ++i) {
    Unit u{ids::make("tsk"), ids::make("asg"), worker_ids[static_cast<std::size_t>(i % workers)]};
    index_of[u.assignment] = units.size();
    created.push_back(envelope("task.created", "tasks", u.task,
                               {{"task_id", u.task},
                                {"enterprise_id", ent},
                                {"category", "rd_design"},
                                {"mode", "single"},
                                {"units", 1},
                                {"pay_per_unit_fen", pay},
                                {"budget_fen", pay},
                                {"currency", "CNY"},
                                {"title", "bench"}}));
    assigned.push_back(envelope("assignment.created", "matching", u.assignment,
                                {{"assignment_id", u.assignment},
                                 {"offer_id", ids::make("ofr")},
                                 {"task_id", u.task},
                                 {"enterprise_id", ent},
                                 {"worker_id", u.worker},
                                 {"units", 1},
                                 {"pay_per_unit_fen", pay},
                                 {"amount_fen", pay},
                                 {"currency", "CNY"},
                                 {"category", "rd_design"},
                                 {"title", "bench"},
                                 {"review_window_s", 259200},
                                 {"deadline_ms", clock::now_ms() + 86'400'000}}));
    units.push_back(std::move(u));
  }
  const std::int64_t before = r.command({"XLEN", "events:settlement"}).integer;
  db::Database settlement_db("sqlite3://db=" + p.dir() + "/settlement.db timeout=10", 1);
  const std::int64_t reservations_before = rows_in(settlement_db, "reservations");
  xadd_all(r, "events:tasks", created);
  wait_for_len(r, "events:settlement", before + n, 600);
  if (reserved_first) {
    xadd_all(r, "events:matching", assigned);
    wait_for_rows(settlement_db, "reservations", reservations_before + n, 600);
  }

  if (const char* drop = std::getenv("CROWD_BENCH_DROP")) {
    db::Database d("sqlite3://db=" + p.dir() + "/settlement.db timeout=10", 1);
    std::string list = drop;
    d.with([&](soci::session& s) {
      std::size_t pos = 0;
      while (pos < list.size()) {
        auto comma = list.find(',', pos);
        if (comma == std::string::npos) comma = list.size();
        s << "DROP INDEX IF EXISTS " + list.substr(pos, comma - pos);
        pos = comma + 1;
      }
    });
  }
  std::vector<std::int64_t> accepted_at;
  for (const Unit& u : units) {
    accepted_at.push_back(clock::now_ms());
    accepted.push_back(envelope("delivery.accepted", "delivery", u.assignment,
                                {{"submission_id", ids::make("sub")},
                                 {"assignment_id", u.assignment},
                                 {"task_id", u.task},
                                 {"enterprise_id", ent},
                                 {"worker_id", u.worker},
                                 {"units", 1},
                                 {"amount_fen", pay},
                                 {"currency", "CNY"},
                                 {"category", "rd_design"},
                                 {"title", "bench"},
                                 {"automatic", false},
                                 {"accepted_at_ms", accepted_at.back()}}));
  }
  // Progress on stderr (a profiler can attach to the settlement process now: only settlements follow).
  std::fprintf(stderr, "bench: %s: escrows held; sending %d delivery.accepted\n", label, n);
  const double cpu_before = cpu_seconds(p.pid("settlement"));
  auto started = Clock::now();
  xadd_all(r, "events:delivery", accepted);
  wait_for_len(r, "events:settlement", before + 2LL * n, 600);
  Figures f;
  f.settlements_per_s = n / seconds_since(started);
  f.cpu_us_per_settlement = (cpu_seconds(p.pid("settlement")) - cpu_before) * 1e6 / n;
  std::fprintf(stderr, "bench: %s: done\n", label);

  // Latency: the stream time of each settlement.completed minus its delivery's accepted_at_ms.
  std::vector<std::int64_t> lat;
  for (const auto& e : r.range("events:settlement", "-", static_cast<int>(before + 2LL * n + 10))) {
    auto env = nlohmann::json::parse(e.field("event"));
    if (env["type"] != "settlement.completed") continue;
    const auto it = index_of.find(env["data"]["assignment_id"].get<std::string>());
    if (it == index_of.end()) continue;  // an earlier run's
    std::int64_t stream_ms = std::stoll(e.id.substr(0, e.id.find('-')));
    lat.push_back(stream_ms - accepted_at[it->second]);
  }
  f.p50_ms = percentile(lat, 0.50);
  f.p99_ms = percentile(lat, 0.99);
  f.max_ms = percentile(lat, 1.0);
  return f;
}

// A consumer that does nothing but read and acknowledge: the most any consumer can do on this Redis.
double raw_xreadgroup_ack(int redis_port, int n) {
  redis::Client r({"127.0.0.1", redis_port});
  std::vector<std::string> payload(static_cast<std::size_t>(n), std::string(600, 'x'));
  xadd_all(r, "bench:raw", payload);
  r.ensure_group("bench:raw", "raw", "0");
  auto started = Clock::now();
  int seen = 0;
  while (seen < n) {
    auto entries = r.read_group("raw", "c1", {"bench:raw"}, 100, 100);
    if (entries.empty()) continue;
    std::vector<std::string> ack{"XACK", "bench:raw", "raw"};
    for (const auto& e : entries) ack.push_back(e.id);
    r.command(ack);
    seen += static_cast<int>(entries.size());
  }
  return n / seconds_since(started);
}

double raw_xadd_pipelined(int redis_port, int n) {
  redis::Client r({"127.0.0.1", redis_port});
  std::vector<std::string> payload(static_cast<std::size_t>(n), std::string(600, 'x'));
  auto started = Clock::now();
  xadd_all(r, "bench:xadd", payload);
  return n / seconds_since(started);
}

std::pair<double, double> sqlite_commit_rates(const std::string& dir, int n, int page_size) {
  db::Database d("sqlite3://db=" + dir + "/ceiling-" + std::to_string(page_size) + ".db timeout=10", 1,
                 {.sqlite_page_size = page_size});
  d.with([](soci::session& s) { s << "CREATE TABLE t (id TEXT PRIMARY KEY, v BIGINT NOT NULL)"; });
  auto started = Clock::now();
  for (int i = 0; i < n; ++i) {
    d.tx([&](soci::session& s) {
      std::string id = "a" + std::to_string(i);
      long long v = i;
      s << "INSERT INTO t (id, v) VALUES (:id, :v)", soci::use(id), soci::use(v);
    });
  }
  double single = n / seconds_since(started);
  started = Clock::now();
  for (int b = 0; b < n; b += 1000) {
    d.tx([&](soci::session& s) {
      std::string id;
      long long v = 0;
      soci::statement st = (s.prepare << "INSERT INTO t (id, v) VALUES (:id, :v)", soci::use(id), soci::use(v));
      for (int i = b; i < std::min(n, b + 1000); ++i) {
        id = "b" + std::to_string(i);
        v = i;
        st.execute(true);
      }
    });
  }
  return {single, n / seconds_since(started)};
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::stoi(argv[1]) : 20000;
  const int workers = argc > 2 ? std::stoi(argv[2]) : 1000;
  ::setenv("CROWD_TEST_REDIS_APPENDFSYNC", "everysec", 1);
  // The services of the same build: BUILD/tests/bench/settlement_bench → BUILD/services.
  if (std::getenv("CROWD_BIN_DIR") == nullptr) {
    auto build = std::filesystem::canonical("/proc/self/exe").parent_path().parent_path().parent_path();
    ::setenv("CROWD_BIN_DIR", (build / "services").c_str(), 1);
  }
  // No payment provider: the enterprises' deposits are credited at once (the bench measures settlement).
  test::Platform p("bench", {{"CROWD_LOG_LEVEL", "warn"},
                             {"CROWD_WORKERS", "2"},
                             {"CROWD_EVENT_BATCH", std::getenv("B") ? std::getenv("B") : "500"},
                             {"CROWD_PROVIDER_URL", ""}});
  p.start("settlement");
  std::printf("settlement benchmark: %d accepted deliveries, %d workers, SQLite, Redis appendfsync everysec\n", n,
              workers);
  // Only one of the two runs when CROWD_BENCH_ONLY is "reserved" or "overtaking" (profiling).
  const std::string only = std::getenv("CROWD_BENCH_ONLY") != nullptr ? std::getenv("CROWD_BENCH_ONLY") : "";
  Figures f, o;
  if (only != "overtaking") f = run_settlement(p, n, workers, true, "reserved");
  if (only != "reserved") o = run_settlement(p, n, workers, false, "overtaking");
  double xrg = raw_xreadgroup_ack(p.redis_port(), n);
  double xadd = raw_xadd_pipelined(p.redis_port(), n);
  // SQLite's default pages (the other services) and settlement's 16 KiB pages.
  auto [single, batched] = sqlite_commit_rates(p.dir(), std::min(n, 20000), 4096);
  auto [single16, batched16] = sqlite_commit_rates(p.dir(), std::min(n, 20000), 16384);
  std::printf("%-52s %12s\n", "what", "figure");
  const auto print = [](const char* what, const Figures& x) {
    std::printf("%-52s %10.0f/s\n", what, x.settlements_per_s);
    std::printf("%-52s %9lld ms\n", "  latency p50 (accepted → completed in the stream)",
                static_cast<long long>(x.p50_ms));
    std::printf("%-52s %9lld ms\n", "  latency p99", static_cast<long long>(x.p99_ms));
    std::printf("%-52s %9lld ms\n", "  latency max", static_cast<long long>(x.max_ms));
    std::printf("%-52s %9.1f µs\n", "  settlement CPU per settlement (all threads)", x.cpu_us_per_settlement);
  };
  if (only != "overtaking") print("settlements, assignment reserved first (the usual)", f);
  if (only != "reserved") print("settlements, acceptance overtook its assignment", o);
  const pid_t pid = p.pid("settlement");
  std::printf("%-52s %9.0f MiB\n", "settlement memory: peak RSS", status_mib(pid, "VmHWM"));
  std::printf("%-52s %10.0f/s\n", "ceiling: raw XREADGROUP COUNT 100 + XACK loop", xrg);
  std::printf("%-52s %10.0f/s\n", "ceiling: XADD, 1000 pipelined", xadd);
  std::printf("%-52s %10.0f/s\n", "ceiling: SQLite single-row transactions, 4 KiB pages", single);
  std::printf("%-52s %10.0f/s\n", "ceiling: SQLite single-row transactions, 16 KiB pages", single16);
  std::printf("%-52s %10.0f/s\n", "ceiling: SQLite rows in 1000-row transactions, 4 KiB", batched);
  std::printf("%-52s %10.0f/s\n", "ceiling: SQLite rows in 1000-row transactions, 16 KiB", batched16);
  p.stop("settlement");
  return 0;
}
