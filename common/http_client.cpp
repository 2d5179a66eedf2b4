#include "common/http_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <exception>

namespace crowd::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

BaseUrl parse_base_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0) throw std::invalid_argument("base URL must start with http://");
  std::string rest = url.substr(scheme.size());
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty() || rest.find('/') != std::string::npos)
    throw std::invalid_argument("base URL has no host or has a path");
  BaseUrl b;
  const auto colon = rest.rfind(':');
  b.host = colon == std::string::npos ? rest : rest.substr(0, colon);
  b.port = colon == std::string::npos ? "80" : rest.substr(colon + 1);
  if (b.host.empty() || b.port.empty()) throw std::invalid_argument("base URL has an empty host or port");
  for (char c : b.port) {
    if (!std::isdigit(static_cast<unsigned char>(c))) throw std::invalid_argument("base URL port is not a number");
  }
  return b;
}

namespace {

struct Outcome {
  ClientResponse response;
  std::exception_ptr error;
};

// One exchange. The stage flips to maybe_sent just before the first byte is written.
asio::awaitable<void> exchange(BaseUrl base, ClientRequest req, Outcome* out) {
  auto stage = TransportError::Stage::not_sent;
  try {
    auto ex = co_await asio::this_coro::executor;
    tcp::resolver resolver(ex);
    beast::tcp_stream stream(ex);
    stream.expires_after(req.timeout);
    const auto endpoints = co_await resolver.async_resolve(base.host, base.port, asio::use_awaitable);
    co_await stream.async_connect(endpoints, asio::use_awaitable);

    bhttp::request<bhttp::string_body> m{bhttp::string_to_verb(req.method), req.target, 11};
    m.set(bhttp::field::host, base.host + ":" + base.port);
    m.set(bhttp::field::user_agent, "crowd-backend");
    m.set(bhttp::field::connection, "close");
    for (const auto& [k, v] : req.headers) m.set(k, v);
    if (!req.body.empty()) {
      m.set(bhttp::field::content_type, "application/json");
      m.body() = req.body;
    }
    m.prepare_payload();
    stage = TransportError::Stage::maybe_sent;
    co_await bhttp::async_write(stream, m, asio::use_awaitable);

    beast::flat_buffer buf;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(8 * 1024 * 1024);
    co_await bhttp::async_read(stream, buf, parser, asio::use_awaitable);
    auto& res = parser.get();
    out->response.status = static_cast<int>(res.result_int());
    for (const auto& h : res) {
      std::string name(h.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out->response.headers[name] = std::string(h.value());
    }
    out->response.body = std::move(res.body());
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  } catch (const std::exception& e) {
    out->error = std::make_exception_ptr(
        TransportError(stage, std::string("http ") + req.method + " " + req.target + ": " + e.what()));
  }
}

}  // namespace

ClientResponse fetch(const BaseUrl& base, const ClientRequest& req) {
  asio::io_context io;
  Outcome out;
  // exchange() turns what it throws into out.error; anything else escaping it is not dropped either.
  asio::co_spawn(io, exchange(base, req, &out), [&out](std::exception_ptr ep) {
    if (ep && !out.error) out.error = ep;
  });
  io.run();
  if (out.error) std::rethrow_exception(out.error);
  return out.response;
}

}  // namespace crowd::http
