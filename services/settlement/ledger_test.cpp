// The ledger's pure checks, then transfer() against a real (temporary SQLite) database.
#include "services/settlement/ledger.hpp"
#include "common/invariant.hpp"

#include <doctest/doctest.h>
#include <soci/soci.h>

#include "common/db.hpp"
#include "services/settlement/test_support.hpp"

using namespace crowd::settlement;

TEST_CASE("account ids follow the naming scheme") {
  CHECK(enterprise_available("ent_1") == "ent:ent_1:available");
  CHECK(task_escrow("tsk_1") == "task:tsk_1:escrow");
  CHECK(worker_payable("wkr_1") == "wkr:wkr_1:payable");
  CHECK_THROWS_AS(enterprise_available(""), std::invalid_argument);
  CHECK_THROWS_AS(task_escrow("a:b"), std::invalid_argument);
  CHECK(account_kind("ent:ent_1:available") == "enterprise_available");
  CHECK(account_kind("task:tsk_1:escrow") == "task_escrow");
  CHECK(account_kind("wkr:wkr_1:payable") == "worker_payable");
  CHECK(account_kind(kFeeRevenue) == "platform_fee_revenue");
  CHECK(account_kind(kIitPayable) == "platform_iit_payable");
  CHECK(account_kind(kClearing) == "external_clearing");
  CHECK_FALSE(account_kind("ent::available"));
  CHECK_FALSE(account_kind("ent:a:b:available"));
  CHECK_FALSE(account_kind("wkr:wkr_1:available"));
  CHECK_FALSE(account_kind("platform:other"));
  CHECK(may_go_negative(kClearing));
  CHECK_FALSE(may_go_negative("ent:ent_1:available"));
}

TEST_CASE("pair assertions on one transfer") {
  TransferSpec t{"dep:ent_1:k", kClearing, "ent:ent_1:available", 100, "CNY", "deposit", "dep_1"};
  CHECK_FALSE(transfer_problem(t));
  auto bad = t;
  bad.amount_fen = 0;
  CHECK(transfer_problem(bad));
  bad = t;
  bad.amount_fen = -1;
  CHECK(transfer_problem(bad));
  bad = t;
  bad.credit_account = kClearing;
  CHECK(transfer_problem(bad));
  bad = t;
  bad.debit_account = "nowhere";
  CHECK(transfer_problem(bad));
  bad = t;
  bad.currency = "USD";
  CHECK(transfer_problem(bad));
  bad = t;
  bad.id.clear();
  CHECK(transfer_problem(bad));
}

TEST_CASE("linked legs must all leave one account and add up") {
  std::vector<TransferSpec> legs{{"a", "task:t:escrow", kFeeRevenue, 10, "CNY", "settlement_fee", "s"},
                                 {"b", "task:t:escrow", "wkr:w:payable", 90, "CNY", "settlement_net", "s"}};
  CHECK_FALSE(legs_problem(legs, "task:t:escrow", 100));
  CHECK(legs_problem(legs, "task:t:escrow", 99));
  CHECK(legs_problem(legs, "task:u:escrow", 100));
  legs[1].amount_fen = 0;
  CHECK(legs_problem(legs, "task:t:escrow", 10));
}

TEST_CASE("checked_mul refuses overflow") {
  CHECK(checked_mul(3, 4) == 12);
  CHECK_FALSE(checked_mul(INT64_MAX, 2));
  CHECK_FALSE(checked_mul(-1, 2));
}

