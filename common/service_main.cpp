#include "common/service_main.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>

#include "common/log.hpp"
#include "common/service.hpp"

namespace crowd {

namespace {

// --describe-events builds the service without its real database or secrets: nothing is written anywhere.
void describe_mode_environment() {
  ::setenv("CROWD_DB_URL", "sqlite3://db=:memory:", 1);
  ::setenv("CROWD_LOG_LEVEL", "error", 1);
  ::setenv("CROWD_WORKERS", "1", 1);
  if (const char* s = std::getenv("CROWD_TOKEN_SECRET"); s == nullptr || std::string(s).size() < 32) {
    ::setenv("CROWD_TOKEN_SECRET", "describe-events-only-not-a-secret-0123456789", 1);
  }
}

}  // namespace

int service_main(int argc, char** argv, const ServiceSpec& spec) {
  bool describe = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--describe-events") {
      describe = true;
    } else {
      std::fprintf(stderr, "usage: %s [--describe-events]\n", spec.name.c_str());
      return arg == "--help" || arg == "-h" ? 0 : 2;
    }
  }
  try {
    if (describe) describe_mode_environment();
    Service svc(spec.name, spec.default_port, spec.db_options);
    svc.publishes(spec.publishes);
    spec.install(svc);
    if (describe) {
      std::cout << svc.describe_events().dump(2) << '\n';
      return 0;
    }
    return svc.run(db::embedded_migrations());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: refusing to start: %s\n", spec.name.c_str(), e.what());
    log::error("refusing to start", {{"error", e.what()}});
    return 2;
  }
}

}  // namespace crowd
