#include "services/settlement/payouts.hpp"

#include <soci/soci.h>

#include <algorithm>

#include "common/clock.hpp"
#include "common/config.hpp"
#include "common/crash.hpp"
#include "common/crypto.hpp"
#include "common/events.hpp"
#include "common/ids.hpp"
#include "common/log.hpp"
#include "services/settlement/ledger.hpp"

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

constexpr const char* kCols =
    "id, party_kind, party_id, origin, amount_fen, currency, status, attempts, max_attempts, next_attempt_at_ms, "
    "current_ref, provider_ref, last_error, resolution, created_at_ms, updated_at_ms";

PayoutRow row_of(const soci::row& r) {
  PayoutRow p;
  p.id = db::get_str(r, 0);
  p.party_kind = db::get_str(r, 1);
  p.party_id = db::get_str(r, 2);
  p.origin = db::get_str(r, 3);
  p.amount_fen = db::get_i64(r, 4);
  p.currency = db::get_str(r, 5);
  p.status = db::get_str(r, 6);
  p.attempts = static_cast<int>(db::get_i64(r, 7));
  p.max_attempts = static_cast<int>(db::get_i64(r, 8));
  p.next_attempt_at_ms = db::get_opt_i64(r, 9);
  p.current_ref = r.get_indicator(10) == soci::i_null ? "" : db::get_str(r, 10);
  p.provider_ref = r.get_indicator(11) == soci::i_null ? "" : db::get_str(r, 11);
  p.last_error = db::get_str(r, 12);
  p.resolution = db::get_str(r, 13);
  p.created_at_ms = db::get_i64(r, 14);
  p.updated_at_ms = db::get_i64(r, 15);
  return p;
}

// Payouts in `status` whose `column` (next_attempt_at_ms, updated_at_ms) is at most `before_ms`: the due
// sets of the payout machine.
std::vector<PayoutRow> due_payouts(soci::session& s, const std::string& status, const char* column, long long before_ms,
                                   int limit) {
  std::vector<PayoutRow> out;
  soci::rowset<soci::row> rows = (s.prepare << "SELECT " << kCols << " FROM payouts WHERE status = :s AND " << column
                                            << " <= :b ORDER BY created_at_ms, id LIMIT " << limit,
                                  soci::use(status), soci::use(before_ms));
  for (const auto& r : rows) out.push_back(row_of(r));
  return out;
}

// Moves a payout from one status to another only if it is still in `from` with the attempt we think it
// has: the optimistic guard every step relies on (a concurrent step makes it return false).
bool advance(soci::session& s, const PayoutRow& p, const std::string& from, const std::string& to,
             const std::string& error, std::optional<std::int64_t> next_at = std::nullopt) {
  const long long now = clock::now_ms();
  const int attempts = p.attempts;
  soci::indicator ni = next_at ? soci::i_ok : soci::i_null;
  long long nv = next_at.value_or(0);
  soci::statement st = (s.prepare << "UPDATE payouts SET status = :to, last_error = :err, next_attempt_at_ms = :nx, "
                                     "updated_at_ms = :now WHERE id = :id AND status = :from AND attempts = :n",
                        soci::use(to), soci::use(error), soci::use(nv, ni), soci::use(now), soci::use(p.id),
                        soci::use(from), soci::use(attempts));
  st.execute(true);
  return st.get_affected_rows() == 1;
}

