#include "common/server.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <exception>
#include <utility>

#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/log.hpp"

namespace crowd::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

struct Server::Impl {
  asio::io_context& io;
  asio::thread_pool& pool;
  config::ServiceConfig cfg;
  ServerHooks hooks;
  tcp::acceptor acceptor;
  std::atomic<bool> draining{false};
  std::atomic<int> in_flight{0};
  std::atomic<int> connections{0};

  Impl(asio::io_context& io_, asio::thread_pool& pool_, const config::ServiceConfig& cfg_, ServerHooks hooks_)
      : io(io_), pool(pool_), cfg(cfg_), hooks(std::move(hooks_)), acceptor(io_) {}
};

namespace {

using Impl = Server::Impl;

std::string url_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

Request to_request(const bhttp::request<bhttp::string_body>& m) {
  Request r;
  r.method = std::string(m.method_string());
  r.target = std::string(m.target());
  auto q = r.target.find('?');
  r.path = url_decode(std::string_view(r.target).substr(0, q), false);
  if (q != std::string::npos) {
    std::string_view qs = std::string_view(r.target).substr(q + 1);
    while (!qs.empty()) {
      auto amp = qs.find('&');
      auto kv = qs.substr(0, amp);
      auto eq = kv.find('=');
      if (!kv.empty())
        r.query[url_decode(kv.substr(0, eq), true)] =
            eq == std::string_view::npos ? "" : url_decode(kv.substr(eq + 1), true);
      if (amp == std::string_view::npos) break;
      qs.remove_prefix(amp + 1);
    }
  }
  for (const auto& f : m) {
    std::string name(f.name_string());
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    r.headers[name] = std::string(f.value());
  }
  r.body = m.body();
  std::string rid = r.header("x-request-id");
  bool sane = !rid.empty() && rid.size() <= 64;
  for (char c : rid) sane = sane && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_');
  r.request_id = sane ? rid : ids::make("req");
  return r;
}

Response problem_response(const Problem& p, const std::string& instance) {
  Response r = Response::json_of(p.status, p.to_json(instance));
  r.content_type = "application/problem+json";
  return r;
}

// Holds one unit of a counter (connections, requests in flight) for as long as it lives.
class Counted {
 public:
  explicit Counted(std::atomic<int>& n) : n_(&n) { ++*n_; }
  Counted(Counted&& o) noexcept : n_(std::exchange(o.n_, nullptr)) {}
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;
  Counted& operator=(Counted&&) = delete;
  ~Counted() {
    if (n_ != nullptr) --*n_;
  }

