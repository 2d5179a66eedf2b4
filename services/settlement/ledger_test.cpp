// The ledger's pure checks, then transfer() against a real (temporary SQLite) database.
#include "services/settlement/ledger.hpp"

#include <doctest/doctest.h>
#include <soci/soci.h>

#include "services/settlement/test_db.hpp"

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
  TestDb t;
  t.db.tx([](soci::session& s) {
    CHECK(transfer(s, "dep:ent_1:k1", kClearing, "ent:ent_1:available", 1'000, "deposit", "dep_1") == Applied::applied);
    CHECK(transfer(s, "dep:ent_1:k1", kClearing, "ent:ent_1:available", 1'000, "deposit", "dep_1") ==
          Applied::duplicate);
    CHECK(transfer(s, "hold:tsk_1", "ent:ent_1:available", "task:tsk_1:escrow", 600, "escrow_hold", "tsk_1") ==
          Applied::applied);
  });
  t.db.with([](soci::session& s) {
    CHECK(balance_of(s, kClearing) == -1'000);
    CHECK(balance_of(s, "ent:ent_1:available") == 400);
    CHECK(balance_of(s, "task:tsk_1:escrow") == 600);
    CHECK(balance_of(s, "wkr:nobody:payable") == 0);
    CHECK(TestDb::sum_of_balances(s) == 0);
  });
}

TEST_CASE("transfer: an id reused for another effect is a programmer error") {
  TestDb t;
  t.db.tx(
      [](soci::session& s) { transfer(s, "dep:ent_1:k1", kClearing, "ent:ent_1:available", 1'000, "deposit", "d"); });
  CHECK_THROWS_AS(t.db.tx([](soci::session& s) {
    transfer(s, "dep:ent_1:k1", kClearing, "ent:ent_1:available", 999, "deposit", "d");
  }),
                  std::logic_error);
}

TEST_CASE("transfer: an overdraft fails and the whole transaction rolls back") {
  TestDb t;
  t.db.tx([](soci::session& s) { transfer(s, "dep:ent_1:k1", kClearing, "ent:ent_1:available", 500, "deposit", "d"); });
  CHECK_THROWS_AS(t.db.tx([](soci::session& s) {
    transfer(s, "dep:ent_1:k2", kClearing, "ent:ent_1:available", 100, "deposit", "d2");  // applied, then undone
    transfer(s, "hold:tsk_1", "ent:ent_1:available", "task:tsk_1:escrow", 601, "escrow_hold", "tsk_1");
  }),
                  InsufficientFunds);
  t.db.with([&](soci::session& s) {
    CHECK(balance_of(s, "ent:ent_1:available") == 500);
    CHECK(balance_of(s, "task:tsk_1:escrow") == 0);
    CHECK(TestDb::count(s, "SELECT COUNT(*) FROM transfers") == 1);
    CHECK(TestDb::sum_of_balances(s) == 0);
  });
}

TEST_CASE("transfer: an account opened by a rolled-back savepoint or transaction is opened again") {
  // transfer() remembers per session the accounts it has seen committed: one that this transaction opened
  // (and may still roll back) must never be remembered.
  TestDb t;
  t.db.tx(
      [](soci::session& s) { transfer(s, "dep:ent_1:k1", kClearing, "ent:ent_1:available", 1'000, "deposit", "d"); });
  t.db.tx([](soci::session& s) {
    s << "SAVEPOINT sp";
    transfer(s, "t:1", "ent:ent_1:available", "wkr:w_1:payable", 100, "settlement_net", "r");
    transfer(s, "t:2", "ent:ent_1:available", "wkr:w_1:payable", 100, "settlement_net", "r");  // found, not known
    s << "ROLLBACK TO SAVEPOINT sp";
    s << "RELEASE SAVEPOINT sp";
    transfer(s, "t:3", "ent:ent_1:available", "wkr:w_1:payable", 100, "settlement_net", "r");
  });
  CHECK_THROWS_AS(t.db.tx([](soci::session& s) {
    transfer(s, "t:4", "ent:ent_1:available", "wkr:w_2:payable", 100, "settlement_net", "r");
    transfer(s, "t:5", "ent:ent_1:available", "wkr:w_2:payable", 100, "settlement_net", "r");
    throw std::runtime_error("rolled back");
  }),
                  std::runtime_error);
  t.db.tx([](soci::session& s) {
    transfer(s, "t:6", "ent:ent_1:available", "wkr:w_2:payable", 100, "settlement_net", "r");
    transfer(s, "t:7", "ent:ent_1:available", "wkr:w_1:payable", 100, "settlement_net", "r");  // known now
  });
  t.db.with([](soci::session& s) {
    CHECK(balance_of(s, "wkr:w_1:payable") == 200);
    CHECK(balance_of(s, "wkr:w_2:payable") == 100);
    CHECK(balance_of(s, "ent:ent_1:available") == 700);
    CHECK(TestDb::sum_of_balances(s) == 0);
  });
}

TEST_CASE("transfer: invalid specs never reach the database") {
  TestDb t;
  CHECK_THROWS_AS(t.db.tx([](soci::session& s) { transfer(s, "x", kClearing, "ent:e:available", 0, "deposit", "r"); }),
                  std::logic_error);
  CHECK_THROWS_AS(t.db.tx([](soci::session& s) { transfer(s, "x", kClearing, "bogus", 5, "deposit", "r"); }),
                  std::logic_error);
}

TEST_CASE("the schema itself refuses a negative balance and a non-positive transfer") {
  TestDb t;
  t.db.tx([](soci::session& s) { transfer(s, "dep:ent_1:k1", kClearing, "ent:ent_1:available", 5, "deposit", "d"); });
  CHECK_THROWS(
      t.db.tx([](soci::session& s) { s << "UPDATE accounts SET balance_fen = -1 WHERE id = 'ent:ent_1:available'"; }));
  CHECK_THROWS(t.db.tx([](soci::session& s) {
    s << "INSERT INTO transfers (id, debit_account, credit_account, amount_fen, currency, kind, ref, created_at_ms) "
         "VALUES ('z', 'external:clearing', 'ent:ent_1:available', 0, 'CNY', 'deposit', 'r', 0)";
  }));
}
