// The pure planner of settlement's money path: each event handler loads what it needs (a *Load), asks the
// planner what to do with it at now_ms, and hands the plan to the one applier (apply.hpp). The planner reads
// no database and writes nothing; it returns a plan, or a typed no-op (the event was applied already, or has
// nothing to do: logged with its fields), refusal (its data contradicts what settlement holds: retried, then
// dead-lettered) or wait (it overtook the event it needs: retried for as long as it takes).
//
//   plan_hold                     task.created: the task's budget held in escrow, or the hold rejected
//   plan_reserve                  assignment.created: the assignment's reservation
//   plan_void                     delivery.rejected, assignment.expired (and an "asg:" release): the
//                                 reservation voided back to the task escrow, or its tombstone
//   plan_release                  task.units_released, task.cancelled: escrow back to the enterprise
//   plan_acceptance, plan_ruling  delivery.accepted, dispute.resolved: both on plan_pay (the legs of a paid
//                                 amount out of the assignment's reservation, reserving first when the event
//                                 overtook assignment.created)
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
  std::string why;                                   // the log line ("" when nothing is worth logging)
  nlohmann::json fields = nlohmann::json::object();  // logged beside it (with the event's id)
};
struct Refuse {
  std::string why;
};
struct Wait {
  std::string why;
};

// ---- The escrow of a task: holds and releases ----

struct HoldLoad {
  std::optional<EscrowState> escrow;  // the task's, if any
  std::int64_t available_fen = 0;     // the enterprise's available balance (read when the hold is to be tried)
};
struct HoldPlan {
  HoldRequest hold;
  bool funded = false;      // false: escrow.rejected {insufficient_funds}, the escrow row rejected
  std::string transfer_id;  // "hold:{task}" when funded
};
using HoldDecision = std::variant<HoldPlan, NoOp, Refuse>;
HoldDecision plan_hold(const HoldRequest& h, const HoldLoad& l);

// What the reservation paths (reserve, void, pay) load for one assignment.
struct AssignmentLoad {
  std::optional<Reservation> reservation;
  bool settled_before = false;  // a settlement of the assignment and no reservation (from before 003)
  std::optional<EscrowState> escrow;
  std::int64_t unreserved_fen = 0;  // the task escrow account's balance (read when no reservation is known)
};

// "rsv:{asg}" task escrow → asg:{asg}:reserved and the row.
struct ReservePlan {
  Reservation reservation;
};
using ReserveDecision = std::variant<ReservePlan, NoOp, Refuse>;
// currency: assignment.created's, which must be CNY.
ReserveDecision plan_reserve(const AssignmentFigures& f, const std::string& currency, const AssignmentLoad& l);

// A void: the known reservation ended (its money "void:{asg}" back to the task escrow), or, when nothing was
// reserved yet, a row written voided (reserve + void when the escrow can lend the money, else a tombstone).
struct VoidPlan {
  Reservation row;                // the row after the void
  bool known = false;             // true: the row exists (ended here), false: it is inserted
  std::int64_t returned_fen = 0;  // what the void adds to the task escrow's unreserved money
};
using VoidDecision = std::variant<VoidPlan, NoOp, Refuse>;
// why: rejected, expired or released.
VoidDecision plan_void(const ReserveRequest& r, const std::string& why, const AssignmentLoad& l);

// task.units_released (matching) or task.cancelled (tasks), as read (read_release in consumer_support.hpp).
struct ReleaseRequest {
  std::string task_id;
  std::string enterprise_id;
  std::int64_t units = 0;
  std::string release_id;
  bool from_matching = true;          // task.units_released (else task.cancelled)
  bool released_by_matching = false;  // task.cancelled of a task that opened
};
struct ReleaseLoad {
  AssignmentLoad assignment;        // the escrow, and for an "asg:" release the assignment's reservation
  bool applied = false;             // the release's transfer exists
  bool assignment_settled = false;  // an "asg:" release of an assignment with a settlement row
};
struct ReleasePlan {
  EscrowState escrow_before;
  std::optional<VoidPlan> void_first;  // an "asg:" release: the assignment's reservation voided first
  std::string transfer_id;             // "release:{task}:{release_id}"
  std::int64_t units = 0;
  std::int64_t amount_fen = 0;
  std::string release_id;
};
using ReleaseDecision = std::variant<ReleasePlan, NoOp, Refuse, Wait>;
ReleaseDecision plan_release(const ReleaseRequest& r, const ReleaseLoad& l);

// ---- Pay: acceptances and rulings ----

// What the pay path loads for one assignment.
struct PayLoad : AssignmentLoad {
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
