// Crash points for fault-injection tests. In builds with CROWD_TEST_HOOKS, when the environment variable
// CROWD_CRASH_AT names this point, the process kills itself with SIGKILL here, after CROWD_CRASH_AFTER
// earlier passes. Release builds compile it to nothing that fires.
#pragma once

namespace crowd {

void crash_point(const char* name);

}  // namespace crowd
