// Test support for settlement's tests: its database is the kit's one fixture (common/testing/service_db.hpp:
// SQLite in a fresh temp folder, or PostgreSQL when CROWD_TEST_PG_URL is set, whose public schema is dropped
// and re-created for every test: point it at a throwaway database only), migrated with settlement's real
// migrations (the test binary links the same generated migrations file as the service), plus settlement's
// own small helpers.
#pragma once

#include <soci/soci.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "common/auth.hpp"
#include "common/db.hpp"
#include "common/events.hpp"
#include "common/testing/service_db.hpp"
#include "services/settlement/model.hpp"

namespace crowd::settlement {

// crowd::testing::ServiceDb with settlement's migrations, publishing as settlement.
class SettlementDb : public crowd::testing::ServiceDb {
 public:
  SettlementDb() : ServiceDb(db::embedded_migrations()) { events::set_producer("settlement"); }
};

// A caller of the API as the token would name it.
inline auth::Principal as(const std::string& id, auth::Role role) {
  return auth::Principal{id, role, 0, 0};
}

// The callers most tests use.
inline const auth::Principal kEnt = as("ent_1", auth::Role::enterprise);
inline const auth::Principal kWorker = as("wkr_1", auth::Role::worker);
inline const auth::Principal kOperator = as("op_1", auth::Role::operator_);

// A held escrow of task tsk_1 of ent_1 (rd_design), nothing settled or released.
inline EscrowState held_escrow(std::int64_t pay_per_unit_fen = 10'000, std::int64_t units = 5) {
  EscrowState e;
  e.task_id = "tsk_1";
  e.enterprise_id = "ent_1";
  e.category = "rd_design";
  e.status = EscrowStatus::held;
  e.pay_per_unit_fen = pay_per_unit_fen;
  e.units_total = units;
  e.held_fen = pay_per_unit_fen * units;
  return e;
}

// The sum of every account's balance: 0 in a double-entry ledger.
inline std::int64_t sum_of_balances(soci::session& s) {
  return crowd::testing::ServiceDb::count(s, "SELECT COALESCE(SUM(balance_fen), 0) FROM accounts");
}

// A fresh empty file in the temp folder (the simulation's SQLite copies).
inline std::string make_temp_db_path() {
  std::string pattern = (std::filesystem::temp_directory_path() / "settlement_test_XXXXXX").string();
  const int fd = ::mkstemp(pattern.data());
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  ::close(fd);
  return pattern;
}

}  // namespace crowd::settlement
