// The daily reconciliation of the ledger against the payment provider's statement (reconcile.hpp).
#include "services/settlement/reconcile.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "common/clock.hpp"
#include "common/crypto.hpp"
#include "services/settlement/payouts.hpp"

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

}  // namespace

std::optional<json> reconcile_day(db::Database& db, Provider& provider, const std::string& day) {
  const auto start = clock::parse_rfc3339(day + "T00:00:00+08:00");
  if (day.size() != 10 || !start) throw std::invalid_argument("day must be YYYY-MM-DD");
  const auto csv = provider.statement(day);
  if (!csv) return std::nullopt;
  const auto prev_csv = provider.statement(day_before(day));
  const auto lines = parse_statement(*csv);
  std::set<std::string> on_statement;  // merchant_ref/direction of this day and the day before
  for (const auto& l : lines) on_statement.insert(l.merchant_ref + "/" + l.status);
  if (prev_csv) {
    for (const auto& l : parse_statement(*prev_csv)) on_statement.insert(l.merchant_ref + "/" + l.status);
  }
  const long long from = *start, to = *start + 24LL * 3600 * 1000;
  json mismatches = json::array();
  int matched = 0;
  db.tx([&](soci::session& s) {
    // 1. Every movement the provider reports must be in the ledger with the same amount and outcome.
    for (const auto& l : lines) {
      json m{{"merchant_ref", l.merchant_ref}, {"provider_ref", l.provider_ref}, {"kind", l.kind},
             {"provider_status", l.status},    {"amount_fen", l.amount_fen},     {"at", l.at}};
      if (l.kind == "deposit") {
        soci::rowset<soci::row> rows =
            (s.prepare << "SELECT amount_fen, status FROM deposits WHERE id = :id", soci::use(l.merchant_ref));
        std::string ours = "missing";
        for (const auto& r : rows) {
          ours = db::get_str(r, 1);
          if (db::get_i64(r, 0) != l.amount_fen) ours = "amount_differs";
        }
        if (ours == "completed") {
          ++matched;
        } else {
          m["ledger_status"] = ours;
          m["problem"] = "provider credited a deposit the ledger does not show as completed";
          mismatches.push_back(m);
        }
        continue;
      }
      std::string payout_id;
      {
        soci::rowset<soci::row> rows =
            (s.prepare << "SELECT payout_id FROM payout_attempts WHERE merchant_ref = :m", soci::use(l.merchant_ref));
        for (const auto& r : rows) payout_id = db::get_str(r, 0);
      }
      const auto p = payout_id.empty() ? std::nullopt : find_payout(s, payout_id);
      const std::string want = l.status == "returned" ? "returned" : "succeeded";
      const bool ok = p && p->amount_fen == l.amount_fen && p->current_ref == l.merchant_ref &&
                      (p->status == want || (want == "succeeded" && p->status == "returned"));
      if (ok) {
        ++matched;
        continue;
      }
      m["payout_id"] = payout_id;
      m["ledger_status"] = p ? p->status : "missing";
      m["problem"] = p && p->status == "parked" ? "parked payout the provider reports as " + l.status
                                                : "provider movement not matched by the ledger";
      mismatches.push_back(m);
    }
    // 2. Every success the ledger recorded that day must be on the statement (of that day or the day before:
    //    a provider success just before midnight may reach us just after).
    soci::rowset<soci::row> sent =
        (s.prepare << "SELECT t.ref, t.kind, t.amount_fen FROM transfers t WHERE t.kind IN ('payout_sent', "
                      "'payout_returned', 'deposit') AND t.created_at_ms >= :f AND t.created_at_ms < :t",
         soci::use(from), soci::use(to));
    std::vector<std::tuple<std::string, std::string, std::int64_t>> ours;
    for (const auto& r : sent) ours.emplace_back(db::get_str(r, 0), db::get_str(r, 1), db::get_i64(r, 2));
    for (const auto& [ref, kind, amount] : ours) {
      std::string merchant_ref = ref;
      if (kind != "deposit") {
        const auto p = find_payout(s, ref);
        merchant_ref = p ? p->current_ref : ref;
      } else {
        soci::rowset<soci::row> dep = (s.prepare << "SELECT provider FROM deposits WHERE id = :id", soci::use(ref));
        bool instant = false;
        for (const auto& r : dep) instant = db::get_str(r, 0) == "instant";
        if (instant) continue;  // credited in process, never through the provider
      }
      const std::string status = kind == "payout_returned" ? "returned" : "succeeded";
      if (!on_statement.count(merchant_ref + "/" + status)) {
        mismatches.push_back({{"merchant_ref", merchant_ref},
                              {"ref", ref},
                              {"ledger_kind", kind},
                              {"amount_fen", amount},
                              {"problem", "ledger movement missing from the provider's statement"}});
      }
    }
    // 3. Parked payouts: unknown outcomes waiting for an operator, whatever the statement says.
    PayoutQuery parked;
    parked.status = "parked";
    parked.limit = 1000;
    for (const auto& p : list_payouts(s, parked)) {
      const bool listed = std::any_of(mismatches.begin(), mismatches.end(),
                                      [&](const json& m) { return m.value("payout_id", "") == p.id; });
      if (!listed) {
        mismatches.push_back(
            {{"payout_id", p.id},
             {"merchant_ref", p.current_ref},
             {"amount_fen", p.amount_fen},
             {"ledger_status", "parked"},
             {"problem", "parked payout: outcome unknown, not on the statement; operator to resolve"}});
      }
    }
    const long long now = clock::now_ms();
    const std::string sha = crypto::sha256_hex(*csv), text = mismatches.dump();
    const int n = static_cast<int>(lines.size());
    s << "INSERT INTO reconciliations (day, ran_at_ms, statement_sha256, lines, matched, mismatches) VALUES "
         "(:d, :r, :h, :l, :m, :x) ON CONFLICT (day) DO UPDATE SET ran_at_ms = excluded.ran_at_ms, "
         "statement_sha256 = excluded.statement_sha256, lines = excluded.lines, matched = excluded.matched, "
         "mismatches = excluded.mismatches",
        soci::use(day), soci::use(now), soci::use(sha), soci::use(n), soci::use(matched), soci::use(text);
  });
  return json{{"day", day},
              {"lines", lines.size()},
              {"matched", matched},
              {"mismatches", mismatches},
              {"ok", mismatches.empty()}};
}

}  // namespace crowd::settlement
