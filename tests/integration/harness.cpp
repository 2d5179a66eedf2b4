#include "harness.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "common/ids.hpp"
#include "common/redis.hpp"

namespace crowd::test {
namespace fs = std::filesystem;

json HttpResponse::json_body() const {
  return json::parse(body, nullptr, false);
}

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

namespace {

int connect_loopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

HttpResponse parse_response(const std::string& raw) {
  HttpResponse r;
  auto head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos) return r;
  std::istringstream head(raw.substr(0, head_end));
  std::string line;
  std::getline(head, line);
  if (line.size() >= 12) r.status = std::stoi(line.substr(9, 3));
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    r.headers[name] = value;
  }
  r.body = raw.substr(head_end + 4);
  return r;
}

}  // namespace

bool redis_ping(int port) {
  int fd = connect_loopback(port);
  if (fd < 0) return false;
  const char ping[] = "PING\r\n";
  bool ok = ::send(fd, ping, sizeof(ping) - 1, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof(ping) - 1);
  char buf[16] = {0};
  ok = ok && ::recv(fd, buf, sizeof(buf) - 1, 0) > 0 && std::string(buf).rfind("+PONG", 0) == 0;
  ::close(fd);
  return ok;
}

std::int64_t ms_until_closed(int port, const std::string& partial_request, std::chrono::milliseconds limit) {
  int fd = connect_loopback(port);
  if (fd < 0) return -1;
  auto started = std::chrono::steady_clock::now();
  ::send(fd, partial_request.data(), partial_request.size(), MSG_NOSIGNAL);
  timeval tv{static_cast<time_t>(limit.count() / 1000), static_cast<suseconds_t>(limit.count() % 1000 * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char buf[4096];
  std::int64_t result = -1;
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
      result =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
      break;
    }
    if (n < 0) break;  // still open at the limit
  }
  ::close(fd);
  return result;
}