TEST_CASE("transfer: applied once, a replay is a no-op, balances sum to zero") {
  SettlementDb t;
  t.db().tx([](soci::session& s) {
    CHECK(transfer(s, "dep:ent_1:k1", kClearing, "ent:ent_1:available", 1'000, "deposit", "dep_1") == Applied::applied);
    CHECK(transfer(s, "dep:ent_1:k1", kClearing, "ent:ent_1:available", 1'000, "deposit", "dep_1") ==
          Applied::duplicate);
    CHECK(transfer(s, "hold:tsk_1", "ent:ent_1:available", "task:tsk_1:escrow", 600, "escrow_hold", "tsk_1") ==
          Applied::applied);
  });
  t.db().with([](soci::session& s) {
    CHECK(balance_of(s, kClearing) == -1'000);
    CHECK(balance_of(s, "ent:ent_1:available") == 400);
    CHECK(balance_of(s, "task:tsk_1:escrow") == 600);
    CHECK(balance_of(s, "wkr:nobody:payable") == 0);
    CHECK(sum_of_balances(s) == 0);
  });
}

TEST_CASE("transfer: an id reused for another effect is a programmer error") {
  SettlementDb t;
  t.db().tx(
      [](soci::session& s) { transfer(s, "dep:ent_1:k1", kClearing, "ent:ent_1:available", 1'000, "deposit", "d"); });
  CHECK_THROWS_AS(t.db().tx([](soci::session& s) {
    transfer(s, "dep:ent_1:k1", kClearing, "ent:ent_1:available", 999, "deposit", "d");
  }),
                  crowd::InvariantBroken);
}

TEST_CASE("transfer: an overdraft fails and the whole transaction rolls back") {
  SettlementDb t;
  t.db().tx(
      [](soci::session& s) { transfer(s, "dep:ent_1:k1", kClearing, "ent:ent_1:available", 500, "deposit", "d"); });
  CHECK_THROWS_AS(t.db().tx([](soci::session& s) {
    transfer(s, "dep:ent_1:k2", kClearing, "ent:ent_1:available", 100, "deposit", "d2");  // applied, then undone
    transfer(s, "hold:tsk_1", "ent:ent_1:available", "task:tsk_1:escrow", 601, "escrow_hold", "tsk_1");
  }),
                  InsufficientFunds);
  t.db().with([&](soci::session& s) {
    CHECK(balance_of(s, "ent:ent_1:available") == 500);
    CHECK(balance_of(s, "task:tsk_1:escrow") == 0);
    CHECK(crowd::testing::ServiceDb::count(s, "SELECT COUNT(*) FROM transfers") == 1);
    CHECK(sum_of_balances(s) == 0);
  });
}

TEST_CASE("transfer: an account opened by a rolled-back savepoint or transaction is opened again") {
  // transfer() remembers per session the accounts it has seen committed: one that this transaction opened
  // (and may still roll back) must never be remembered.
  SettlementDb t;
  t.db().tx(
      [](soci::session& s) { transfer(s, "dep:ent_1:k1", kClearing, "ent:ent_1:available", 1'000, "deposit", "d"); });
  t.db().tx([](soci::session& s) {
    s << "SAVEPOINT sp";
    transfer(s, "t:1", "ent:ent_1:available", "wkr:w_1:payable", 100, "settlement_net", "r");
    transfer(s, "t:2", "ent:ent_1:available", "wkr:w_1:payable", 100, "settlement_net", "r");  // found, not known
    s << "ROLLBACK TO SAVEPOINT sp";
    s << "RELEASE SAVEPOINT sp";
    transfer(s, "t:3", "ent:ent_1:available", "wkr:w_1:payable", 100, "settlement_net", "r");
  });
  CHECK_THROWS_AS(t.db().tx([](soci::session& s) {
    transfer(s, "t:4", "ent:ent_1:available", "wkr:w_2:payable", 100, "settlement_net", "r");
    transfer(s, "t:5", "ent:ent_1:available", "wkr:w_2:payable", 100, "settlement_net", "r");
    throw std::runtime_error("rolled back");
  }),
                  std::runtime_error);
  t.db().tx([](soci::session& s) {
    transfer(s, "t:6", "ent:ent_1:available", "wkr:w_2:payable", 100, "settlement_net", "r");
    transfer(s, "t:7", "ent:ent_1:available", "wkr:w_1:payable", 100, "settlement_net", "r");  // known now
  });
  t.db().with([](soci::session& s) {
    CHECK(balance_of(s, "wkr:w_1:payable") == 200);
    CHECK(balance_of(s, "wkr:w_2:payable") == 100);
    CHECK(balance_of(s, "ent:ent_1:available") == 700);
    CHECK(sum_of_balances(s) == 0);
  });
}

TEST_CASE("transfer: invalid specs never reach the database") {
  SettlementDb t;
  CHECK_THROWS_AS(
      t.db().tx([](soci::session& s) { transfer(s, "x", kClearing, "ent:e:available", 0, "deposit", "r"); }),
      std::logic_error);
  CHECK_THROWS_AS(t.db().tx([](soci::session& s) { transfer(s, "x", kClearing, "bogus", 5, "deposit", "r"); }),
                  std::logic_error);
}

TEST_CASE("the schema itself refuses a negative balance and a non-positive transfer") {
  SettlementDb t;
  t.db().tx([](soci::session& s) { transfer(s, "dep:ent_1:k1", kClearing, "ent:ent_1:available", 5, "deposit", "d"); });
  CHECK_THROWS(t.db().tx(
      [](soci::session& s) { s << "UPDATE accounts SET balance_fen = -1 WHERE id = 'ent:ent_1:available'"; }));
  CHECK_THROWS(t.db().tx([](soci::session& s) {
    s << "INSERT INTO transfers (id, debit_account, credit_account, amount_fen, currency, kind, ref, created_at_ms) "
         "VALUES ('z', 'external:clearing', 'ent:ent_1:available', 0, 'CNY', 'deposit', 'r', 0)";
  }));
}

namespace {

// A task escrow of 10,000 fen with one assignment reserving it, as two-phase escrow leaves it.
void reserved_assignment(soci::session& s) {
  transfer(s, "dep:ent_1:k1", kClearing, "ent:ent_1:available", 10'000, "deposit", "d");
  transfer(s, "hold:tsk_1", "ent:ent_1:available", "task:tsk_1:escrow", 10'000, "escrow_hold", "tsk_1");
  transfer(s, "rsv:asg_1", "task:tsk_1:escrow", "asg:asg_1:reserved", 10'000, "escrow_reserve", "tsk_1");
}

std::vector<TransferSpec> legs_of(std::int64_t fee, std::int64_t iit, std::int64_t net) {
  std::vector<TransferSpec> legs;
  const auto add = [&](const char* part, const std::string& to, std::int64_t amount, const char* kind) {
    TransferSpec t;
    t.id = std::string("stl:asg_1:") + part;
    t.debit_account = "asg:asg_1:reserved";
    t.credit_account = to;
    t.amount_fen = amount;
    t.kind = kind;
    t.ref = "stl_1";
    legs.push_back(t);
  };
  add("fee", kFeeRevenue, fee, "settlement_fee");
  add("iit", kIitPayable, iit, "settlement_iit");
  add("net", "wkr:w_1:payable", net, "settlement_net");
  return legs;
}

}  // namespace

TEST_CASE("post_legs: the legs are written together, their account debited once for their sum") {
  SettlementDb t;
  std::vector<std::string> seen;
  t.db().tx([&](soci::session& s) {
    reserved_assignment(s);
    CHECK(post_legs(s, legs_of(2'000, 300, 7'700), 10'000,
                    [&](const TransferSpec& leg) { seen.push_back(leg.kind); }) == Applied::applied);
    // The platform's credits wait for the commit, but a read of the account sees them.
    CHECK(balance_of(s, kFeeRevenue) == 2'000);
    CHECK(balance_of(s, "asg:asg_1:reserved") == 0);
  });
  CHECK(seen == std::vector<std::string>{"settlement_fee", "settlement_iit", "settlement_net"});
  t.db().with([](soci::session& s) {
    CHECK(balance_of(s, kFeeRevenue) == 2'000);
    CHECK(balance_of(s, kIitPayable) == 300);
    CHECK(balance_of(s, "wkr:w_1:payable") == 7'700);
    CHECK(balance_of(s, "asg:asg_1:reserved") == 0);
    CHECK(crowd::testing::ServiceDb::count(s, "SELECT COUNT(*) FROM transfers WHERE id LIKE 'stl:asg_1:%'") == 3);
    CHECK(sum_of_balances(s) == 0);
  });
  // Again: the first leg is found, nothing more is written.
  t.db().tx([](soci::session& s) { CHECK(post_legs(s, legs_of(2'000, 300, 7'700), 10'000) == Applied::duplicate); });
  t.db().with([](soci::session& s) { CHECK(balance_of(s, kFeeRevenue) == 2'000); });
}

TEST_CASE("post_legs: more than the account holds rolls back every leg, the deferred credits too") {
  SettlementDb t;
  t.db().tx([](soci::session& s) { reserved_assignment(s); });
  CHECK_THROWS_AS(t.db().tx([](soci::session& s) { post_legs(s, legs_of(2'000, 300, 7'701), 10'001); }),
                  InsufficientFunds);
  t.db().with([](soci::session& s) {
    CHECK(balance_of(s, kFeeRevenue) == 0);
    CHECK(balance_of(s, kIitPayable) == 0);
    CHECK(balance_of(s, "asg:asg_1:reserved") == 10'000);
    CHECK(crowd::testing::ServiceDb::count(s, "SELECT COUNT(*) FROM transfers WHERE id LIKE 'stl:%'") == 0);
    CHECK(sum_of_balances(s) == 0);
  });
  // Legs that do not leave one account, or add up to nothing: a programmer error, nothing written.
  auto mixed = legs_of(2'000, 300, 7'700);
  mixed[1].debit_account = "task:tsk_1:escrow";
  CHECK_THROWS_AS(t.db().tx([&](soci::session& s) { post_legs(s, mixed, 10'000); }), std::logic_error);
  CHECK_THROWS_AS(t.db().tx([&](soci::session& s) { post_legs(s, {}, 0); }), std::logic_error);
  // Legs that do not add up to the amount they split.
  CHECK_THROWS_AS(t.db().tx([&](soci::session& s) { post_legs(s, legs_of(2'000, 300, 7'700), 9'999); }),
                  std::logic_error);
  t.db().with([](soci::session& s) { CHECK(balance_of(s, "asg:asg_1:reserved") == 10'000); });
}

TEST_CASE("post_legs: deferred platform credits follow savepoints as the event kit uses them") {
  SettlementDb t;
  t.db().tx([](soci::session& s) { reserved_assignment(s); });
  t.db().tx([](soci::session& s) {
    // An event that fails after its legs: its deferred credits are dropped with its savepoint.
    crowd::db::savepoint(s);
    post_legs(s, legs_of(2'000, 300, 7'700), 10'000);
    crowd::db::rollback_to_savepoint(s);
    // The next one succeeds: written inside its savepoint, before it is released.
    crowd::db::savepoint(s);
    post_legs(s, legs_of(1'000, 500, 8'500), 10'000);
    crowd::db::release_savepoint(s);
    // A debit of a platform account in the same transaction sees its credits first.
    transfer(s, "iit:remit:1", kIitPayable, kClearing, 500, "iit_remittance", "x");
  });
  t.db().with([](soci::session& s) {
    CHECK(balance_of(s, kFeeRevenue) == 1'000);
    CHECK(balance_of(s, kIitPayable) == 0);
    CHECK(balance_of(s, "wkr:w_1:payable") == 8'500);
    CHECK(sum_of_balances(s) == 0);
  });
}
