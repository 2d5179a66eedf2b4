// Who may see which delivery object. Pure: decided from the caller's principal and the parties of the
// assignment, so handlers share one rule and it is tested without a database.
#pragma once

#include <string>

#include "common/auth.hpp"

namespace crowd::delivery {

// The assigned worker, the enterprise that owns the task, or any operator. Others get 404 from the
// handlers (not 403), so ids of other parties' work do not leak.
inline bool can_view(const auth::Principal& p, const std::string& worker_id, const std::string& enterprise_id) {
  switch (p.role) {
    case auth::Role::worker:
      return p.party_id == worker_id;
    case auth::Role::enterprise:
      return p.party_id == enterprise_id;
    case auth::Role::operator_:
      return true;
    case auth::Role::integration:
      return false;
  }
  return false;
}

// Only the assigned worker submits; only the enterprise of the assignment reviews.
inline bool is_assigned_worker(const auth::Principal& p, const std::string& worker_id) {
  return p.role == auth::Role::worker && p.party_id == worker_id;
}
inline bool is_owning_enterprise(const auth::Principal& p, const std::string& enterprise_id) {
  return p.role == auth::Role::enterprise && p.party_id == enterprise_id;
}

}  // namespace crowd::delivery
