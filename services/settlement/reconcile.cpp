// The daily reconciliation of the ledger against the payment provider's statement (reconcile.hpp).
#include "services/settlement/reconcile.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "common/clock.hpp"
#include "common/crypto.hpp"
#include "services/settlement/payouts.hpp"
#include "services/settlement/store/reports.hpp"

namespace crowd::settlement {

using nlohmann::json;

namespace {

struct StatementLine {
  std::string provider_ref, merchant_ref, kind, direction, status, at;
  std::int64_t amount_fen = 0;
};

std::vector<StatementLine> parse_statement(const std::string& csv) {
  std::vector<StatementLine> out;
  std::istringstream in(csv);
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (header) {
      header = false;
      continue;
    }
    if (line.empty()) continue;
    std::vector<std::string> cols;
    std::string col;
    std::istringstream ls(line);
    while (std::getline(ls, col, ',')) cols.push_back(col);
    if (cols.size() != 7) throw std::runtime_error("statement line with " + std::to_string(cols.size()) + " columns");
    StatementLine l{cols[0], cols[1], cols[2], cols[3], cols[5], cols[6], std::stoll(cols[4])};
    out.push_back(l);
  }
  return out;
}

std::string day_before(const std::string& day) {
  const auto start = clock::parse_rfc3339(day + "T00:00:00+08:00");
  if (!start) throw std::invalid_argument("day");
  const std::int64_t prev = *start - 12LL * 3600 * 1000 + 8LL * 3600 * 1000;  // noon of the previous CST day
  return clock::rfc3339(prev).substr(0, 10);
}

// What the provider's statements say: the day's lines, and the merchant_ref/status of every line of that day
// and the day before.
struct ProviderView {
  std::string csv;
  std::vector<StatementLine> lines;
  std::set<std::string> on_statement;
};

std::optional<ProviderView> fetch_statements(Provider& provider, const std::string& day) {
  const auto csv = provider.statement(day);
  if (!csv) return std::nullopt;
  const auto prev_csv = provider.statement(day_before(day));
  ProviderView v{*csv, parse_statement(*csv), {}};
  for (const auto& l : v.lines) v.on_statement.insert(l.merchant_ref + "/" + l.status);
  if (prev_csv) {
    for (const auto& l : parse_statement(*prev_csv)) v.on_statement.insert(l.merchant_ref + "/" + l.status);
  }
  return v;
}

// What the checks found so far.
struct Findings {
  json mismatches = json::array();
  int matched = 0;
};

json line_json(const StatementLine& l) {
  return {{"merchant_ref", l.merchant_ref}, {"provider_ref", l.provider_ref}, {"kind", l.kind},
          {"provider_status", l.status},    {"amount_fen", l.amount_fen},     {"at", l.at}};
}

// A deposit the provider credited must be completed in the ledger, with the same amount.
void check_deposit_line(soci::session& s, const StatementLine& l, Findings& f) {
  const auto d = find_deposit_outcome(s, l.merchant_ref);
  const std::string ours = !d ? "missing" : d->amount_fen != l.amount_fen ? "amount_differs" : d->status;
  if (ours == "completed") {
    ++f.matched;
    return;
  }
  json m = line_json(l);
  m["ledger_status"] = ours;
  m["problem"] = "provider credited a deposit the ledger does not show as completed";
  f.mismatches.push_back(m);
}

// A payout the provider reports must be the ledger's, for the same amount and attempt, with its outcome.
void check_payout_line(soci::session& s, const StatementLine& l, Findings& f) {
  const auto payout_id = payout_of_attempt(s, l.merchant_ref);
  const auto p = payout_id ? find_payout(s, *payout_id) : std::nullopt;
  const std::string want = l.status == "returned" ? "returned" : "succeeded";
  const bool ok = p && p->amount_fen == l.amount_fen && p->current_ref == l.merchant_ref &&
                  (p->status == want || (want == "succeeded" && p->status == "returned"));
  if (ok) {
    ++f.matched;
    return;
  }
  json m = line_json(l);
  m["payout_id"] = payout_id.value_or("");
  m["ledger_status"] = p ? p->status : "missing";
  m["problem"] = p && p->status == "parked" ? "parked payout the provider reports as " + l.status
                                            : "provider movement not matched by the ledger";
  f.mismatches.push_back(m);
}

// 2. Every success the ledger recorded that day must be on the statement (of that day or the day before: a
//    provider success just before midnight may reach us just after).
void check_ledger_movements(soci::session& s, std::int64_t from, std::int64_t to,
                            const std::set<std::string>& on_statement, Findings& f) {
  for (const auto& [ref, kind, amount] : provider_movements(s, from, to)) {
    std::string merchant_ref = ref;
    if (kind != "deposit") {
      const auto p = find_payout(s, ref);
      merchant_ref = p ? p->current_ref : ref;
    } else {
      const auto d = find_deposit_outcome(s, ref);
      if (d && d->provider == "instant") continue;  // credited in process, never through the provider
    }
    const std::string status = kind == "payout_returned" ? "returned" : "succeeded";
    if (!on_statement.count(merchant_ref + "/" + status)) {
      f.mismatches.push_back({{"merchant_ref", merchant_ref},
                              {"ref", ref},
                              {"ledger_kind", kind},
                              {"amount_fen", amount},
                              {"problem", "ledger movement missing from the provider's statement"}});
    }
  }
}

// 3. Parked payouts: unknown outcomes waiting for an operator, whatever the statement says.
void add_parked_payouts(soci::session& s, Findings& f) {
  PayoutQuery parked;
  parked.status = "parked";
  parked.limit = 1000;
  for (const auto& p : list_payouts(s, parked)) {
    const bool listed = std::any_of(f.mismatches.begin(), f.mismatches.end(),
                                    [&](const json& m) { return m.value("payout_id", "") == p.id; });
    if (!listed) {
      f.mismatches.push_back(
          {{"payout_id", p.id},
           {"merchant_ref", p.current_ref},
           {"amount_fen", p.amount_fen},
           {"ledger_status", "parked"},
           {"problem", "parked payout: outcome unknown, not on the statement; operator to resolve"}});
    }
  }
}

}  // namespace

std::optional<json> reconcile_day(db::Database& db, Provider& provider, const std::string& day) {
  const auto start = clock::parse_rfc3339(day + "T00:00:00+08:00");
  if (day.size() != 10 || !start) throw std::invalid_argument("day must be YYYY-MM-DD");
  const auto view = fetch_statements(provider, day);
  if (!view) return std::nullopt;
  const std::int64_t from = *start, to = *start + 24LL * 3600 * 1000;
  Findings f;
  db.tx([&](soci::session& s) {
    // 1. Every movement the provider reports must be in the ledger with the same amount and outcome.
    for (const auto& l : view->lines) {
      if (l.kind == "deposit") {
        check_deposit_line(s, l, f);
      } else {
        check_payout_line(s, l, f);
      }
    }
    check_ledger_movements(s, from, to, view->on_statement, f);
    add_parked_payouts(s, f);
    save_reconciliation(s, {day, clock::now_ms(), crypto::sha256_hex(view->csv), static_cast<int>(view->lines.size()),
                            f.matched, f.mismatches.dump()});
  });
  return json{{"day", day},
              {"lines", view->lines.size()},
              {"matched", f.matched},
              {"mismatches", f.mismatches},
              {"ok", f.mismatches.empty()}};
}

}  // namespace crowd::settlement
