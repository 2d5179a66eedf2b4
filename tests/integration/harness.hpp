// Test harness for whole-system tests: real redis-server, real service binaries, real HTTP.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace crowd::test {

using json = nlohmann::json;

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  json json_body() const;  // null when the body is not JSON
  std::string header(const std::string& name) const;
};

// One request over a fresh loopback connection (Connection: close).
HttpResponse http_request(int port, const std::string& method, const std::string& target, const std::string& body = {},
                          const std::map<std::string, std::string>& headers = {});
HttpResponse http_raw(int port, const std::string& raw_request);  // bytes sent as they are
// Sends a (partial) request and waits: milliseconds until the server closed the connection, or -1 when it
// was still open at `limit`.
std::int64_t ms_until_closed(int port, const std::string& partial_request, std::chrono::milliseconds limit);
// The raw bytes the server sent back for `raw_request` until it closed the connection.
std::string http_raw_text(int port, const std::string& raw_request);

int free_port();
bool redis_ping(int port);
std::string temp_dir(const std::string& tag);

// A child process with its own environment; stdout/stderr go to LOG.
class Process {
 public:
  Process() = default;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();
  void start(const std::string& exe, const std::vector<std::string>& args,
             const std::map<std::string, std::string>& env, const std::string& log_path);
  void kill9();                           // SIGKILL and reap
  int terminate(int timeout_ms = 15000);  // SIGTERM; returns the exit status (-1 on timeout → SIGKILL)
  bool running();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

struct ServiceSpec {
  std::string name;
  int port = 0;
  std::string db_url;
  std::map<std::string, std::string> extra_env;
};

// Redis + the six services and the sandbox payment provider on free ports with a test clock. When it is
// destroyed (the end of a test), it checks the ledger's invariants (a failed check fails the test).
class Platform {
 public:
  explicit Platform(const std::string& tag, std::map<std::string, std::string> extra_env = {});
  ~Platform();
  static const std::vector<std::string>& service_names();

  int port(const std::string& service) const;
  void start_all();
  void start(const std::string& service, std::map<std::string, std::string> env_override = {});
  void kill9(const std::string& service);
  int stop(const std::string& service);  // SIGTERM, returns exit status
  bool wait_exit(const std::string& service, std::chrono::milliseconds timeout);
  void restart_redis();
  void advance_clock(std::chrono::milliseconds by);
  std::string log_path(const std::string& service) const;
  std::string log_tail(const std::string& service, std::size_t bytes = 4000) const;
  int redis_port() const { return redis_port_; }
  pid_t pid(const std::string& service) const;  // -1 when not started
  std::string dir() const { return dir_; }
  bool uses_postgres() const { return pg_; }

  // Calls a service: body JSON (null → no body), bearer token (empty → none).
  HttpResponse call(const std::string& service, const std::string& method, const std::string& target,
                    const json& body = nullptr, const std::string& token = {},
                    std::map<std::string, std::string> headers = {});

 private:
  void start_redis();
  void check_ledger_at_end();
  void capture_events();
  std::string dir_;
  bool pg_ = false;
  int redis_port_ = 0;
  Process redis_;
  std::int64_t clock_offset_ms_ = 0;
  std::map<std::string, std::string> env_;
  std::map<std::string, ServiceSpec> specs_;
  std::map<std::string, std::unique_ptr<Process>> procs_;
};

// Polls `ready` every 20 ms until it returns true or the timeout passes; returns the last result.
bool eventually(const std::function<bool()>& ready, std::chrono::milliseconds timeout = std::chrono::seconds(20));

}  // namespace crowd::test
