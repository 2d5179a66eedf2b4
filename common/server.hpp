// The HTTP/1.1 server on Beast with C++20 coroutines. Internal to the kit (service.cpp uses it): it reads
// requests on its IO thread, runs `dispatch` on the worker pool, and writes the response back.
//
// Limits (config::ServiceConfig): the header (431) and body (413) sizes; connections (refused above
// max_connections); requests in flight (read and not yet answered: above max_in_flight a 503 problem with
// Retry-After, without running the handler); the handler time budget (handler_timeout_ms: the request is
// answered 504 when its handler has not returned by then; the handler cannot be stopped mid-call, so it runs
// on to its end on its worker, its response is dropped, and it counts in flight until it ends, which keeps a
// stuck dependency from taking more than max_in_flight workers' worth of requests). An exception escaping a
// connection's coroutine is logged; the connection and in-flight counters are RAII guards, never leaked.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/config.hpp"
#include "common/http.hpp"

namespace boost::asio {
class io_context;
class thread_pool;
}  // namespace boost::asio

namespace crowd::http {

struct ServerHooks {
  // Runs on the worker pool: routing, authorisation, the handler, problems. Must not throw.
  std::function<Response(Request&)> dispatch;
  // Runs on the IO thread after the response is written (access log, metrics).
  std::function<void(const Request&, const Response&, double seconds)> done;
  // Runs on the IO thread when a limit answered for the handler: "in_flight" (503, shed before the
  // handler ran), "handler_timeout" (504, the handler still running), "session_failed" (an exception
  // escaped a connection's coroutine; logged). For metrics.
  std::function<void(std::string_view what)> limited;
};

class Server {
 public:
  Server(boost::asio::io_context& io, boost::asio::thread_pool& pool, const config::ServiceConfig& cfg,
         ServerHooks hooks);
  ~Server();
  int port() const;  // the bound port (useful when configured as 0)
  void start();
  // Stops accepting; responses in flight finish and their connections close. Returns immediately.
  void drain();
  int in_flight() const;    // requests read and not answered, and handlers still running past their budget
  int connections() const;  // open connections

  struct Impl;  // public so the coroutines in server.cpp can name it; defined only there

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace crowd::http
