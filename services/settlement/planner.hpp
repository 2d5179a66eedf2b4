// The pure planner of settlement's money path: each event handler loads what it needs (a *Load), asks the
// planner what to do with it at now_ms, and hands the plan to the one applier (apply.hpp). The planner reads
// no database and writes nothing; it returns a plan, or a typed no-op (the event was applied already, or has
// nothing to do), refusal (its data contradicts what settlement holds: retried, then dead-lettered) or wait
// (it overtook the event it needs: retried for as long as it takes).
//
//   plan_acceptance, plan_ruling  delivery.accepted, dispute.resolved: both on plan_pay (the legs of a paid
//                                 amount out of the assignment's reservation, reserving first when the event
//                                 overtook assignment.created)
//
// Not planned here yet (consumers.cpp still loads and decides in one go): the hold (task.created), releases
// (task.units_released, task.cancelled) and voids (delivery.rejected, assignment.expired, an "asg:" release).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "services/settlement/ledger.hpp"
#include "services/settlement/model.hpp"
#include "services/settlement/rules.hpp"

namespace crowd::settlement {

struct NoOp {
  std::string why;
};
struct Refuse {
  std::string why;
};
struct Wait {
  std::string why;
};

// ---- Pay: acceptances and rulings ----

// What the pay path loads for one assignment.
struct PayLoad {
  std::optional<Reservation> reservation;
  bool settled_before = false;  // a settlement of the assignment and no reservation (from before 003)
  std::optional<EscrowState> escrow;
  std::int64_t unreserved_fen = 0;    // the task escrow account's balance (to reserve first)
  std::optional<IitYearRow> tax_row;  // the worker's IIT row of now's CST year
  std::string title;                  // the task's title as task.created gave it (a ruling's settlement)
};

// What a plan adds to the escrow's counters (units settled, money settled, money released).
struct EscrowDelta {
  std::int64_t units_settled = 0;
  std::int64_t settled_fen = 0;
  std::int64_t released_fen = 0;
  bool ruling = false;  // add_ruled (else add_settled)
};

struct PayPlan {
  std::optional<Reservation> reserve_first;    // the event overtook assignment.created: "rsv:{asg}" and the row
  std::optional<SettlementRecord> settlement;  // none for a ruling with a zero share
  std::vector<TransferSpec> legs;              // "stl:{asg}:fee|iit|net", summing to legs_total_fen
  std::int64_t legs_total_fen = 0;
  bool withholds = false;  // the IIT year state is written
  std::optional<IitYearRow> tax_before;
  IitYearRow tax_after;
  std::optional<TransferSpec> refund;  // a ruling's "dsp:{asg}:refund"
  Reservation reservation_after;       // the reservation posted
  EscrowState escrow_before;
  EscrowDelta delta;
  bool crash_points = false;                   // the acceptance path's crash points (test builds)
  std::optional<nlohmann::json> escrow_ruled;  // a ruling's escrow.ruled data
};

using PayDecision = std::variant<PayPlan, NoOp, Refuse>;

// settlement_id: the id a new settlement takes (ids::make("stl") by the caller); now_ms: the settlement's time.
PayDecision plan_acceptance(const Acceptance& a, const PayLoad& l, const std::string& settlement_id,
                            std::int64_t now_ms);
PayDecision plan_ruling(const Ruling& d, const PayLoad& l, const std::string& settlement_id, std::int64_t now_ms);

// What both share: the paid amount `pay_fen` (the whole reservation for an acceptance, the worker's share for
// a ruling) out of the assignment's reservation, reserving first when none exists. Refuse when the figures
// contradict the reservation or the escrow cannot reserve them.
struct PayRequest {
  ReserveRequest wanted;     // what the event says the assignment holds
  std::int64_t pay_fen = 0;  // > 0: split and taxed; 0: nothing settled
  std::string settlement_id;
  std::int64_t now_ms = 0;
};
std::variant<PayPlan, Refuse> plan_pay(const PayRequest& r, const PayLoad& l);

// A known reservation against an event's figures (a release names no worker: the worker is compared only
// when both sides know it): nullopt when they agree.
std::optional<std::string> same_assignment_problem(const Reservation& known, ReserveRequest r);

}  // namespace crowd::settlement
