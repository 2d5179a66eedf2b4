// Blocking Redis client over hiredis 0.14 (see redis.hpp). Every reply is copied into crowd::redis::Reply
// and the hiredis objects are freed at once; a connection error drops the context and the next call
// connects again.
#include "common/redis.hpp"

#include <hiredis/hiredis.h>

#include <signal.h>
#include <sys/time.h>

#include <mutex>
#include <stdexcept>

namespace crowd::redis {
namespace {

constexpr std::string_view kRedisScheme = "redis://";

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

Reply copy_reply(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_STATUS:
      out.kind = Reply::Kind::status;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.kind = Reply::Kind::error;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.kind = Reply::Kind::integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
      out.kind = Reply::Kind::string;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      out.kind = Reply::Kind::array;
      out.elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(copy_reply(r->element[i]));
      break;
    default:
      out.kind = Reply::Kind::nil;
  }
  return out;
}

void throw_if_error(const Reply& r, const char* what) {
  if (r.is_error()) throw std::runtime_error(std::string("redis: ") + what + ": " + r.str);
}

// One stream entry [id, [field, value, ...]]; a nil entry (deleted id, Redis 6.2 XAUTOCLAIM) or a nil
// field list yields nothing.
std::optional<StreamEntry> parse_entry(const std::string& stream, const Reply& r) {
  if (r.kind != Reply::Kind::array || r.elements.size() < 2) return std::nullopt;
  if (r.elements[1].kind != Reply::Kind::array) return std::nullopt;
  StreamEntry e;
  e.stream = stream;
  e.id = r.elements[0].str;
  const auto& kv = r.elements[1].elements;
  for (std::size_t i = 0; i + 1 < kv.size(); i += 2) e.fields.emplace_back(kv[i].str, kv[i + 1].str);
  return e;
}

void parse_entries(const std::string& stream, const Reply& list, std::vector<StreamEntry>& out) {
  if (list.kind != Reply::Kind::array) return;
  for (const Reply& item : list.elements) {
    if (auto e = parse_entry(stream, item)) out.push_back(std::move(*e));
  }
}

}  // namespace

std::string StreamEntry::field(const std::string& name) const {
  for (const auto& [k, v] : fields) {
    if (k == name) return v;
  }
  return {};
}

Endpoint Endpoint::from_url(const std::string& url) {
  Endpoint ep;
  std::string rest = url;
  if (rest.rfind(kRedisScheme, 0) == 0) rest = rest.substr(kRedisScheme.size());
  // Drop a path ("/0") and credentials ("user:pass@"); neither is used by the kit.
  if (auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  if (auto at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);
  if (rest.empty()) return ep;
  auto colon = rest.rfind(':');
  if (colon == std::string::npos) {
    ep.host = rest;
    return ep;
  }
  if (colon > 0) ep.host = rest.substr(0, colon);
  if (ep.host.size() > 2 && ep.host.front() == '[' && ep.host.back() == ']')
    ep.host = ep.host.substr(1, ep.host.size() - 2);
  const std::string port = rest.substr(colon + 1);
  std::size_t used = 0;
  int p = 0;
  try {
    p = std::stoi(port, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != port.size() || p <= 0 || p > 65535) throw std::invalid_argument("redis: bad port in URL: " + url);
  ep.port = p;
  return ep;
}

namespace {

// hiredis writes with write(), not send(MSG_NOSIGNAL): a write to a connection the server closed raises
// SIGPIPE, whose default action ends the process. Ignore it (unless the program installed its own
// handler) so that the write fails with EPIPE and becomes an ordinary connection error.
void ignore_sigpipe_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) ::signal(SIGPIPE, SIG_IGN);
  });
}

}  // namespace

Client::Client(Endpoint ep, std::chrono::milliseconds timeout) : ep_(std::move(ep)), timeout_(timeout) {
  ignore_sigpipe_once();
}

Client::~Client() {
  if (ctx_ != nullptr) redisFree(ctx_);
}

void Client::connect() {
  if (ctx_ != nullptr) return;
  redisContext* c = redisConnectWithTimeout(ep_.host.c_str(), ep_.port, to_timeval(timeout_));
  if (c == nullptr) throw std::runtime_error("redis: cannot allocate a context");
  if (c->err != 0) {
    std::string msg = "redis: connect to " + ep_.host + ":" + std::to_string(ep_.port) + ": " + c->errstr;
    redisFree(c);
    throw std::runtime_error(msg);
  }
  // The connect timeout does not bound reads: without this a dead server would hang the caller.
  if (redisSetTimeout(c, to_timeval(timeout_)) != REDIS_OK) {
    redisFree(c);
    throw std::runtime_error("redis: cannot set the read timeout");
  }
  ctx_ = c;
}

namespace {

// Frees the context after a connection error and throws; the next call reconnects.
[[noreturn]] void drop(redisContext*& ctx, const char* what) {
  std::string msg = std::string("redis: ") + what;
  if (ctx != nullptr) {
    if (ctx->err != 0) msg += std::string(": ") + ctx->errstr;
    redisFree(ctx);
    ctx = nullptr;
  }
  throw std::runtime_error(msg);
}

void to_argv(const std::vector<std::string>& argv, std::vector<const char*>& ptrs, std::vector<std::size_t>& lens) {
  ptrs.clear();
  lens.clear();
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
}

}  // namespace

