// Two-phase escrow per assignment and split rulings, through the real consumers on a temporary database:
// reserve / post / void in every order the streams can deliver them, cancels that may only take unreserved
// money, contradictions refused, rulings (0 %, 100 %, a split; tax on the share), and the ledger check after
// every step.
#include <doctest/doctest.h>
#include <soci/soci.h>

#include "common/clock.hpp"
#include "common/ids.hpp"
#include "services/settlement/api.hpp"
#include "services/settlement/consumers.hpp"
#include "services/settlement/fees.hpp"
#include "services/settlement/iit.hpp"
#include "services/settlement/ledger.hpp"
#include "services/settlement/test_support.hpp"

using namespace crowd;
using namespace crowd::settlement;
using nlohmann::json;

namespace {

using Handler = void (*)(soci::session&, const events::Event&);

constexpr std::int64_t kPay = 1'000'000;  // 10,000.00 yuan a unit: enough for IIT to be withheld

struct World {
  SettlementDb t;

  explicit World(std::int64_t units = 3, const std::string& task = "tsk_a") {
    http::Request r;
    r.principal = auth::Principal{"ent_1", auth::Role::enterprise, 0, 0};
    r.headers["idempotency-key"] = "k1";
    r.body = json{{"amount", {{"amount_fen", 100 * kPay}, {"currency", "CNY"}}}}.dump();
    REQUIRE(post_deposit(t.db(), r).status == 201);
    hold(task, units);
  }

  void hold(const std::string& task, std::int64_t units) {
    deliver("task.created",
            {{"task_id", task},
             {"enterprise_id", "ent_1"},
             {"category", "rd_design"},
             {"mode", "piecework"},
             {"units", units},
             {"pay_per_unit_fen", kPay},
             {"budget_fen", units * kPay},
             {"currency", "CNY"},
             {"title", "Gear drawings"}},
            on_task_created);
  }

  void deliver(const std::string& type, const json& data, Handler handler) {
    events::Event e;
    e.id = ids::make("evt");
    e.type = type;
    e.key = data.value("assignment_id", data.value("task_id", ""));
    e.data = data;
    t.db().tx([&](soci::session& s) { handler(s, e); });
  }

  // Delivers and expects a refusal (or a wait for an earlier event: retried by the kit, not dead-lettered);
  // nothing of the event may stay (the transaction rolled back).
  void refused(const std::string& type, const json& data, Handler handler) {
    bool refusal = false;
    try {
      deliver(type, data, handler);
    } catch (const std::exception& ex) {
      refusal = events::is_refusal(ex) || dynamic_cast<const WaitingForEvent*>(&ex) != nullptr;
      if (!refusal) FAIL_CHECK("not a refusal: " << ex.what());
    }
    CHECK_MESSAGE(refusal, type << " " << data.dump() << " was not refused");
  }