void set_attempt(soci::session& s, const std::string& ref, const std::string& status, const std::string& provider_ref,
                 const std::string& error) {
  const long long now = clock::now_ms();
  s << "UPDATE payout_attempts SET status = :s, provider_ref = COALESCE(NULLIF(:p, ''), provider_ref), "
       "error = :e, updated_at_ms = :now WHERE merchant_ref = :m",
      soci::use(status), soci::use(provider_ref), soci::use(error), soci::use(now), soci::use(ref);
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

// The current attempt failed for good: another attempt after the backoff, or, after the last one, the money
// goes back to where it came from.
void retry_or_fail(soci::session& s, PayoutRow p, const std::string& from, const std::string& error,
                   const PayoutSettings& st) {
  if (p.attempts < p.max_attempts) {
    if (!advance(s, p, from, "pending", error, clock::now_ms() + backoff_ms(st, p.attempts))) {
      throw std::runtime_error("payout " + p.id + " changed concurrently");
    }
    return;
  }
  if (!advance(s, p, from, "failed", error)) throw std::runtime_error("payout " + p.id + " changed concurrently");
  transfer(s, "po:" + p.id + ":back", payout_pending(p), payout_source(p), p.amount_fen, "payout_failed", p.id);
  p.last_error = error;
  p.status = "failed";
  publish_payout(s, p, p.party_kind == "worker" ? "payout.failed" : "refund.failed");
}

void succeed(soci::session& s, PayoutRow p, const std::string& from, const std::string& provider_ref) {
  if (!advance(s, p, from, "succeeded", "")) throw std::runtime_error("payout " + p.id + " changed concurrently");
  transfer(s, "po:" + p.id + ":sent", payout_pending(p), kClearing, p.amount_fen, "payout_sent", p.id);
  if (!provider_ref.empty()) {
    s << "UPDATE payouts SET provider_ref = :p WHERE id = :id", soci::use(provider_ref), soci::use(p.id);
  }
  p.status = "succeeded";
  publish_payout(s, p, p.party_kind == "worker" ? "payout.succeeded" : "refund.succeeded");
}

}  // namespace

