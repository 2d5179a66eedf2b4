// A blocking Redis client over hiredis (0.14: no RESP3, no TLS). One Client per thread: hiredis contexts
// are not thread-safe. Reconnects lazily after an error. Only the calls the kit needs.
// The first Client sets SIGPIPE to ignored when it still has the default action: hiredis writes with
// write(), and a write to a connection the server closed must be an error, not the end of the process.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

struct redisContext;
struct redisReply;

namespace crowd::redis {

struct Endpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  static Endpoint from_url(const std::string& url);  // "redis://host:port"
};

// A reply tree copied out of hiredis.
struct Reply {
  enum class Kind { nil, status, error, integer, string, array };
  Kind kind = Kind::nil;
  std::int64_t integer = 0;
  std::string str;
  std::vector<Reply> elements;
  bool is_error() const { return kind == Kind::error; }
};

struct StreamEntry {
  std::string stream;
  std::string id;  // "1700000000000-0"
  std::vector<std::pair<std::string, std::string>> fields;
  std::string field(const std::string& name) const;
};

class Client {
 public:
  explicit Client(Endpoint ep, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Runs one command; throws std::runtime_error on a connection error (and drops the connection).
  Reply command(const std::vector<std::string>& argv);
  // Sends all commands in one round trip and returns their replies in order.
  std::vector<Reply> pipeline(const std::vector<std::vector<std::string>>& commands);
  bool ping();

  // XGROUP CREATE stream group start_id MKSTREAM, ignoring BUSYGROUP; throws on any other error reply.
  void ensure_group(const std::string& stream, const std::string& group, const std::string& start_id = "0");
  // XREADGROUP GROUP g c COUNT n BLOCK ms STREAMS s... > ...; block_ms must stay below the timeout.
  // block_ms <= 0 does not block (Redis' BLOCK 0 would wait forever). Throws on an error reply (NOGROUP).
  std::vector<StreamEntry> read_group(const std::string& group, const std::string& consumer,
                                      const std::vector<std::string>& streams, int count, int block_ms);
  // XAUTOCLAIM stream group consumer min_idle start COUNT n: entries claimed from dead consumers.
  std::vector<StreamEntry> autoclaim(const std::string& stream, const std::string& group, const std::string& consumer,
                                     std::int64_t min_idle_ms, int count);
  // XPENDING stream group IDLE ms - + count: (id, times delivered) of entries idle that long.
  std::vector<std::pair<std::string, std::int64_t>> pending_idle(const std::string& stream, const std::string& group,
                                                                 std::int64_t min_idle_ms, int count);
  std::optional<StreamEntry> entry(const std::string& stream, const std::string& id);  // XRANGE id id
  // XRANGE stream start + COUNT count: entries from `start` ("-" for the beginning) in id order.
  std::vector<StreamEntry> range(const std::string& stream, const std::string& start, int count);

 private:
  void connect();
  Endpoint ep_;
  std::chrono::milliseconds timeout_;
  redisContext* ctx_ = nullptr;
};

}  // namespace crowd::redis
