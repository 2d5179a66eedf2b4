// Settlement benchmark: accepted deliveries through the real stream and the real settlement process, with
// this machine's ceilings measured in the same run. Prints figures; asserts nothing (not a test).
//
//   build/release/tests/bench/settlement_bench [deliveries=20000] [workers=1000]
//
// 1. Starts redis-server (append-only, fsync every second) and the settlement binary on SQLite.
// 2. Tops up one enterprise over HTTP and XADDs `deliveries` task.created events; waits for every escrow.
// 3. XADDs `deliveries` delivery.accepted events (pipelined) and waits for every settlement.completed.
//    Throughput = deliveries / wall time; latency = stream time of settlement.completed − accepted_at_ms.
// 4. Ceilings on the same machine: a raw XREADGROUP+XACK loop on the same Redis, pipelined XADD, and the
//    SQLite commit rate of single-row and 1000-row transactions (WAL, synchronous=NORMAL).
#include <soci/soci.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
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
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
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
};

Figures run_settlement(test::Platform& p, int n, int workers) {
  redis::Client r({"127.0.0.1", p.redis_port()});
  std::string ent = "ent_bench";
  auto token = auth::issue_token("integration-test-secret-0123456789abcdef",
                                 {ent, auth::Role::enterprise, clock::now_ms(), clock::now_ms() + 3600000});
  const std::int64_t pay = 10'000;
  auto dep = p.call("settlement", "POST", "/v1/deposits", {{"amount", {{"amount_fen", pay * n}, {"currency", "CNY"}}}},
                    token, {{"Idempotency-Key", "bench"}});
  if (dep.status != 201) throw std::runtime_error("deposit failed: " + dep.body);

  std::vector<std::string> created, accepted;
  std::vector<std::int64_t> accepted_at;
  for (int i = 0; i < n; ++i) {
    std::string task = "tsk_bench_" + std::to_string(i);
    created.push_back(envelope("task.created", "tasks", task,
                               {{"task_id", task},
                                {"enterprise_id", ent},
                                {"category", "rd_design"},
                                {"mode", "single"},
                                {"units", 1},
                                {"pay_per_unit_fen", pay},
                                {"budget_fen", pay},
                                {"currency", "CNY"},
                                {"title", "bench"}}));
  }
  xadd_all(r, "events:tasks", created);
  wait_for_len(r, "events:settlement", n, 600);

  for (int i = 0; i < n; ++i) {
    std::string task = "tsk_bench_" + std::to_string(i);
    std::string asg = "asg_bench_" + std::to_string(i);
    accepted_at.push_back(clock::now_ms());
    accepted.push_back(envelope("delivery.accepted", "delivery", asg,
                                {{"submission_id", "sub_bench_" + std::to_string(i)},
                                 {"assignment_id", asg},
                                 {"task_id", task},
                                 {"enterprise_id", ent},
                                 {"worker_id", "wkr_bench_" + std::to_string(i % workers)},
                                 {"units", 1},
                                 {"amount_fen", pay},
                                 {"currency", "CNY"},
                                 {"category", "rd_design"},
                                 {"title", "bench"},
                                 {"automatic", false},
                                 {"accepted_at_ms", accepted_at.back()}}));
  }
  auto started = Clock::now();
  xadd_all(r, "events:delivery", accepted);
  wait_for_len(r, "events:settlement", 2LL * n, 600);
  Figures f;
  f.settlements_per_s = n / seconds_since(started);

  // Latency: the stream time of each settlement.completed minus its delivery's accepted_at_ms.
  std::vector<std::int64_t> lat;
  for (const auto& e : r.range("events:settlement", "-", 3 * n)) {
    auto env = nlohmann::json::parse(e.field("event"));
    if (env["type"] != "settlement.completed") continue;
    std::string asg = env["data"]["assignment_id"].get<std::string>();
    std::int64_t stream_ms = std::stoll(e.id.substr(0, e.id.find('-')));
    lat.push_back(stream_ms - accepted_at[static_cast<std::size_t>(std::stoi(asg.substr(asg.rfind('_') + 1)))]);
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

std::pair<double, double> sqlite_commit_rates(const std::string& dir, int n) {
  db::Database d("sqlite3://db=" + dir + "/ceiling.db timeout=10", 1);
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
  test::Platform p(
      "bench",
      {{"CROWD_LOG_LEVEL", "warn"}, {"CROWD_WORKERS", "2"}, {"CROWD_EVENT_BATCH", "500"}, {"CROWD_PROVIDER_URL", ""}});
  p.start("settlement");
  std::printf("settlement benchmark: %d accepted deliveries, %d workers, SQLite, Redis appendfsync everysec\n", n,
              workers);
  Figures f = run_settlement(p, n, workers);
  double xrg = raw_xreadgroup_ack(p.redis_port(), n);
  double xadd = raw_xadd_pipelined(p.redis_port(), n);
  auto [single, batched] = sqlite_commit_rates(p.dir(), std::min(n, 20000));
  std::printf("%-52s %12s\n", "what", "figure");
  std::printf("%-52s %10.0f/s\n", "settlements (stream → ledger → settlement.completed)", f.settlements_per_s);
  std::printf("%-52s %9lld ms\n", "  latency p50 (accepted → completed in the stream)",
              static_cast<long long>(f.p50_ms));
  std::printf("%-52s %9lld ms\n", "  latency p99", static_cast<long long>(f.p99_ms));
  std::printf("%-52s %9lld ms\n", "  latency max", static_cast<long long>(f.max_ms));
  std::printf("%-52s %10.0f/s\n", "ceiling: raw XREADGROUP COUNT 100 + XACK loop", xrg);
  std::printf("%-52s %10.0f/s\n", "ceiling: XADD, 1000 pipelined", xadd);
  std::printf("%-52s %10.0f/s\n", "ceiling: SQLite single-row transactions", single);
  std::printf("%-52s %10.0f/s\n", "ceiling: SQLite rows in 1000-row transactions", batched);
  p.stop("settlement");
  return 0;
}
