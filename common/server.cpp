#include "common/server.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

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

// Runs the dispatch hook on the worker pool (a named coroutine with by-value parameters: see the GCC 12
// note in shared/BUILDING.md).
asio::awaitable<Response> run_on_pool(Impl* impl, Request req, std::shared_ptr<Request> out) {
  Response res = impl->hooks.dispatch(req);
  *out = std::move(req);
  co_return res;
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

asio::awaitable<void> session(std::shared_ptr<Impl> impl, tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  bool first = true;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(impl->cfg.body_limit_bytes);
    parser.header_limit(16 * 1024);
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
      co_await write_early_problem(stream, Problem(431, "headers-too-large", "Request header fields too large"));
      break;
    }
    if (ec) {
      bool parse_error = ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
                         ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
      if (parse_error) co_await write_early_problem(stream, Problem(400, "bad-request", "Malformed HTTP request"));
      break;
    }
    auto started = std::chrono::steady_clock::now();
    ++impl->in_flight;
    auto msg = parser.release();
    bool keep_alive = msg.keep_alive();
    auto out = std::make_shared<Request>();
    Response res =
        co_await asio::co_spawn(impl->pool, run_on_pool(impl.get(), to_request(msg), out), asio::use_awaitable);
    keep_alive = keep_alive && !impl->draining.load();
    auto reply = to_message(res, msg.version(), keep_alive, out->request_id);
    if (msg.method() == bhttp::verb::head) reply.body().clear();
    stream.expires_after(std::chrono::milliseconds(impl->cfg.header_timeout_ms));
    co_await bhttp::async_write(stream, reply, asio::redirect_error(asio::use_awaitable, ec));
    --impl->in_flight;
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (impl->hooks.done) impl->hooks.done(*out, res, seconds);
    if (ec || !keep_alive) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  --impl->connections;
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
    ++impl->connections;
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(impl->io, session(impl, std::move(socket)), asio::detached);
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
  asio::co_spawn(impl_->io, accept_loop(impl_), asio::detached);
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

}  // namespace crowd::http
