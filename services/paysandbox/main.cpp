// paysandbox: the sandbox payment provider (services/paysandbox/sandbox.hpp). Port 8107.
#include "common/service.hpp"
#include "services/paysandbox/sandbox.hpp"

int main() {
  crowd::Service svc("paysandbox", 8107);
  const auto settings = crowd::paysandbox::Settings::from_env();
  crowd::paysandbox::add_routes(svc.router(), svc.db(), settings);
  svc.every("decide", std::chrono::milliseconds(100), [&] { crowd::paysandbox::decide_due(svc.db(), settings); });
  svc.every("notify", std::chrono::milliseconds(100), [&] { crowd::paysandbox::deliver_due(svc.db(), settings); });
  return svc.run(crowd::db::embedded_migrations());
}
