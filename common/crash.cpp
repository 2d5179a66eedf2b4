#include "common/crash.hpp"

#include <atomic>
#include <csignal>
#include <cstdint>
#include <iostream>
#include <string>

#include "common/config.hpp"

namespace crowd {

void crash_point(const char* name) {
#ifdef CROWD_TEST_HOOKS
  static const std::string target = config::env_str("CROWD_CRASH_AT", "");
  if (target.empty() || target != name) return;
  static std::atomic<std::int64_t> remaining{config::env_int("CROWD_CRASH_AFTER", 0)};
  if (remaining.fetch_sub(1) > 0) return;
  std::cerr << "crash point " << name << ": SIGKILL" << std::endl;
  std::raise(SIGKILL);
#else
  (void)name;
#endif
}

}  // namespace crowd
