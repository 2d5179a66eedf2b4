#include "services/settlement/payouts.hpp"

#include <algorithm>

#include "common/clock.hpp"
#include "common/config.hpp"
#include "common/crash.hpp"
#include "common/crypto.hpp"
#include "common/events.hpp"
#include "common/ids.hpp"
#include "common/log.hpp"
#include "services/settlement/ledger.hpp"
#include "services/settlement/payouts_machine.hpp"

namespace crowd::settlement {

using nlohmann::json;

PayoutSettings PayoutSettings::from_env() {
  PayoutSettings s;
  s.min_withdrawal_fen = config::env_int("CROWD_PAYOUT_MIN_FEN", s.min_withdrawal_fen);
  s.max_attempts = static_cast<int>(config::env_int("CROWD_PAYOUT_MAX_ATTEMPTS", s.max_attempts));
  s.backoff_base_ms = config::env_int("CROWD_PAYOUT_BACKOFF_MS", s.backoff_base_ms);
  s.query_after_ms = config::env_int("CROWD_PAYOUT_QUERY_AFTER_MS", s.query_after_ms);
  s.recover_after_ms = config::env_int("CROWD_PAYOUT_RECOVER_AFTER_MS", s.recover_after_ms);
  // Payee accounts are personal data: sealed under CROWD_PAYEE_KEY (or the platform's CROWD_PII_KEY).
  const std::string hex = config::env_str("CROWD_PAYEE_KEY", config::env_str("CROWD_PII_KEY", ""));
  if (!hex.empty()) s.payee_key = crypto::key_from_hex(hex);
  if (s.min_withdrawal_fen < 1 || s.max_attempts < 1 || s.max_attempts > 20 || s.backoff_base_ms < 0) {
    throw std::invalid_argument("CROWD_PAYOUT_MIN_FEN >= 1, CROWD_PAYOUT_MAX_ATTEMPTS 1..20, backoff >= 0");
  }
  return s;
}

namespace {

using Effect = PayoutEffect;
using Signal = PayoutSignal;

std::string kind_of(const PayoutRow& p) {
  return p.party_kind == "worker" ? "payout" : "refund";
}

PayoutState state_of(const PayoutRow& p) {
  const auto status = parse_payout_status(p.status);
  if (!status) throw std::logic_error("payout " + p.id + " has an unknown status: " + p.status);
  return {*status, p.attempts < p.max_attempts};
}

// What a signal brought with it: the current attempt's new record (none when attempt_status is empty) and
// the payout's error for a failure, a park or a return.
struct Facts {
  std::string attempt_status, provider_ref, attempt_error;
  std::string error;
  // A status query's "processing" let a lost race to submitted pass (the place answer's throws), as before.
  bool lenient_await = false;
};

[[noreturn]] void changed_concurrently(const PayoutRow& p) {
  throw std::runtime_error("payout " + p.id + " changed concurrently");
}
[[noreturn]] void changed_concurrently() {
  throw std::runtime_error("payout changed concurrently");
}

void publish_payout(soci::session& s, const PayoutRow& p, const std::string& type) {
  events::publish(s, type, p.id,
                  {{"payout_id", p.id},
                   {"party_kind", p.party_kind},
                   {"party_id", p.party_id},
                   {"origin", p.origin},
                   {"amount_fen", p.amount_fen},
                   {"currency", p.currency},
                   {"attempts", p.attempts},
                   {"reason", p.last_error}});
}

std::int64_t backoff_ms(const PayoutSettings& st, int attempts) {
  std::int64_t d = st.backoff_base_ms;
  for (int i = 1; i < attempts && d < st.backoff_max_ms; ++i) d *= 2;
  return std::min(d, st.backoff_max_ms);
}

void post_sent(soci::session& s, PayoutRow p, const std::string& provider_ref) {
  if (!advance_payout(s, p, p.status, "succeeded", "", std::nullopt)) changed_concurrently(p);
  transfer(s, "po:" + p.id + ":sent", payout_pending(p), kClearing, p.amount_fen, "payout_sent", p.id);
  if (!provider_ref.empty()) set_payout_provider_ref(s, p.id, provider_ref);
  p.status = "succeeded";
  publish_payout(s, p, kind_of(p) + ".succeeded");
}

// Every attempt failed: the money goes back to where it came from.
void post_back(soci::session& s, PayoutRow p, const std::string& error) {
  if (!advance_payout(s, p, p.status, "failed", error, std::nullopt)) changed_concurrently(p);
  transfer(s, "po:" + p.id + ":back", payout_pending(p), payout_source(p), p.amount_fen, "payout_failed", p.id);
  p.last_error = error;
  p.status = "failed";
  publish_payout(s, p, kind_of(p) + ".failed");
}

void park(soci::session& s, PayoutRow p, const std::string& error) {
  if (!advance_payout(s, p, p.status, "parked", "outcome unknown: " + error, std::nullopt)) changed_concurrently();
  log::warn("payout parked: outcome unknown", {{"payout_id", p.id}, {"merchant_ref", p.current_ref}, {"error", error}});
  p.status = "parked";
  p.last_error = error;
  publish_payout(s, p, kind_of(p) + ".parked");
}

// Sent back by the receiving bank after it succeeded (a notification).
void post_returned(soci::session& s, PayoutRow p, const std::string& reason) {
  if (!advance_payout(s, p, p.status, "returned", reason, std::nullopt)) changed_concurrently();
  transfer(s, "po:" + p.id + ":returned", kClearing, payout_source(p), p.amount_fen, "payout_returned", p.id);
  // Paying the same account again would bounce again: automatic payouts wait for a new account.
  block_payout_account(s, p.party_id, "last payout returned: " + reason);
  p.status = "returned";
  p.last_error = reason;
  publish_payout(s, p, "payout.returned");
}

// A query found it paid and sent back already: both effects, in order.
void post_sent_and_returned(soci::session& s, const PayoutRow& p, const Facts& f) {
  post_sent(s, p, f.provider_ref);
  auto after = find_payout(s, p.id);
  transfer(s, "po:" + p.id + ":returned", kClearing, payout_source(*after), p.amount_fen, "payout_returned", p.id);
  advance_payout(s, *after, "succeeded", "returned", f.error, std::nullopt);
}

// The store side of a transition of payout p (as loaded in this transaction). claim and place_again involve
// the provider: their callers do them.
void apply(soci::session& s, const PayoutRow& p, const PayoutTransition& t, const Facts& f, const PayoutSettings& st) {
  if (!f.attempt_status.empty()) set_attempt(s, p.current_ref, f.attempt_status, f.provider_ref, f.attempt_error);
  const long long now = clock::now_ms();
  switch (t.effect) {
    case Effect::none:
    case Effect::claim:
    case Effect::place_again:
      return;
    case Effect::await_outcome:
      if (!advance_payout(s, p, p.status, "submitted", "", now + st.query_after_ms) && !f.lenient_await) {
        changed_concurrently();
      }
      return;
    case Effect::schedule_query:
      return set_payout_next_attempt(s, p.id, now + st.query_after_ms);
    case Effect::post_sent:
      return post_sent(s, p, f.provider_ref);
    case Effect::schedule_retry:
      if (!advance_payout(s, p, p.status, "pending", f.error, now + backoff_ms(st, p.attempts))) {
        changed_concurrently(p);
      }
      return;
    case Effect::post_back:
      return post_back(s, p, f.error);
    case Effect::park:
      return park(s, p, f.error);
    case Effect::post_returned:
      return post_returned(s, p, f.error);
    case Effect::post_sent_and_returned:
      return post_sent_and_returned(s, p, f);
  }
}

}  // namespace

json payout_json(const PayoutRow& p) {
  json j{{"payout_id", p.id},
         {"kind", kind_of(p)},
         {"party_id", p.party_id},
         {"origin", p.origin},
         {"amount", {{"amount_fen", p.amount_fen}, {"currency", p.currency}}},
         {"status", p.status},
         {"attempts", p.attempts},
         {"max_attempts", p.max_attempts},
         {"created_at", clock::rfc3339(p.created_at_ms)},
         {"updated_at", clock::rfc3339(p.updated_at_ms)}};
  if (!p.last_error.empty()) j["last_error"] = p.last_error;
  if (!p.resolution.empty()) j["resolution"] = json::parse(p.resolution, nullptr, false);
  if (p.status == "pending" && p.next_attempt_at_ms) j["next_attempt_at"] = clock::rfc3339(*p.next_attempt_at_ms);
  return j;
}

std::string payout_source(const PayoutRow& p) {
  return p.party_kind == "worker" ? worker_payable(p.party_id) : enterprise_available(p.party_id);
}
std::string payout_pending(const PayoutRow& p) {
  return p.party_kind == "worker" ? worker_payout_pending(p.party_id) : enterprise_refund_pending(p.party_id);
}

PayoutRow create_payout(soci::session& s, const std::string& party_kind, const std::string& party_id,
                        const std::string& origin, std::int64_t amount_fen, const std::optional<std::string>& key,
                        const PayoutSettings& st) {
  PayoutRow p;
  p.id = ids::make(party_kind == "worker" ? "po" : "rf");
  p.party_kind = party_kind;
  p.party_id = party_id;
  p.origin = origin;
  p.amount_fen = amount_fen;
  p.status = "pending";
  p.max_attempts = st.max_attempts;
  p.created_at_ms = p.updated_at_ms = clock::now_ms();
  p.next_attempt_at_ms = p.created_at_ms;
  // The debit is conditional: InsufficientFunds rolls the whole creation back.
  transfer(s, "po:" + p.id + ":hold", payout_source(p), payout_pending(p), amount_fen, "payout_hold", p.id);
  insert_payout(s, p, key);
  return p;
}

std::string payee_of(soci::session& s, const PayoutRow& p, const PayoutSettings& st) {
  if (p.party_kind == "enterprise") return "enterprise:" + p.party_id;
  const auto sealed = sealed_payee(s, p.party_id);
  if (!sealed) throw http::conflict("no payout account: set one with PUT /v1/payout-account first");
  if (st.payee_key.empty()) throw std::runtime_error("CROWD_PII_KEY is not configured");
  return crypto::open(st.payee_key, *sealed);
}

namespace {

Signal place_signal(const PlaceResult& r) {
  switch (r.outcome) {
    case PlaceResult::Outcome::accepted:
      return r.status == "succeeded" ? Signal::placed_succeeded
             : r.status == "failed"  ? Signal::placed_failed
                                     : Signal::placed_processing;
    case PlaceResult::Outcome::rejected:
      return Signal::place_rejected;
    case PlaceResult::Outcome::unknown:
      break;
  }
  return Signal::place_unknown;
}

Facts place_facts(const PlaceResult& r, Signal signal) {
  switch (signal) {
    case Signal::placed_succeeded:
      return {"succeeded", r.provider_ref, "", ""};
    case Signal::placed_failed:
      return {"failed", r.provider_ref, "provider: failed", "provider: failed"};
    case Signal::place_rejected:
      return {"rejected", "", r.error, r.error};
    case Signal::place_unknown:
      return {"ambiguous", "", r.error, r.error};
    default:
      return {};
  }
}

// Applies the provider's answer to attempt `ref` of payout p (which we left in "submitting").
void apply_place_result(db::Database& db, const PayoutRow& p, const std::string& ref, const PlaceResult& r,
                        const PayoutSettings& st) {
  db.tx([&](soci::session& s) {
    auto now_p = find_payout(s, p.id);
    const Signal signal = place_signal(r);
    // A notification may have overtaken the answer (it then decided already), or the payout moved on.
    const auto t = now_p && now_p->current_ref == ref ? next(state_of(*now_p), signal) : PayoutTransition{};
    if (t.outcome != PayoutOutcome::apply) {
      log::info("place answer after the payout moved on", {{"payout_id", p.id}, {"merchant_ref", ref}});
      return;
    }
    if (r.outcome == PlaceResult::Outcome::accepted) {
      set_attempt(s, ref, "accepted", r.provider_ref, "");
      set_payout_provider_ref(s, p.id, r.provider_ref);
    }
    apply(s, *now_p, t, place_facts(r, signal), st);
  });
}

ProviderOrder order_of(const PayoutRow& p, const std::string& merchant_ref) {
  ProviderOrder order;
  order.merchant_ref = merchant_ref;
  order.kind = kind_of(p);
  order.amount_fen = p.amount_fen;
  return order;
}

// Places the next attempt of a due pending payout.
void attempt(db::Database& db, Provider& provider, const PayoutRow& due, const PayoutSettings& st) {
  struct Claimed {
    PayoutRow p;
    ProviderOrder order;
  };
  const auto claimed = db.tx([&](soci::session& s) -> std::optional<Claimed> {
    auto p = find_payout(s, due.id);
    if (!p || next(state_of(*p), Signal::due).effect != Effect::claim) return std::nullopt;
    const std::string payee = payee_of(s, *p, st);
    const int n = p->attempts + 1;
    const std::string ref = p->id + "-" + std::to_string(n);
    // Claim: only one placer wins the attempt number (two racing retries: the other matches no row).
    if (!claim_attempt(s, *p, n, ref, clock::now_ms())) return std::nullopt;
    p->attempts = n;
    p->current_ref = ref;
    p->status = "submitting";
    Claimed c{*p, order_of(*p, ref)};
    c.order.payee = payee;
    return c;
  });
  if (!claimed) return;
  crash_point("settlement.payout.before_place");
  const PlaceResult r = provider.place(claimed->order);
  crash_point("settlement.payout.after_place");
  apply_place_result(db, claimed->p, claimed->order.merchant_ref, r, st);
}

Signal found_signal(const QueryResult& q) {
  if (q.status == "succeeded") return Signal::found_succeeded;
  if (q.status == "failed") return Signal::found_failed;
  if (q.status == "returned") return Signal::found_returned;
  return Signal::found_processing;  // still processing: look again later
}

Facts query_facts(const QueryResult& q, const PayoutTransition& t) {
  switch (t.effect) {
    case Effect::post_sent:
      return {"succeeded", q.provider_ref, "", ""};
    case Effect::schedule_retry:
    case Effect::post_back:
      return {"failed", q.provider_ref, q.reason, "provider: " + q.reason};
    case Effect::post_sent_and_returned:
      return {"returned", q.provider_ref, q.reason, q.reason};
    case Effect::await_outcome:
      return {"accepted", q.provider_ref, "", "", true};
    default:
      return {};
  }
}

// The provider does not know the current attempt of p (as the runner loaded it).
void adopt_not_found(db::Database& db, Provider& provider, const PayoutRow& p, const PayoutSettings& st) {
  const auto t = next(state_of(p), Signal::not_found);
  if (t.effect == Effect::place_again) {
    // The provider never saw this attempt: place the same merchant_ref again (it dedupes on it).
    ProviderOrder order = order_of(p, p.current_ref);
    order.payee = db.with([&](soci::session& s) { return payee_of(s, p, st); });
    const PlaceResult r = provider.place(order);
    apply_place_result(db, p, p.current_ref, r, st);
  } else if (t.outcome == PayoutOutcome::contradiction) {
    log::error("provider does not know a submitted payout", {{"payout_id", p.id}, {"merchant_ref", p.current_ref}});
    db.tx([&](soci::session& s) { apply(s, p, t, {}, st); });
  }
}

// A "submitting" attempt left by a crash, or a "submitted" one without news: ask the provider.
void query_and_adopt(db::Database& db, Provider& provider, const PayoutRow& p, const PayoutSettings& st) {
  const QueryResult q = provider.query(p.current_ref);
  if (q.found == QueryResult::Found::unknown) {
    log::warn("payout status query failed; will ask again", {{"payout_id", p.id}, {"error", q.error}});
    return;
  }
  if (q.found == QueryResult::Found::no) return adopt_not_found(db, provider, p, st);
  db.tx([&](soci::session& s) {
    auto now_p = find_payout(s, p.id);
    if (!now_p || now_p->status != p.status || now_p->current_ref != p.current_ref) return;
    if (q.amount_fen != now_p->amount_fen) {
      log::error("provider amount differs", {{"payout_id", p.id}, {"provider", q.amount_fen}});
      return;
    }
    const auto t = next(state_of(*now_p), found_signal(q));
    if (t.outcome == PayoutOutcome::apply) apply(s, *now_p, t, query_facts(q, t), st);
  });
}

}  // namespace

int run_payouts(db::Database& db, Provider& provider, const PayoutSettings& st) {
  const long long now = clock::now_ms();
  auto [due, stale, overdue] = db.with([&](soci::session& s) {
    return std::tuple{due_payouts(s, "pending", DueBy::next_attempt, now, 50),
                      due_payouts(s, "submitting", DueBy::last_update, now - st.recover_after_ms, 20),
                      due_payouts(s, "submitted", DueBy::next_attempt, now, 20)};
  });
  int touched = 0;
  for (const auto& p : due) {
    try {
      attempt(db, provider, p, st);
      ++touched;
    } catch (const std::exception& e) {
      log::error("payout attempt failed", {{"payout_id", p.id}, {"error", e.what()}});
    }
  }
  for (const auto& list : {stale, overdue}) {
    for (const auto& p : list) {
      try {
        query_and_adopt(db, provider, p, st);
        ++touched;
      } catch (const std::exception& e) {
        log::error("payout recovery failed", {{"payout_id", p.id}, {"error", e.what()}});
      }
    }
  }
  return touched;
}

int run_auto_payouts(db::Database& db, const PayoutSettings& st) {
  const auto workers = db.with([&](soci::session& s) { return auto_payout_candidates(s, st.min_withdrawal_fen, 100); });
  int created = 0;
  for (const auto& w : workers) {
    try {
      db.tx([&](soci::session& s) {
        const std::int64_t amount = balance_of(s, worker_payable(w));
        if (amount < st.min_withdrawal_fen) return;
        create_payout(s, "worker", w, "auto", amount, std::nullopt, st);
        ++created;
      });
    } catch (const InsufficientFunds&) {
      // Spent by a concurrent withdrawal between the two reads: nothing to do.
    }
  }
  return created;
}

namespace {

struct Notification {
  std::string event_id, type, ref, provider_ref, reason;
  std::int64_t amount_fen = 0;
  long long now_ms = 0;
};

Notification read_notification(const json& body) {
  http::Fields f(body);
  Notification n;
  n.event_id = f.str("event_id", 1, 100);
  n.type = f.str("type", 1, 50);
  n.ref = f.str("merchant_ref", 1, 120);
  n.amount_fen = f.i64("amount_fen", 1, 1'000'000'000'000);
  n.provider_ref = f.opt_str("provider_ref", 100).value_or("");
  n.reason = f.opt_str("reason", 300).value_or("");
  f.done();
  n.now_ms = clock::now_ms();
  return n;
}

std::string apply_deposit_notification(soci::session& s, const Notification& n) {
  const auto d = find_provider_deposit(s, n.ref);
  if (!d || d->amount_fen != n.amount_fen) return "conflict";
  const bool succeeded = n.type == "deposit.succeeded";
  if (d->status != "pending") return succeeded && d->status == "completed" ? "ignored" : "conflict";
  const std::string to = succeeded ? "completed" : "failed";
  if (succeeded)
    transfer(s, d->transfer_id, kClearing, enterprise_available(d->enterprise_id), n.amount_fen, "deposit", n.ref);
  end_pending_deposit(s, n.ref, to, n.provider_ref, n.now_ms);
  events::publish(
      s, succeeded ? "deposit.completed" : "deposit.failed", d->enterprise_id,
      {{"deposit_id", n.ref}, {"enterprise_id", d->enterprise_id}, {"amount_fen", n.amount_fen}, {"reason", n.reason}});
  return "applied";
}

std::optional<Signal> notification_signal(const std::string& type, const std::string& kind, bool current) {
  if (type == kind + ".succeeded") return current ? Signal::notified_succeeded : Signal::notified_old_succeeded;
  if (type == kind + ".failed") return current ? Signal::notified_failed : Signal::notified_old_failed;
  if (type == "payout.returned" && kind == "payout") {
    return current ? Signal::notified_returned : Signal::notified_old_returned;
  }
  return std::nullopt;
}

Facts notification_facts(const Notification& n, Signal signal) {
  switch (signal) {
    case Signal::notified_succeeded:
      return {"succeeded", n.provider_ref, "", ""};
    case Signal::notified_failed:
      return {"failed", n.provider_ref, n.reason, "provider: " + n.reason};
    default:
      return {"returned", n.provider_ref, n.reason, n.reason};
  }
}

// Payouts and refunds: the attempt, then its payout.
std::string apply_payout_notification(soci::session& s, const Notification& n, const PayoutSettings& st) {
  const auto payout_id = payout_of_attempt(s, n.ref);
  if (!payout_id || payout_id->empty()) return "conflict";
  auto p = find_payout(s, *payout_id);
  if (!p || p->amount_fen != n.amount_fen) return "conflict";
  const auto signal = notification_signal(n.type, kind_of(*p), p->current_ref == n.ref);
  if (!signal) return "ignored";
  const auto t = next(state_of(*p), *signal);
  if (t.outcome == PayoutOutcome::ignore) return "ignored";
  if (t.outcome == PayoutOutcome::contradiction) return "conflict";
  apply(s, *p, t, notification_facts(n, *signal), st);
  return "applied";
}

}  // namespace

std::string apply_notification(soci::session& s, const json& body, const PayoutSettings& st) {
  const Notification n = read_notification(body);
  if (!record_provider_event(s, n.event_id, n.type, n.ref, n.now_ms)) return "duplicate";
  const bool deposit = n.type == "deposit.succeeded" || n.type == "deposit.failed";
  const std::string outcome = deposit ? apply_deposit_notification(s, n) : apply_payout_notification(s, n, st);
  set_provider_event_outcome(s, n.event_id, outcome);
  if (outcome == "conflict") {
    log::error("provider notification contradicts the ledger",
               {{"event_id", n.event_id}, {"type", n.type}, {"merchant_ref", n.ref}});
  }
  return outcome;
}

PayoutRow resolve_parked(db::Database& db, Provider& provider, const std::string& id, const std::string& outcome,
                         const std::string& operator_id, const std::string& note, const PayoutSettings& st) {
  const Signal signal = outcome == "succeeded" ? Signal::operator_succeeded : Signal::operator_failed;
  const auto p = db.with([&](soci::session& s) { return find_payout(s, id); });
  if (!p) throw http::not_found("payout");
  if (next(state_of(*p), signal).outcome != PayoutOutcome::apply) {
    throw http::conflict("payout " + id + " is " + p->status + ", not parked");
  }
  // The operator's word must not contradict the provider's own record: that would pay twice or never.
  const QueryResult q = provider.query(p->current_ref);
  if (q.found == QueryResult::Found::unknown) {
    throw http::Problem(503, "provider-unavailable", "The provider could not be asked", q.error);
  }
  const std::string provider_says = q.found == QueryResult::Found::no ? "not_found" : q.status;
  const bool paid = provider_says == "succeeded" || provider_says == "returned";
  const bool not_paid = provider_says == "failed" || provider_says == "not_found";
  if ((outcome == "succeeded" && !paid) || (outcome == "failed" && !not_paid)) {
    http::Problem pr(409, "contradicts-provider", "The provider's record says otherwise",
                     "provider status of " + p->current_ref + ": " + provider_says);
    pr.extra["provider_status"] = provider_says;
    throw pr;
  }
  return db.tx([&](soci::session& s) {
    auto now_p = find_payout(s, id);
    const auto t = now_p ? next(state_of(*now_p), signal) : PayoutTransition{};
    if (t.outcome != PayoutOutcome::apply) throw http::conflict("payout " + id + " changed meanwhile");
    const json resolution{{"by", operator_id},
                          {"outcome", outcome},
                          {"note", note},
                          {"provider_status", provider_says},
                          {"at", clock::rfc3339(clock::now_ms())}};
    set_payout_resolution(s, id, resolution.dump());
    Facts f{"succeeded", q.provider_ref, "", ""};
    if (signal == Signal::operator_failed) {
      // Failed for good at the provider (or never received): the money goes back, no further attempt.
      now_p->max_attempts = now_p->attempts;
      exhaust_payout_attempts(s, id);
      f = {"failed", q.provider_ref, "resolved by operator", "resolved by operator: " + note};
    }
    apply(s, *now_p, t, f, st);
    return *find_payout(s, id);
  });
}

}  // namespace crowd::settlement