Reply Client::command(const std::vector<std::string>& argv) {
  if (argv.empty()) throw std::invalid_argument("redis: empty command");
  connect();
  std::vector<const char*> ptrs;
  std::vector<std::size_t> lens;
  to_argv(argv, ptrs, lens);
  auto* raw = static_cast<redisReply*>(redisCommandArgv(ctx_, static_cast<int>(ptrs.size()), ptrs.data(), lens.data()));
  if (raw == nullptr || ctx_->err != 0) {
    if (raw != nullptr) freeReplyObject(raw);
    drop(ctx_, "command failed");
  }
  Reply out = copy_reply(raw);
  freeReplyObject(raw);
  return out;
}

std::vector<Reply> Client::pipeline(const std::vector<std::vector<std::string>>& commands) {
  std::vector<Reply> out;
  if (commands.empty()) return out;
  connect();
  std::vector<const char*> ptrs;
  std::vector<std::size_t> lens;
  for (const auto& argv : commands) {
    if (argv.empty()) throw std::invalid_argument("redis: empty command in pipeline");
    to_argv(argv, ptrs, lens);
    // Appending only writes to the output buffer; it fails on allocation, not on the network.
    if (redisAppendCommandArgv(ctx_, static_cast<int>(ptrs.size()), ptrs.data(), lens.data()) != REDIS_OK) {
      drop(ctx_, "pipeline append failed");
    }
  }
  out.reserve(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) {
      if (raw != nullptr) freeReplyObject(raw);
      // Some replies were read, the rest are lost with the connection: the caller cannot know which
      // commands ran, so it must treat them all as maybe-applied (XADD: resend, consumers dedupe).
      drop(ctx_, "pipeline failed");
    }
    out.push_back(copy_reply(static_cast<redisReply*>(raw)));
    freeReplyObject(raw);
  }
  return out;
}

bool Client::ping() {
  try {
    Reply r = command({"PING"});
    return r.kind == Reply::Kind::status && r.str == "PONG";
  } catch (const std::exception&) {
    return false;
  }
}

void Client::ensure_group(const std::string& stream, const std::string& group, const std::string& start_id) {
  Reply r = command({"XGROUP", "CREATE", stream, group, start_id, "MKSTREAM"});
  if (r.is_error() && r.str.rfind("BUSYGROUP", 0) != 0) throw_if_error(r, "XGROUP CREATE");
}

std::vector<StreamEntry> Client::read_group(const std::string& group, const std::string& consumer,
                                            const std::vector<std::string>& streams, int count, int block_ms) {
  std::vector<StreamEntry> out;
  if (streams.empty()) return out;
  std::vector<std::string> argv{"XREADGROUP", "GROUP", group, consumer, "COUNT", std::to_string(count)};
  if (block_ms > 0) {  // BLOCK 0 would wait forever, past the read timeout: treat it as "do not block"
    argv.push_back("BLOCK");
    argv.push_back(std::to_string(block_ms));
  }
  argv.push_back("STREAMS");
  argv.insert(argv.end(), streams.begin(), streams.end());
  argv.insert(argv.end(), streams.size(), ">");
  Reply r = command(argv);
  throw_if_error(r, "XREADGROUP");
  if (r.kind != Reply::Kind::array) return out;  // nil: BLOCK timed out with nothing new
  for (const Reply& per_stream : r.elements) {
    if (per_stream.kind != Reply::Kind::array || per_stream.elements.size() < 2) continue;
    parse_entries(per_stream.elements[0].str, per_stream.elements[1], out);
  }
  return out;
}

std::vector<StreamEntry> Client::autoclaim(const std::string& stream, const std::string& group,
                                           const std::string& consumer, std::int64_t min_idle_ms, int count) {
  Reply r = command(
      {"XAUTOCLAIM", stream, group, consumer, std::to_string(min_idle_ms), "0-0", "COUNT", std::to_string(count)});
  throw_if_error(r, "XAUTOCLAIM");
  std::vector<StreamEntry> out;
  // Redis 7: [next-cursor, entries, deleted-ids]. Deleted ids are already dropped from the PEL.
  if (r.kind == Reply::Kind::array && r.elements.size() >= 2) parse_entries(stream, r.elements[1], out);
  return out;
}

std::vector<std::pair<std::string, std::int64_t>> Client::pending_idle(const std::string& stream,
                                                                       const std::string& group,
                                                                       std::int64_t min_idle_ms, int count) {
  Reply r = command({"XPENDING", stream, group, "IDLE", std::to_string(min_idle_ms), "-", "+", std::to_string(count)});
  throw_if_error(r, "XPENDING");
  std::vector<std::pair<std::string, std::int64_t>> out;
  if (r.kind != Reply::Kind::array) return out;
  // Each item: [id, consumer, idle-ms, times-delivered].
  for (const Reply& item : r.elements) {
    if (item.kind != Reply::Kind::array || item.elements.size() < 4) continue;
    out.emplace_back(item.elements[0].str, item.elements[3].integer);
  }
  return out;
}

std::optional<StreamEntry> Client::entry(const std::string& stream, const std::string& id) {
  Reply r = command({"XRANGE", stream, id, id});
  throw_if_error(r, "XRANGE");
  if (r.kind != Reply::Kind::array || r.elements.empty()) return std::nullopt;
  return parse_entry(stream, r.elements[0]);
}

std::vector<StreamEntry> Client::range(const std::string& stream, const std::string& start, int count) {
  Reply r = command({"XRANGE", stream, start, "+", "COUNT", std::to_string(count)});
  throw_if_error(r, "XRANGE");
  std::vector<StreamEntry> out;
  if (r.kind == Reply::Kind::array) parse_entries(stream, r, out);
  return out;
}

}  // namespace crowd::redis