json payout_json(const PayoutRow& p) {
  json j{{"payout_id", p.id},
         {"kind", p.party_kind == "worker" ? "payout" : "refund"},
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

std::optional<PayoutRow> find_payout(soci::session& s, const std::string& id) {
  soci::rowset<soci::row> rows = (s.prepare << "SELECT " << kCols << " FROM payouts WHERE id = :id", soci::use(id));
  for (const auto& r : rows) return row_of(r);
  return std::nullopt;
}

std::vector<PayoutRow> list_payouts(soci::session& s, const PayoutQuery& q) {
  std::vector<PayoutRow> out;
  const long long from = q.from_ms, to = q.to_ms;
  // Distinct placeholder names: SQLite binds a repeated name once.
  soci::rowset<soci::row> rows =
      (s.prepare << "SELECT " << kCols
                 << " FROM payouts WHERE (:p1 = '' OR party_id = :p2) AND (:s1 = '' OR status = :s2) AND "
                    "created_at_ms >= :f AND created_at_ms < :t ORDER BY "
                 << (q.newest_first ? "created_at_ms DESC, id DESC" : "created_at_ms, id") << " LIMIT " << q.limit,
       soci::use(q.party_id), soci::use(q.party_id), soci::use(q.status), soci::use(q.status), soci::use(from),
       soci::use(to));
  for (const auto& r : rows) out.push_back(row_of(r));
  return out;
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
  soci::indicator ki = key ? soci::i_ok : soci::i_null;
  const std::string kv = key.value_or("");
  const long long amount = amount_fen, now = p.created_at_ms;
  s << "INSERT INTO payouts (id, party_kind, party_id, origin, amount_fen, currency, status, attempts, max_attempts, "
       "next_attempt_at_ms, idempotency_key, created_at_ms, updated_at_ms) VALUES (:id, :pk, :pid, :o, :a, 'CNY', "
       "'pending', 0, :m, :nx, :k, :c, :u)",
      soci::use(p.id), soci::use(party_kind), soci::use(party_id), soci::use(origin), soci::use(amount),
      soci::use(p.max_attempts), soci::use(now), soci::use(kv, ki), soci::use(now), soci::use(now);
  return p;
}

std::string payee_of(soci::session& s, const PayoutRow& p, const PayoutSettings& st) {
  if (p.party_kind == "enterprise") return "enterprise:" + p.party_id;
  soci::rowset<soci::row> rows =
      (s.prepare << "SELECT payee_sealed FROM payout_accounts WHERE worker_id = :w", soci::use(p.party_id));
  for (const auto& r : rows) {
    if (st.payee_key.empty()) throw std::runtime_error("CROWD_PII_KEY is not configured");
    return crypto::open(st.payee_key, db::get_str(r, 0));
  }
  throw http::conflict("no payout account: set one with PUT /v1/payout-account first");
}

namespace {

// Applies the provider's answer to attempt `ref` of payout p (which we left in "submitting").
void apply_place_result(db::Database& db, const PayoutRow& p, const std::string& ref, const PlaceResult& r,
                        const PayoutSettings& st) {
  db.tx([&](soci::session& s) {
    auto now_p = find_payout(s, p.id);
    // A notification may have overtaken the answer (it then decided already), or the payout moved on.
    if (!now_p || now_p->status != "submitting" || now_p->current_ref != ref) {
      log::info("place answer after the payout moved on", {{"payout_id", p.id}, {"merchant_ref", ref}});
      return;
    }
    switch (r.outcome) {
      case PlaceResult::Outcome::accepted:
        set_attempt(s, ref, "accepted", r.provider_ref, "");
        s << "UPDATE payouts SET provider_ref = :p WHERE id = :id", soci::use(r.provider_ref), soci::use(p.id);
        if (r.status == "succeeded") {
          set_attempt(s, ref, "succeeded", r.provider_ref, "");
          succeed(s, *now_p, "submitting", r.provider_ref);
        } else if (r.status == "failed") {
          set_attempt(s, ref, "failed", r.provider_ref, "provider: failed");
          retry_or_fail(s, *now_p, "submitting", "provider: failed", st);
        } else if (!advance(s, *now_p, "submitting", "submitted", "", clock::now_ms() + st.query_after_ms)) {
          throw std::runtime_error("payout changed concurrently");
        }
        break;
      case PlaceResult::Outcome::rejected:
        set_attempt(s, ref, "rejected", "", r.error);
        retry_or_fail(s, *now_p, "submitting", r.error, st);
        break;
      case PlaceResult::Outcome::unknown:
        set_attempt(s, ref, "ambiguous", "", r.error);
        if (!advance(s, *now_p, "submitting", "parked", "outcome unknown: " + r.error)) {
          throw std::runtime_error("payout changed concurrently");
        }
        log::warn("payout parked: outcome unknown", {{"payout_id", p.id}, {"merchant_ref", ref}, {"error", r.error}});
        now_p->status = "parked";
        now_p->last_error = r.error;
        publish_payout(s, *now_p, p.party_kind == "worker" ? "payout.parked" : "refund.parked");
        break;
    }
  });
}

// Places the next attempt of a due pending payout.
void attempt(db::Database& db, Provider& provider, const PayoutRow& due, const PayoutSettings& st) {
  struct Claimed {
    PayoutRow p;
    ProviderOrder order;
  };
  const auto claimed = db.tx([&](soci::session& s) -> std::optional<Claimed> {
    auto p = find_payout(s, due.id);
    if (!p || p->status != "pending") return std::nullopt;
    Claimed c;
    c.order.payee = payee_of(s, *p, st);
    const int n = p->attempts + 1;
    const std::string ref = p->id + "-" + std::to_string(n);
    const long long now = clock::now_ms();
    const int old_attempts = p->attempts;
    // Claim: only one placer wins the attempt number (two racing retries: the other matches no row).
    soci::statement claim = (s.prepare << "UPDATE payouts SET status = 'submitting', attempts = :n, current_ref = :r, "
                                          "next_attempt_at_ms = NULL, updated_at_ms = :now WHERE id = :id AND "
                                          "status = 'pending' AND attempts = :old",
                             soci::use(n), soci::use(ref), soci::use(now), soci::use(p->id), soci::use(old_attempts));
    claim.execute(true);
    if (claim.get_affected_rows() != 1) return std::nullopt;
    s << "INSERT INTO payout_attempts (merchant_ref, payout_id, n, status, created_at_ms, updated_at_ms) "
         "VALUES (:r, :p, :n, 'submitting', :c, :u)",
        soci::use(ref), soci::use(p->id), soci::use(n), soci::use(now), soci::use(now);
    p->attempts = n;
    p->current_ref = ref;
    p->status = "submitting";
    c.p = *p;
    c.order.merchant_ref = ref;
    c.order.kind = p->party_kind == "worker" ? "payout" : "refund";
    c.order.amount_fen = p->amount_fen;
    return c;
  });
  if (!claimed) return;
  crash_point("settlement.payout.before_place");
  const PlaceResult r = provider.place(claimed->order);
  crash_point("settlement.payout.after_place");
  apply_place_result(db, claimed->p, claimed->order.merchant_ref, r, st);
}

// A provider status (from a query) applied to payout p's current attempt, as a notification would.
void adopt_status(soci::session& s, const PayoutRow& p, const QueryResult& q, const PayoutSettings& st) {
  if (q.status == "succeeded") {
    set_attempt(s, p.current_ref, "succeeded", q.provider_ref, "");
    succeed(s, p, p.status, q.provider_ref);
  } else if (q.status == "failed") {
    set_attempt(s, p.current_ref, "failed", q.provider_ref, q.reason);
    retry_or_fail(s, p, p.status, "provider: " + q.reason, st);
  } else if (q.status == "returned") {
    // Paid and sent back already: both effects, in order.
    set_attempt(s, p.current_ref, "returned", q.provider_ref, q.reason);
    succeed(s, p, p.status, q.provider_ref);
    auto after = find_payout(s, p.id);
    transfer(s, "po:" + p.id + ":returned", kClearing, payout_source(*after), p.amount_fen, "payout_returned", p.id);
    advance(s, *after, "succeeded", "returned", q.reason);
  } else {
    // Still processing: look again later.
    const long long next = clock::now_ms() + st.query_after_ms;
    if (p.status == "submitting") {
      set_attempt(s, p.current_ref, "accepted", q.provider_ref, "");
      advance(s, p, "submitting", "submitted", "", next);
    } else {
      s << "UPDATE payouts SET next_attempt_at_ms = :n WHERE id = :id", soci::use(next), soci::use(p.id);
    }
  }
}

// A "submitting" attempt left by a crash, or a "submitted" one without news: ask the provider.
void query_and_adopt(db::Database& db, Provider& provider, const PayoutRow& p, const PayoutSettings& st) {
  const QueryResult q = provider.query(p.current_ref);
  if (q.found == QueryResult::Found::unknown) {
    log::warn("payout status query failed; will ask again", {{"payout_id", p.id}, {"error", q.error}});
    return;
  }
  if (q.found == QueryResult::Found::no) {
    if (p.status == "submitting") {
      // The provider never saw this attempt: place the same merchant_ref again (it dedupes on it).
      ProviderOrder order;
      order.merchant_ref = p.current_ref;
      order.kind = p.party_kind == "worker" ? "payout" : "refund";
      order.amount_fen = p.amount_fen;
      order.payee = db.with([&](soci::session& s) { return payee_of(s, p, st); });
      const PlaceResult r = provider.place(order);
      apply_place_result(db, p, p.current_ref, r, st);
    } else {
      log::error("provider does not know a submitted payout", {{"payout_id", p.id}, {"merchant_ref", p.current_ref}});
      db.tx([&](soci::session& s) {
        const long long next = clock::now_ms() + st.query_after_ms;
        s << "UPDATE payouts SET next_attempt_at_ms = :n WHERE id = :id", soci::use(next), soci::use(p.id);
      });
    }
    return;
  }
  db.tx([&](soci::session& s) {
    auto now_p = find_payout(s, p.id);
    if (!now_p || now_p->status != p.status || now_p->current_ref != p.current_ref) return;
    if (q.amount_fen != now_p->amount_fen) {
      log::error("provider amount differs", {{"payout_id", p.id}, {"provider", q.amount_fen}});
      return;
    }
    adopt_status(s, *now_p, q, st);
  });
}

}  // namespace

int run_payouts(db::Database& db, Provider& provider, const PayoutSettings& st) {
  const long long now = clock::now_ms();
  auto [due, stale, overdue] = db.with([&](soci::session& s) {
    return std::tuple{due_payouts(s, "pending", "next_attempt_at_ms", now, 50),
                      due_payouts(s, "submitting", "updated_at_ms", now - st.recover_after_ms, 20),
                      due_payouts(s, "submitted", "next_attempt_at_ms", now, 20)};
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
  const long long min = st.min_withdrawal_fen;
  const auto workers = db.with([&](soci::session& s) {
    std::vector<std::string> out;
    soci::rowset<soci::row> rows =
        (s.prepare << "SELECT pa.worker_id FROM payout_accounts pa JOIN accounts a ON a.id = 'wkr:' || pa.worker_id "
                      "|| ':payable' WHERE pa.mode = 'auto' AND pa.blocked_reason = '' AND a.balance_fen >= :m AND "
                      "NOT EXISTS (SELECT 1 FROM payouts p WHERE p.party_id = pa.worker_id AND p.status IN "
                      "('pending', 'submitting', 'submitted', 'parked')) ORDER BY pa.worker_id LIMIT 100",
         soci::use(min));
    for (const auto& r : rows) out.push_back(db::get_str(r, 0));
    return out;
  });
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

std::string apply_notification(soci::session& s, const json& body, const PayoutSettings& st) {
  http::Fields f(body);
  const std::string event_id = f.str("event_id", 1, 100);
  const std::string type = f.str("type", 1, 50);
  const std::string ref = f.str("merchant_ref", 1, 120);
  const std::int64_t amount = f.i64("amount_fen", 1, 1'000'000'000'000);
  const std::string provider_ref = f.opt_str("provider_ref", 100).value_or("");
  const std::string reason = f.opt_str("reason", 300).value_or("");
  f.done();
  const long long now = clock::now_ms();
  soci::statement seen = (s.prepare << "INSERT INTO provider_events (event_id, type, merchant_ref, outcome, "
                                       "received_at_ms) VALUES (:e, :t, :m, 'received', :now) "
                                       "ON CONFLICT (event_id) DO NOTHING",
                          soci::use(event_id), soci::use(type), soci::use(ref), soci::use(now));
  seen.execute(true);
  if (seen.get_affected_rows() == 0) return "duplicate";

  auto outcome = [&](const std::string& o) {
    s << "UPDATE provider_events SET outcome = :o WHERE event_id = :e", soci::use(o), soci::use(event_id);
    if (o == "conflict") {
      log::error("provider notification contradicts the ledger",
                 {{"event_id", event_id}, {"type", type}, {"merchant_ref", ref}});
    }
    return o;
  };

  if (type == "deposit.succeeded" || type == "deposit.failed") {
    soci::rowset<soci::row> rows =
        (s.prepare << "SELECT enterprise_id, amount_fen, status, transfer_id FROM deposits WHERE id = :id",
         soci::use(ref));
    for (const auto& r : rows) {
      const std::string ent = db::get_str(r, 0), status = db::get_str(r, 2), transfer_id = db::get_str(r, 3);
      if (db::get_i64(r, 1) != amount) return outcome("conflict");
      if (status != "pending")
        return outcome(type == "deposit.succeeded" && status == "completed" ? "ignored" : "conflict");
      const std::string to = type == "deposit.succeeded" ? "completed" : "failed";
      if (to == "completed") {
        transfer(s, transfer_id, kClearing, enterprise_available(ent), amount, "deposit", ref);
      }
      s << "UPDATE deposits SET status = :s, provider_ref = :p, updated_at_ms = :now WHERE id = :id AND "
           "status = 'pending'",
          soci::use(to), soci::use(provider_ref), soci::use(now), soci::use(ref);
      events::publish(s, to == "completed" ? "deposit.completed" : "deposit.failed", ent,
                      {{"deposit_id", ref}, {"enterprise_id", ent}, {"amount_fen", amount}, {"reason", reason}});
      return outcome("applied");
    }
    return outcome("conflict");
  }

  // Payouts and refunds: the attempt, then its payout.
  std::string payout_id;
  {
    soci::rowset<soci::row> rows =
        (s.prepare << "SELECT payout_id FROM payout_attempts WHERE merchant_ref = :m", soci::use(ref));
    for (const auto& r : rows) payout_id = db::get_str(r, 0);
  }
  if (payout_id.empty()) return outcome("conflict");
  auto p = find_payout(s, payout_id);
  if (!p || p->amount_fen != amount) return outcome("conflict");
  const bool current = p->current_ref == ref;
  const bool open = p->status == "submitting" || p->status == "submitted" || p->status == "parked";
  const std::string kind = p->party_kind == "worker" ? "payout" : "refund";

  if (type == kind + ".succeeded") {
    if (p->status == "succeeded" && current) return outcome("ignored");
    if (!current || !open) return outcome("conflict");
    set_attempt(s, ref, "succeeded", provider_ref, "");
    succeed(s, *p, p->status, provider_ref);
    return outcome("applied");
  }
  if (type == kind + ".failed") {
    if (!current) return outcome("ignored");  // an older attempt: it already counted as failed or superseded
    if (!open) return outcome(p->status == "succeeded" ? "conflict" : "ignored");
    set_attempt(s, ref, "failed", provider_ref, reason);
    retry_or_fail(s, *p, p->status, "provider: " + reason, st);
    return outcome("applied");
  }
  if (type == "payout.returned" && kind == "payout") {
    if (p->status == "returned" && current) return outcome("ignored");
    if (!current || p->status != "succeeded") return outcome("conflict");
    set_attempt(s, ref, "returned", provider_ref, reason);
    if (!advance(s, *p, "succeeded", "returned", reason)) throw std::runtime_error("payout changed concurrently");
    transfer(s, "po:" + p->id + ":returned", kClearing, payout_source(*p), p->amount_fen, "payout_returned", p->id);
    // Paying the same account again would bounce again: automatic payouts wait for a new account.
    const std::string why = "last payout returned: " + reason;
    s << "UPDATE payout_accounts SET blocked_reason = :r WHERE worker_id = :w", soci::use(why), soci::use(p->party_id);
    p->status = "returned";
    p->last_error = reason;
    publish_payout(s, *p, "payout.returned");
    return outcome("applied");
  }
  return outcome("ignored");
}

PayoutRow resolve_parked(db::Database& db, Provider& provider, const std::string& id, const std::string& outcome,
                         const std::string& operator_id, const std::string& note, const PayoutSettings& st) {
  const auto p = db.with([&](soci::session& s) { return find_payout(s, id); });
  if (!p) throw http::not_found("payout");
  if (p->status != "parked") throw http::conflict("payout " + id + " is " + p->status + ", not parked");
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
    if (!now_p || now_p->status != "parked") throw http::conflict("payout " + id + " changed meanwhile");
    const json resolution{{"by", operator_id},
                          {"outcome", outcome},
                          {"note", note},
                          {"provider_status", provider_says},
                          {"at", clock::rfc3339(clock::now_ms())}};
    const std::string text = resolution.dump();
    s << "UPDATE payouts SET resolution = :r WHERE id = :id", soci::use(text), soci::use(id);
    if (outcome == "succeeded") {
      set_attempt(s, now_p->current_ref, "succeeded", q.provider_ref, "");
      succeed(s, *now_p, "parked", q.provider_ref);
    } else {
      // Failed for good at the provider (or never received): the money goes back, no further attempt.
      now_p->max_attempts = now_p->attempts;
      s << "UPDATE payouts SET max_attempts = attempts WHERE id = :id", soci::use(id);
      set_attempt(s, now_p->current_ref, "failed", q.provider_ref, "resolved by operator");
      retry_or_fail(s, *now_p, "parked", "resolved by operator: " + note, st);
    }
    return *find_payout(s, id);
  });
}

}  // namespace crowd::settlement
