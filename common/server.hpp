// The HTTP/1.1 server on Beast with C++20 coroutines. Internal to the kit (service.cpp uses it): it reads
// requests on its IO thread, runs `dispatch` on the worker pool, and writes the response back.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

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
  int in_flight() const;

  struct Impl;  // public so the coroutines in server.cpp can name it; defined only there

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace crowd::http
