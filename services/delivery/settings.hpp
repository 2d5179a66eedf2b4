// Configuration of the delivery service.
#pragma once

#include <cstdint>

namespace crowd::delivery {

struct Settings {
  int max_revisions = 3;                                  // CROWD_MAX_REVISIONS (0..100)
  int auto_accept_batch = 100;                            // due submissions accepted per job run
  std::int64_t assignment_grace_ms = 24LL * 3600 * 1000;  // CROWD_ASSIGNMENT_GRACE_S [86400] (0..30 days):
                                                          // an assignment expires this long after its deadline
  int expire_batch = 100;                                 // assignments expired per job run
  static Settings from_env();                             // throws std::invalid_argument on bad values
};

}  // namespace crowd::delivery
