// The whole main() of every service: `int main(int argc, char** argv) { return crowd::service_main(argc, argv,
// crowd::NAME::spec()); }`. The spec names the service, its default port, its database options, the event
// types it publishes, and how its parts are put together (services/NAME/service.cpp).
//
//   NAME                     runs the service (migrations, then serving) until SIGTERM/SIGINT
//   NAME --describe-events   prints {service, publishes, subscribes: [{producer, type}]} as JSON and exits:
//                            nothing is migrated or served and no Redis is asked (an in-memory SQLite database
//                            stands in; the event contract test reads it against schemas/events/catalogue.json)
//
// A service that cannot start (bad configuration) says why on stderr and in the log and exits with 2.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/db.hpp"

namespace crowd {

class Service;

struct ServiceSpec {
  std::string name;
  int default_port = 0;
  db::DatabaseOptions db_options{};
  std::vector<std::string> publishes;     // event types, as in schemas/events/catalogue.json
  std::function<void(Service&)> install;  // routes, consumers, jobs, start-up steps
};

int service_main(int argc, char** argv, const ServiceSpec& spec);

}  // namespace crowd