std::string http_raw_text(int port, const std::string& raw_request) {
  int fd = connect_loopback(port);
  if (fd < 0) return {};
  std::size_t sent = 0;
  while (sent < raw_request.size()) {
    ssize_t n = ::send(fd, raw_request.data() + sent, raw_request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close early (e.g. 413): read what it answered
    sent += static_cast<std::size_t>(n);
  }
  std::string raw;
  char buf[16384];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return raw;
}

HttpResponse http_raw(int port, const std::string& raw_request) {
  return parse_response(http_raw_text(port, raw_request));
}

HttpResponse http_request(int port, const std::string& method, const std::string& target, const std::string& body,
                          const std::map<std::string, std::string>& headers) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  bool has_ct = false;
  for (const auto& [k, v] : headers) {
    req += k + ": " + v + "\r\n";
    has_ct = has_ct || k == "Content-Type";
  }
  if (!body.empty() && !has_ct) req += "Content-Type: application/json\r\n";
  if (!body.empty() || method == "POST" || method == "PUT")
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  return http_raw(port, req);
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

std::string temp_dir(const std::string& tag) {
  std::random_device rd;
  auto dir =
      fs::temp_directory_path() / ("crowd-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  fs::create_directories(dir);
  return dir.string();
}

bool eventually(const std::function<bool()>& ready, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (ready()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// ------------------------------------------------------------------ Process

Process::~Process() {
  if (pid_ > 0) kill9();
}

void Process::start(const std::string& exe, const std::vector<std::string>& args,
                    const std::map<std::string, std::string>& env, const std::string& log_path) {
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(exe.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp(exe.c_str(), argv.data());
    ::_exit(127);
  }
  pid_ = pid;
}

void Process::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int st = 0;
  ::waitpid(pid_, &st, 0);
  pid_ = -1;
}

int Process::terminate(int timeout_ms) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill9();
  return -1;
}

bool Process::running() {
  if (pid_ <= 0) return false;
  int st = 0;
  if (::waitpid(pid_, &st, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

// ------------------------------------------------------------------ Platform

const std::vector<std::string>& Platform::service_names() {
  static const std::vector<std::string> names = {"accounts",   "tasks",     "matching",  "delivery",
                                                 "settlement", "invoicing", "paysandbox"};
  return names;
}

namespace {
std::string env_or(const char* name, const std::string& def) {
  const char* v = std::getenv(name);
  return v && *v ? v : def;
}

std::string binary_of(const std::string& service) {
  std::string up = service;
  for (auto& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string path = env_or(("CROWD_BIN_" + up).c_str(), "");
  if (!path.empty()) return path;
  std::string dir = env_or("CROWD_BIN_DIR", "");
  if (dir.empty()) throw std::runtime_error("CROWD_BIN_DIR is not set (run the tests through ctest)");
  return dir + "/" + service + "/" + service;
}

// Creates a fresh PostgreSQL database for one service of one test run (psql on the configured server).
std::string pg_database(const std::string& service, const std::string& tag) {
  std::string host = env_or("CROWD_TEST_PG_HOST", "127.0.0.1");
  std::string port = env_or("CROWD_TEST_PG_PORT", "55432");
  std::string user = env_or("CROWD_TEST_PG_USER", "crowd");
  std::random_device rd;
  std::string name = "t_" + service + "_" + tag + "_" + std::to_string(rd() % 1000000000);
  for (auto& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  std::string cmd = "psql -q -h " + host + " -p " + port + " -U " + user + " -d postgres -c 'CREATE DATABASE " + name +
                    "' > /dev/null";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("could not create database: " + cmd);
  return "postgresql://host=" + host + " port=" + port + " dbname=" + name + " user=" + user;
}
}  // namespace

Platform::Platform(const std::string& tag, std::map<std::string, std::string> extra_env)
    : dir_(temp_dir(tag)), pg_(env_or("CROWD_TEST_PG", "") == "1") {
  std::ofstream(dir_ + "/clock") << 0;
  env_ = {{"CROWD_TOKEN_SECRET", "integration-test-secret-0123456789abcdef"},
          {"CROWD_PII_KEY", std::string(64, '1')},
          {"CROWD_PII_HMAC_KEY", std::string(64, '2')},
          {"CROWD_OPERATOR_USERNAME", "ops"},
          {"CROWD_OPERATOR_PASSWORD", "operator-password-1"},
          {"CROWD_CLOCK_FILE", dir_ + "/clock"},
          {"CROWD_TOKEN_TTL_S", "2592000"},  // tests move the clock by days; tokens outlive that
          {"CROWD_DATA_DIR", dir_},
          {"CROWD_WORKERS", "3"},
          {"CROWD_CLAIM_IDLE_MS", "1000"},
          {"CROWD_EVENT_BLOCK_MS", "200"},
          {"CROWD_LOG_LEVEL", "info"},
          {"ASAN_OPTIONS", "detect_leaks=0"},
          // The sandbox payment provider and settlement's payout machine, quick enough for tests.
          {"CROWD_PROVIDER_SECRET", "integration-provider-secret-0123456789"},
          {"CROWD_SANDBOX_DELAY_MS", "100"},
          {"CROWD_SANDBOX_STALL_MS", "2500"},
          {"CROWD_PROVIDER_TIMEOUT_MS", "1200"},
          {"CROWD_PAYOUT_BACKOFF_MS", "200"},
          {"CROWD_PAYOUT_RECOVER_AFTER_MS", "2000"},
          {"CROWD_PAYOUT_QUERY_AFTER_MS", "3000"}};
  for (auto& [k, v] : extra_env) env_[k] = v;
  start_redis();
  for (const auto& s : service_names()) {
    ServiceSpec spec{s, free_port(), {}, {}};
    spec.db_url = pg_ ? pg_database(s, tag) : "sqlite3://db=" + dir_ + "/" + s + ".db timeout=10";
    specs_[s] = spec;
  }
  if (!env_.count("CROWD_PROVIDER_URL")) {
    env_["CROWD_PROVIDER_URL"] = "http://127.0.0.1:" + std::to_string(specs_.at("paysandbox").port);
  }
}

// The ledger's invariants after every whole-system test (GET /v1/admin/settlement/check), whatever the
// test itself checked: run while accounts and settlement still run, before everything stops.
void Platform::check_ledger_at_end() {
  for (const char* s : {"accounts", "settlement"}) {
    auto it = procs_.find(s);
    if (it == procs_.end() || !it->second || !it->second->running()) return;
  }
  const auto login = http_request(port("accounts"), "POST", "/v1/auth/token",
                                  json{{"role", "operator"},
                                       {"username", env_.at("CROWD_OPERATOR_USERNAME")},
                                       {"password", env_.at("CROWD_OPERATOR_PASSWORD")}}
                                      .dump());
  if (login.status != 200) return;
  const std::string token = login.json_body().value("access_token", "");
  // Events still in flight (a release, a settlement) may be between two services: give them a moment.
  HttpResponse check;
  eventually(
      [&] {
        check = http_request(port("settlement"), "GET", "/v1/admin/settlement/check", "",
                             {{"Authorization", "Bearer " + token}});
        return check.status == 200 && check.json_body().value("ok", false);
      },
      std::chrono::seconds(5));
  [[maybe_unused]] const bool ok = check.json_body().value("ok", false);
  const std::string message = "ledger check after the test: " + check.body;
  CHECK_MESSAGE(ok, message);
}

// When CROWD_EVENT_CAPTURE_DIR is set: every envelope on every service's stream, one JSON line each, into a
// new file there (scripts/check_events.py validate checks them against schemas/events/ after the tests).
void Platform::capture_events() {
  const std::string dir = env_or("CROWD_EVENT_CAPTURE_DIR", "");
  if (dir.empty() || redis_port_ == 0) return;
  fs::create_directories(dir);
  std::ofstream out(fs::path(dir) / (ids::make("evc") + ".jsonl"));
  redis::Client redis(redis::Endpoint{"127.0.0.1", redis_port_});
  for (const std::string& service : service_names()) {
    std::string from = "-";
    for (;;) {
      const redis::Reply r = redis.command({"XRANGE", "events:" + service, from, "+", "COUNT", "500"});
      if (r.is_error() || r.elements.empty()) break;
      for (const redis::Reply& entry : r.elements) {
        const auto& fields = entry.elements.at(1).elements;
        for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
          if (fields[i].str == "event") out << fields[i + 1].str << '\n';
        }
      }
      from = "(" + r.elements.back().elements.at(0).str;
    }
  }
}

Platform::~Platform() {
  try {
    check_ledger_at_end();
  } catch (const std::exception& e) {
    MESSAGE("ledger check after the test not run: " << e.what());
  }
  try {
    capture_events();
  } catch (const std::exception& e) {
    MESSAGE("events not captured: " << e.what());
  }
  for (auto& [name, p] : procs_) p->terminate(5000);
  redis_.kill9();
  if (env_or("CROWD_TEST_KEEP", "") != "1") {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

void Platform::start_redis() {
  if (redis_port_ == 0) redis_port_ = free_port();
  fs::create_directories(dir_ + "/redis");
  // Tests fsync every write (the strictest setting, so a restart loses nothing); the benchmark asks for
  // Redis's default "everysec" through CROWD_TEST_REDIS_APPENDFSYNC.
  redis_.start("redis-server",
               {"--port", std::to_string(redis_port_), "--bind", "127.0.0.1", "--dir", dir_ + "/redis", "--appendonly",
                "yes", "--appendfsync", env_or("CROWD_TEST_REDIS_APPENDFSYNC", "always"), "--save", ""},
               {}, dir_ + "/redis.log");
  bool up = eventually([&] { return redis_ping(redis_port_); }, std::chrono::seconds(10));
  if (!up) throw std::runtime_error("redis-server did not start");
}

void Platform::restart_redis() {
  redis_.terminate(10000);
  start_redis();
}

int Platform::port(const std::string& service) const {
  return specs_.at(service).port;
}

std::string Platform::log_path(const std::string& service) const {
  return dir_ + "/" + service + ".log";
}

std::string Platform::log_tail(const std::string& service, std::size_t bytes) const {
  std::ifstream in(log_path(service));
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

void Platform::start(const std::string& service, std::map<std::string, std::string> env_override) {
  const auto& spec = specs_.at(service);
  auto env = env_;
  env["CROWD_HTTP_PORT"] = std::to_string(spec.port);
  env["CROWD_DB_URL"] = spec.db_url;
  env["CROWD_REDIS_URL"] = "redis://127.0.0.1:" + std::to_string(redis_port_);
  env["CROWD_CONSUMER_NAME"] = service + "-" + std::to_string(procs_.size()) + "-" + std::to_string(std::rand());
  for (auto& [k, v] : env_override) env[k] = v;
  auto& p = procs_[service];
  if (p) p->kill9();
  p = std::make_unique<Process>();
  p->start(binary_of(service), {}, env, log_path(service));
  int port = spec.port;
  bool ready = eventually([&] { return http_request(port, "GET", "/readyz").status == 200 || !p->running(); },
                          std::chrono::seconds(30));
  if (!ready || !p->running()) throw std::runtime_error(service + " did not become ready; log:\n" + log_tail(service));
}

pid_t Platform::pid(const std::string& service) const {
  const auto it = procs_.find(service);
  return it == procs_.end() || !it->second ? -1 : it->second->pid();
}

bool Platform::wait_exit(const std::string& service, std::chrono::milliseconds timeout) {
  auto it = procs_.find(service);
  if (it == procs_.end()) return true;
  return eventually([&] { return !it->second->running(); }, timeout);
}

void Platform::start_all() {
  for (const auto& s : service_names()) start(s);
}

void Platform::kill9(const std::string& service) {
  auto it = procs_.find(service);
  if (it != procs_.end()) it->second->kill9();
}

int Platform::stop(const std::string& service) {
  auto it = procs_.find(service);
  return it == procs_.end() ? -1 : it->second->terminate();
}

void Platform::advance_clock(std::chrono::milliseconds by) {
  clock_offset_ms_ += by.count();
  std::string tmp = dir_ + "/clock.tmp";
  std::ofstream(tmp) << clock_offset_ms_;
  fs::rename(tmp, dir_ + "/clock");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // services re-read the file at most every 20 ms
}

HttpResponse Platform::call(const std::string& service, const std::string& method, const std::string& target,
                            const json& body, const std::string& token, std::map<std::string, std::string> headers) {
  if (!token.empty()) headers["Authorization"] = "Bearer " + token;
  return http_request(port(service), method, target, body.is_null() ? std::string() : body.dump(), headers);
}

}  // namespace crowd::test