 private:
  std::atomic<int>* n_;
};

// One request handed to the worker pool, shared by the session (which stops waiting at the time budget)
// and the pool's completion (which may come later). In flight until both are done with it.
struct Call {
  Call(asio::io_context& io, std::atomic<int>& in_flight) : timer(io), counted(in_flight) {}
  asio::steady_timer timer;  // cancelled when the handler's response arrives
  Counted counted;
  bool done = false;  // on the IO thread only
  Request req;        // as the handler left it (route, principal): written on the pool, read once done
  Response res;
};

void log_exception(const char* what, std::exception_ptr ep) {
  try {
    std::rethrow_exception(ep);
  } catch (const std::exception& e) {
    log::error(what, {{"error", e.what()}});
  } catch (...) {
    log::error(what, {{"error", "unknown exception"}});
  }
}

// Runs the dispatch hook on the worker pool (a named coroutine with by-value parameters: see the GCC 12
// note in shared/BUILDING.md). `impl` keeps the server alive for a handler that outlives its session.
asio::awaitable<Response> run_on_pool(std::shared_ptr<Impl> impl, Request req, std::shared_ptr<Call> call) {
  Response res = impl->hooks.dispatch(req);
  call->req = std::move(req);
  co_return res;
}

// Runs the handler on the pool and waits for it up to the time budget. Returns false when the budget ran
// out first (the handler runs on; its response is dropped).
asio::awaitable<bool> call_handler(std::shared_ptr<Impl> impl, Request req, std::shared_ptr<Call> call) {
  asio::co_spawn(impl->pool, run_on_pool(impl, std::move(req), call),
                 asio::bind_executor(impl->io, [call](std::exception_ptr ep, Response res) {
                   if (ep) {  // dispatch must not throw; answer 500 rather than lose the request
                     log_exception("request dispatch threw", ep);
                     res = problem_response(Problem(500, "internal", "Internal error"), call->req.path);
                   }
                   call->res = std::move(res);
                   call->done = true;
                   call->timer.cancel();
                 }));
  const std::int64_t budget = impl->cfg.handler_timeout_ms;
  if (budget > 0) {
    call->timer.expires_after(std::chrono::milliseconds(budget));
  } else {
    call->timer.expires_at(asio::steady_timer::time_point::max());
  }
  while (!call->done) {
    beast::error_code ec;
    co_await call->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (!ec && !call->done) co_return false;  // expired before the response came
  }
  co_return true;
}

bhttp::response<bhttp::string_body> to_message(const Response& res, unsigned version, bool keep_alive,
                                               const std::string& request_id) {
  bhttp::response<bhttp::string_body> msg{static_cast<bhttp::status>(res.status), version};
  if (!res.content_type.empty()) msg.set(bhttp::field::content_type, res.content_type);
  msg.set(bhttp::field::server, "crowd");
  msg.set("X-Request-Id", request_id);
  for (const auto& [k, v] : res.headers) msg.set(k, v);
  msg.body() = res.body;
  msg.keep_alive(keep_alive);
  msg.prepare_payload();
  return msg;
}

// A response for a request that could not be read (too large, malformed); the connection closes after it.
asio::awaitable<void> write_early_problem(beast::tcp_stream& stream, Problem p) {
  Response res = problem_response(p, "");
  auto msg = to_message(res, 11, false, ids::make("req"));
  beast::error_code ec;
  stream.expires_after(std::chrono::seconds(5));
  co_await bhttp::async_write(stream, msg, asio::redirect_error(asio::use_awaitable, ec));
}

// A request answered without its handler (over a limit): the access log and metrics see it under `route`.
Request head_of(const Request& req, const char* route) {
  Request head;
  head.method = req.method;
  head.target = req.target;
  head.path = req.path;
  head.request_id = req.request_id;
  head.route = route;
  return head;
}

asio::awaitable<void> session(std::shared_ptr<Impl> impl, tcp::socket socket, [[maybe_unused]] Counted connection) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  bool first = true;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(impl->cfg.body_limit_bytes);
    parser.header_limit(static_cast<std::uint32_t>(impl->cfg.header_limit_bytes));
    beast::error_code ec;
    // Waiting for a request on a kept-alive connection gets the idle limit; once it starts, the header
    // and the body must arrive within the request limit.
    stream.expires_after(std::chrono::milliseconds(first ? impl->cfg.header_timeout_ms : impl->cfg.idle_timeout_ms));
    co_await bhttp::async_read_header(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
      stream.expires_after(std::chrono::milliseconds(impl->cfg.header_timeout_ms));
      co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    }
    first = false;
    if (ec == bhttp::error::body_limit) {
      co_await write_early_problem(
          stream, Problem(413, "payload-too-large", "Payload too large",
                          "the body exceeds " + std::to_string(impl->cfg.body_limit_bytes) + " bytes"));
      break;
    }
    if (ec == bhttp::error::header_limit) {
      co_await write_early_problem(
          stream, Problem(431, "headers-too-large", "Request header fields too large",
                          "the header exceeds " + std::to_string(impl->cfg.header_limit_bytes) + " bytes"));
      break;
    }
    if (ec) {
      bool parse_error = ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
                         ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
      if (parse_error) co_await write_early_problem(stream, Problem(400, "bad-request", "Malformed HTTP request"));
      break;
    }
    auto started = std::chrono::steady_clock::now();
    auto msg = parser.release();
    bool keep_alive = msg.keep_alive();
    Request req = to_request(msg);
    Request done_req;
    Response res;
    std::shared_ptr<Call> call;
    if (impl->in_flight.load() >= impl->cfg.max_in_flight) {
      done_req = head_of(req, "overloaded");
      res = problem_response(Problem(503, "overloaded", "Too many requests in flight",
                                     "the service is at its limit of " + std::to_string(impl->cfg.max_in_flight) +
                                         " requests in flight; retry shortly"),
                             req.path);
      res.headers.emplace_back("Retry-After", "1");
      if (impl->hooks.limited) impl->hooks.limited("in_flight");
    } else {
      call = std::make_shared<Call>(impl->io, impl->in_flight);
      Request head = head_of(req, "timeout");
      if (co_await call_handler(impl, std::move(req), call)) {
        done_req = std::move(call->req);
        res = std::move(call->res);
      } else {
        done_req = std::move(head);
        res = problem_response(
            Problem(504, "handler-timeout", "The request took too long",
                    "no answer within " + std::to_string(impl->cfg.handler_timeout_ms) +
                        " ms; it may still complete: retry with the same Idempotency-Key, or read before retrying"),
            done_req.path);
        log::warn("handler over its time budget",
                  {{"request_id", done_req.request_id}, {"method", done_req.method}, {"path", done_req.path}});
        if (impl->hooks.limited) impl->hooks.limited("handler_timeout");
      }
    }
    keep_alive = keep_alive && !impl->draining.load();
    auto reply = to_message(res, msg.version(), keep_alive, done_req.request_id);
    if (msg.method() == bhttp::verb::head) reply.body().clear();
    stream.expires_after(std::chrono::milliseconds(impl->cfg.header_timeout_ms));
    co_await bhttp::async_write(stream, reply, asio::redirect_error(asio::use_awaitable, ec));
    call.reset();  // no longer in flight (unless its handler still runs)
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (impl->hooks.done) impl->hooks.done(done_req, res, seconds);
    if (ec || !keep_alive) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> accept_loop(std::shared_ptr<Impl> impl) {
  for (;;) {
    beast::error_code ec;
    tcp::socket socket = co_await impl->acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (impl->draining || !impl->acceptor.is_open()) co_return;
      log::warn("accept failed", {{"error", ec.message()}});
      continue;
    }
    if (impl->connections.load() >= impl->cfg.max_connections) {
      socket.close(ec);  // over the limit: refuse rather than queue without bound
      continue;
    }
    Counted connection(impl->connections);
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(impl->io, session(impl, std::move(socket), std::move(connection)), [impl](std::exception_ptr ep) {
      if (!ep) return;
      log_exception("connection failed", ep);
      if (impl->hooks.limited) impl->hooks.limited("session_failed");
    });
  }
}

}  // namespace

Server::Server(asio::io_context& io, asio::thread_pool& pool, const config::ServiceConfig& cfg, ServerHooks hooks)
    : impl_(std::make_shared<Impl>(io, pool, cfg, std::move(hooks))) {
  tcp::endpoint ep(asio::ip::make_address(cfg.host), static_cast<unsigned short>(cfg.port));
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen(asio::socket_base::max_listen_connections);
}

Server::~Server() = default;

int Server::port() const {
  return impl_->acceptor.local_endpoint().port();
}

void Server::start() {
  asio::co_spawn(impl_->io, accept_loop(impl_), [](std::exception_ptr ep) {
    if (ep) log_exception("accept loop failed; no new connections are accepted", ep);
  });
}

void Server::drain() {
  auto impl = impl_;
  asio::post(impl->io, [impl] {
    impl->draining = true;
    beast::error_code ec;
    impl->acceptor.close(ec);
  });
}

int Server::in_flight() const {
  return impl_->in_flight.load();
}

int Server::connections() const {
  return impl_->connections.load();
}

}  // namespace crowd::http