  std::int64_t balance(const std::string& account) {
    return t.db().with([&](soci::session& s) { return balance_of(s, account); });
  }
  bool has_transfer(const std::string& id) {
    return t.db().with([&](soci::session& s) { return transfer_exists(s, id); });
  }
  std::optional<Reservation> reservation(const std::string& asg) {
    return t.db().with([&](soci::session& s) { return load_reservation(s, asg); });
  }
  EscrowState escrow(const std::string& task = "tsk_a") {
    return *t.db().with([&](soci::session& s) { return load_escrow(s, task); });
  }
  std::int64_t count(const std::string& sql) {
    return t.db().with([&](soci::session& s) { return crowd::testing::ServiceDb::count(s, sql); });
  }
  std::vector<json> published(const std::string& type) { return t.published(type); }
  void check_ok() {
    http::Request r;
    r.principal = auth::Principal{"op_1", auth::Role::operator_, 0, 0};
    const json c = json::parse(get_ledger_check(t.db(), r).body);
    CHECK_MESSAGE(c["ok"] == true, c.dump());
  }
};

json created(const std::string& asg, const std::string& task = "tsk_a", std::int64_t units = 1,
             const std::string& worker = "wkr_1", const std::string& enterprise = "ent_1") {
  return {{"assignment_id", asg}, {"offer_id", "ofr_" + asg}, {"task_id", task},          {"enterprise_id", enterprise},
          {"worker_id", worker},  {"units", units},           {"pay_per_unit_fen", kPay}, {"amount_fen", units * kPay},
          {"currency", "CNY"},    {"category", "rd_design"},  {"title", "Gear drawings"}, {"review_window_s", 86'400},
          {"deadline_ms", 0}};
}

json accepted(const std::string& asg, const std::string& task = "tsk_a", std::int64_t units = 1,
              const std::string& worker = "wkr_1") {
  return {{"submission_id", "sub_" + asg}, {"assignment_id", asg}, {"task_id", task},
          {"enterprise_id", "ent_1"},      {"worker_id", worker},  {"units", units},
          {"amount_fen", units * kPay},    {"currency", "CNY"},    {"category", "rd_design"},
          {"title", "Gear drawings"},      {"automatic", false},   {"accepted_at_ms", clock::now_ms()}};
}

json rejected(const std::string& asg, const std::string& task = "tsk_a", std::int64_t units = 1) {
  return {{"submission_id", "sub_" + asg}, {"assignment_id", asg}, {"task_id", task},       {"enterprise_id", "ent_1"},
          {"worker_id", "wkr_1"},          {"units", units},       {"reason", "incomplete"}};
}

json expired(const std::string& asg, const std::string& task = "tsk_a") {
  return {{"assignment_id", asg},
          {"task_id", task},
          {"enterprise_id", "ent_1"},
          {"worker_id", "wkr_1"},
          {"units", 1},
          {"reason", "deadline_passed"},
          {"expired_at_ms", clock::now_ms()}};
}

json released(const std::string& release_id, std::int64_t units, const std::string& task = "tsk_a") {
  return {{"task_id", task},         {"enterprise_id", "ent_1"}, {"release_id", release_id},
          {"units_released", units}, {"units_assigned", 0},      {"units_total", 3}};
}

json ruling(const std::string& dispute, const std::string& asg, std::int64_t share, std::int64_t units = 1,
            const std::string& task = "tsk_a") {
  return {{"dispute_id", dispute},      {"assignment_id", asg},      {"task_id", task},
          {"enterprise_id", "ent_1"},   {"worker_id", "wkr_1"},      {"units", units},
          {"amount_fen", units * kPay}, {"worker_share_fen", share}, {"resolved_at_ms", clock::now_ms()},
          {"operator_id", "op_1"}};
}

const std::string kEscrow = "task:tsk_a:escrow";
const std::string kAvailable = "ent:ent_1:available";

}  // namespace

TEST_CASE("escrow: assignment.created reserves, delivery.accepted posts the legs out of the reservation") {
  World w;
  w.deliver("assignment.created", created("asg_1"), on_assignment_created);
  auto r = w.reservation("asg_1");
  REQUIRE(r);
  CHECK(r->status == ReservationStatus::reserved);
  CHECK(r->amount_fen == kPay);
  CHECK(w.balance(kEscrow) == 2 * kPay);
  CHECK(w.balance("asg:asg_1:reserved") == kPay);
  CHECK(w.has_transfer("rsv:asg_1"));
  w.check_ok();
  // A repeat is a no-op.
  w.deliver("assignment.created", created("asg_1"), on_assignment_created);
  CHECK(w.balance("asg:asg_1:reserved") == kPay);

  w.deliver("delivery.accepted", accepted("asg_1"), on_delivery_accepted);
  r = w.reservation("asg_1");
  CHECK(r->status == ReservationStatus::posted);
  CHECK(r->ended_by == "acceptance");
  CHECK_FALSE(r->settlement_id.empty());
  CHECK(w.balance("asg:asg_1:reserved") == 0);
  CHECK(w.balance(kEscrow) == 2 * kPay);
  const auto done = w.published("settlement.completed");
  REQUIRE(done.size() == 1);
  CHECK(done[0]["kind"] == "acceptance");
  CHECK(done[0]["amount_fen"] == kPay);
  // Every leg leaves the reservation.
  CHECK(w.count("SELECT COUNT(*) FROM transfers WHERE id LIKE 'stl:asg_1:%' AND debit_account = "
                "'asg:asg_1:reserved'") == 3);
  w.check_ok();
  // Late or repeated events change nothing.
  w.deliver("assignment.created", created("asg_1"), on_assignment_created);
  w.deliver("delivery.accepted", accepted("asg_1"), on_delivery_accepted);
  CHECK(w.published("settlement.completed").size() == 1);
  CHECK(w.escrow().units_settled == 1);
  w.check_ok();
}

TEST_CASE("escrow: delivery.accepted before assignment.created reserves first, in the same transaction") {
  World w;
  w.deliver("delivery.accepted", accepted("asg_1"), on_delivery_accepted);
  const auto r = w.reservation("asg_1");
  REQUIRE(r);
  CHECK(r->status == ReservationStatus::posted);
  CHECK(w.has_transfer("rsv:asg_1"));
  CHECK(w.balance("asg:asg_1:reserved") == 0);
  const auto transfers = w.count("SELECT COUNT(*) FROM transfers");
  w.deliver("assignment.created", created("asg_1"), on_assignment_created);  // late: a no-op
  CHECK(w.count("SELECT COUNT(*) FROM transfers") == transfers);
  CHECK(w.balance(kEscrow) == 2 * kPay);
  w.check_ok();
}

TEST_CASE("escrow: a rejection or an expiry voids the reservation back to the task escrow, in either order") {
  World w;
  // created, then rejected.
  w.deliver("assignment.created", created("asg_1"), on_assignment_created);
  w.deliver("delivery.rejected", rejected("asg_1"), on_delivery_rejected);
  auto r = w.reservation("asg_1");
  CHECK(r->status == ReservationStatus::voided);
  CHECK(r->ended_by == "rejected");
  CHECK(w.has_transfer("void:asg_1"));
  CHECK(w.balance(kEscrow) == 3 * kPay);
  w.deliver("delivery.rejected", rejected("asg_1"), on_delivery_rejected);  // repeat: nothing
  w.check_ok();

  // expired before created: reserve + void, so the late assignment.created does nothing.
  w.deliver("assignment.expired", expired("asg_2"), on_assignment_expired);
  r = w.reservation("asg_2");
  CHECK(r->status == ReservationStatus::voided);
  CHECK(r->ended_by == "expired");
  CHECK(r->moved_money);
  CHECK(w.has_transfer("rsv:asg_2"));
  CHECK(w.has_transfer("void:asg_2"));
  w.deliver("assignment.created", created("asg_2"), on_assignment_created);
  CHECK(w.reservation("asg_2")->status == ReservationStatus::voided);
  CHECK(w.balance(kEscrow) == 3 * kPay);
  CHECK(w.balance("asg:asg_2:reserved") == 0);
  w.check_ok();

  // A voided assignment is never paid.
  w.refused("delivery.accepted", accepted("asg_1"), on_delivery_accepted);
  w.refused("delivery.accepted", accepted("asg_2"), on_delivery_accepted);
  CHECK(w.published("settlement.completed").empty());
  w.check_ok();

  // The freed unit is taken by a new assignment, which reserves and settles it.
  w.deliver("assignment.created", created("asg_3"), on_assignment_created);
  w.deliver("delivery.accepted", accepted("asg_3"), on_delivery_accepted);
  CHECK(w.published("settlement.completed").size() == 1);
  w.check_ok();
}

TEST_CASE("escrow: a void that overtakes assignment.created while another assignment holds the money") {
  // One unit: asg_1 was rejected on the open task and asg_2 took the unit again; settlement hears of asg_2
  // first, then of asg_1's rejection (a tombstone, no money moved), then asg_1's assignment.created.
  World w(1);
  w.deliver("assignment.created", created("asg_2"), on_assignment_created);
  w.deliver("delivery.rejected", rejected("asg_1"), on_delivery_rejected);
  const auto r = w.reservation("asg_1");
  REQUIRE(r);
  CHECK(r->status == ReservationStatus::voided);
  CHECK_FALSE(r->moved_money);
  CHECK_FALSE(w.has_transfer("rsv:asg_1"));
  w.deliver("assignment.created", created("asg_1"), on_assignment_created);
  CHECK(w.balance("asg:asg_1:reserved") == 0);
  CHECK(w.balance("asg:asg_2:reserved") == kPay);
  w.deliver("delivery.accepted", accepted("asg_2"), on_delivery_accepted);
  CHECK(w.escrow().status == EscrowStatus::closed);
  w.check_ok();
}

TEST_CASE("escrow: assignment.created for money another assignment reserved waits for that one's void") {
  World w(1);
  w.deliver("assignment.created", created("asg_1"), on_assignment_created);
  // asg_1 was rejected and asg_2 took the unit, but the rejection has not reached settlement yet.
  w.refused("assignment.created", created("asg_2"), on_assignment_created);
  CHECK_FALSE(w.reservation("asg_2"));
  w.deliver("delivery.rejected", rejected("asg_1"), on_delivery_rejected);
  w.deliver("assignment.created", created("asg_2"), on_assignment_created);  // the retry
  CHECK(w.reservation("asg_2")->status == ReservationStatus::reserved);
  w.check_ok();
}

TEST_CASE("escrow: matching's asg release voids then releases, whichever of the two came first") {
  World w;
  // Released after assignment.created: void:{asg}, then release:{task}:asg:{asg} to the enterprise.
  w.deliver("assignment.created", created("asg_1"), on_assignment_created);
  const auto before = w.balance(kAvailable);
  w.deliver("task.units_released", released("asg:asg_1", 1), on_units_released);
  CHECK(w.reservation("asg_1")->status == ReservationStatus::voided);
  CHECK(w.reservation("asg_1")->ended_by == "released");
  CHECK(w.has_transfer("void:asg_1"));
  CHECK(w.has_transfer("release:tsk_a:asg:asg_1"));
  CHECK(w.balance(kAvailable) == before + kPay);
  w.check_ok();

  // Released before assignment.created (and before delivery's rejection): reserve + void + release.
  w.deliver("task.units_released", released("asg:asg_2", 1), on_units_released);
  CHECK(w.reservation("asg_2")->status == ReservationStatus::voided);
  CHECK(w.reservation("asg_2")->worker_id.empty());  // matching's release names no worker
  w.deliver("assignment.created", created("asg_2"), on_assignment_created);
  w.deliver("delivery.rejected", rejected("asg_2"), on_delivery_rejected);
  CHECK(w.balance(kAvailable) == before + 2 * kPay);
  CHECK(w.balance("asg:asg_2:reserved") == 0);
  w.check_ok();
}

TEST_CASE("escrow: a cancel only takes unreserved money, partial piecework leaves every fen accounted for") {
  World w;  // 3 units
  w.deliver("assignment.created", created("asg_1"), on_assignment_created);
  w.deliver("assignment.created", created("asg_2"), on_assignment_created);
  // A cancel for 2 units while 2 are reserved: only 1 unit is unreserved.
  w.refused("task.units_released", released("cancel", 2), on_units_released);
  CHECK(w.balance(kEscrow) == kPay);
  w.deliver("delivery.rejected", rejected("asg_2"), on_delivery_rejected);  // the void it waited for
  w.deliver("task.units_released", released("cancel", 2), on_units_released);
  CHECK(w.balance(kEscrow) == 0);
  CHECK(w.balance("asg:asg_1:reserved") == kPay);
  w.check_ok();
  // The one unit held is accepted: the escrow closes, settled + released = budget.
  w.deliver("delivery.accepted", accepted("asg_1"), on_delivery_accepted);
  const auto e = w.escrow();
  CHECK(e.status == EscrowStatus::closed);
  CHECK(e.settled_fen + e.released_fen == e.held_fen);
  CHECK(e.settled_fen == kPay);
  CHECK(w.balance(kAvailable) == 100 * kPay - kPay);
  w.check_ok();
}

TEST_CASE("escrow: contradictions are refused") {
  World w;
  w.hold("tsk_b", 1);
  w.deliver("assignment.created", created("asg_1"), on_assignment_created);
  // Another task, enterprise, worker or size than the reservation.
  w.refused("assignment.created", created("asg_1", "tsk_b"), on_assignment_created);
  w.refused("assignment.created", created("asg_1", "tsk_a", 2), on_assignment_created);
  w.refused("delivery.accepted", accepted("asg_1", "tsk_a", 1, "wkr_9"), on_delivery_accepted);
  w.refused("delivery.rejected", rejected("asg_1", "tsk_a", 2), on_delivery_rejected);
  // An escrow of another enterprise, or none.
  w.refused("assignment.created", created("asg_2", "tsk_a", 1, "wkr_1", "ent_9"), on_assignment_created);
  w.refused("assignment.created", created("asg_2", "tsk_none"), on_assignment_created);
  // More than the escrow's unreserved money (2 units left unreserved).
  w.refused("assignment.created", created("asg_2", "tsk_a", 3), on_assignment_created);
  // A settled assignment cannot be voided, nor released.
  w.deliver("delivery.accepted", accepted("asg_1"), on_delivery_accepted);
  w.refused("delivery.rejected", rejected("asg_1"), on_delivery_rejected);
  w.refused("assignment.expired", expired("asg_1"), on_assignment_expired);
  w.refused("task.units_released", released("asg:asg_1", 1), on_units_released);
  CHECK(w.reservation("asg_1")->status == ReservationStatus::posted);
  w.check_ok();
}

namespace {

// What a payment of `amount` to a worker with no income yet this year comes to (the reference figures).
Split reference_split(std::int64_t amount) {
  const std::int64_t fee = domain::platform_fee("rd_design", amount);
  const auto ym = clock::cst_year_month(clock::now_ms());
  domain::IitYearState after;
  const std::int64_t iit = domain::withhold_cumulative({}, ym.year, ym.month, amount - fee, after).withheld_fen;
  return split_amount(amount, fee, iit);
}

json settlement_of(World& w, const std::string& asg) {
  return w.t.db().with([&](soci::session& s) {
    const auto r = find_settlement_by_assignment(s, asg);
    REQUIRE(r);
    return json{{"kind", r->kind},         {"dispute_id", r->dispute_id}, {"amount", r->split.amount_fen},
                {"fee", r->split.fee_fen}, {"iit", r->split.iit_fen},     {"net", r->split.net_fen}};
  });
}

}  // namespace

TEST_CASE("rulings: a split pays the share like pay (fee, cumulative IIT, net) and refunds the rest") {
  World w;
  w.deliver("assignment.created", created("asg_1"), on_assignment_created);
  const auto available = w.balance(kAvailable);
  const std::int64_t share = 700'000;
  w.deliver("dispute.resolved", ruling("dsp_1", "asg_1", share), on_dispute_resolved);
  const Split want = reference_split(share);
  CHECK(want.iit_fen > 0);  // the share is taxed
  const json got = settlement_of(w, "asg_1");
  CHECK(got == json{{"kind", "ruling"},
                    {"dispute_id", "dsp_1"},
                    {"amount", share},
                    {"fee", want.fee_fen},
                    {"iit", want.iit_fen},
                    {"net", want.net_fen}});
  CHECK(w.balance(kAvailable) == available + (kPay - share));
  CHECK(w.has_transfer("dsp:asg_1:refund"));
  CHECK(w.balance("wkr:wkr_1:payable") == want.net_fen);
  CHECK(w.balance(kIitPayable) == want.iit_fen);
  CHECK(w.balance("asg:asg_1:reserved") == 0);
  const auto r = w.reservation("asg_1");
  CHECK(r->status == ReservationStatus::posted);
  CHECK(r->ended_by == "ruling");
  CHECK(r->dispute_id == "dsp_1");
  CHECK(r->refund_fen == kPay - share);
  const auto e = w.escrow();
  CHECK(e.units_settled == 1);
  CHECK(e.settled_fen == share);
  CHECK(e.released_fen == kPay - share);
  // The worker's IIT year counts the share's gross.
  CHECK(w.count("SELECT cum_income_fen FROM iit_years WHERE worker_id = 'wkr_1'") == want.worker_gross_fen);
  const auto done = w.published("settlement.completed");
  REQUIRE(done.size() == 1);
  CHECK(done[0]["kind"] == "ruling");
  CHECK(done[0]["dispute_id"] == "dsp_1");
  CHECK(done[0]["amount_fen"] == share);
  const auto ruled = w.published("escrow.ruled");
  REQUIRE(ruled.size() == 1);
  CHECK(ruled[0]["refund_fen"] == kPay - share);
  CHECK(ruled[0]["worker_share_fen"] == share);
  w.check_ok();

  // Once: the same ruling again is a no-op; another dispute, or a delivery accepted, changes nothing.
  w.deliver("dispute.resolved", ruling("dsp_1", "asg_1", share), on_dispute_resolved);
  w.refused("dispute.resolved", ruling("dsp_2", "asg_1", share), on_dispute_resolved);
  w.deliver("delivery.accepted", accepted("asg_1"), on_delivery_accepted);
  w.refused("delivery.rejected", rejected("asg_1"), on_delivery_rejected);
  CHECK(w.published("settlement.completed").size() == 1);
  CHECK(w.balance(kAvailable) == available + (kPay - share));
  w.check_ok();
}

TEST_CASE("rulings: 0 % refunds everything (no settlement), 100 % pays exactly what an acceptance would") {
  World w;
  w.deliver("assignment.created", created("asg_1"), on_assignment_created);
  const auto available = w.balance(kAvailable);
  w.deliver("dispute.resolved", ruling("dsp_1", "asg_1", 0), on_dispute_resolved);
  CHECK(w.balance(kAvailable) == available + kPay);
  CHECK(w.count("SELECT COUNT(*) FROM settlements") == 0);
  CHECK(w.published("settlement.completed").empty());
  REQUIRE(w.published("escrow.ruled").size() == 1);
  CHECK(w.published("escrow.ruled")[0]["settlement_id"].is_null());
  CHECK(w.reservation("asg_1")->status == ReservationStatus::posted);
  CHECK(w.escrow().released_fen == kPay);
  w.check_ok();
  // A delivery accepted after a 0 % ruling pays nothing either (the same no-op as after any ruling).
  w.deliver("delivery.accepted", accepted("asg_1"), on_delivery_accepted);
  CHECK(w.count("SELECT COUNT(*) FROM settlements") == 0);
  w.deliver("dispute.resolved", ruling("dsp_1", "asg_1", 0), on_dispute_resolved);  // repeat
  CHECK(w.balance(kAvailable) == available + kPay);

  // 100 %, ruled before assignment.created arrived: reserves first; the figures are the acceptance's.
  w.deliver("dispute.resolved", ruling("dsp_2", "asg_2", kPay), on_dispute_resolved);
  const Split want = reference_split(kPay);
  const json got = settlement_of(w, "asg_2");
  CHECK(got["amount"] == kPay);
  CHECK(got["fee"] == want.fee_fen);
  CHECK(got["iit"] == want.iit_fen);
  CHECK(got["net"] == want.net_fen);
  CHECK_FALSE(w.has_transfer("dsp:asg_2:refund"));
  w.deliver("assignment.created", created("asg_2"), on_assignment_created);  // late: a no-op
  CHECK(w.balance("asg:asg_2:reserved") == 0);
  CHECK(w.balance(kEscrow) == kPay);
  w.check_ok();
}

TEST_CASE("rulings: refused for a settled or voided assignment, or figures that do not hold") {
  World w;
  w.deliver("delivery.accepted", accepted("asg_1"), on_delivery_accepted);
  w.refused("dispute.resolved", ruling("dsp_1", "asg_1", 0), on_dispute_resolved);
  w.deliver("delivery.rejected", rejected("asg_2"), on_delivery_rejected);
  w.refused("dispute.resolved", ruling("dsp_2", "asg_2", 0), on_dispute_resolved);
  w.refused("dispute.resolved", ruling("dsp_3", "asg_3", kPay + 1), on_dispute_resolved);  // share > amount
  w.refused("dispute.resolved", ruling("dsp_3", "asg_3", -1), on_dispute_resolved);
  json wrong = ruling("dsp_3", "asg_3", 10);
  wrong["amount_fen"] = kPay - 1;  // not units × pay
  w.refused("dispute.resolved", wrong, on_dispute_resolved);
  w.deliver("assignment.created", created("asg_3", "tsk_a", 1, "wkr_2"), on_assignment_created);
  w.refused("dispute.resolved", ruling("dsp_3", "asg_3", 10), on_dispute_resolved);  // another worker
  CHECK(w.count("SELECT COUNT(*) FROM settlements") == 1);
  w.check_ok();
}
