// Deposits, balances and statements.
#include <soci/soci.h>

#include <map>

#include "common/clock.hpp"
#include "common/idempotency.hpp"
#include "common/ids.hpp"
#include "common/log.hpp"
#include "common/money.hpp"
#include "common/service.hpp"
#include "services/settlement/api.hpp"
#include "services/settlement/ledger.hpp"
#include "services/settlement/rules.hpp"
#include "services/settlement/statements.hpp"
#include "services/settlement/store/money.hpp"

namespace crowd::settlement {

namespace {

using auth::Role;
using nlohmann::json;

constexpr std::int64_t kDepositMaxFen = 1'000'000'000'000;  // 10^10 yuan: bounds the sandbox top-up
constexpr int kStatementMaxTransfers = 10'000;

json money(std::int64_t fen) {
  return crowd::money::to_json(fen);
}

json enterprise_balance(soci::session& s, const std::string& enterprise_id) {
  return {{"available", money(balance_of(s, enterprise_available(enterprise_id)))},
          {"escrow", money(escrow_total_of(s, enterprise_id))}};
}

// A new deposit inside the transaction that claimed its key (idempotency::run): the key is claimed before
// any money moves, so two concurrent first uses cannot both credit (the second waits for the first and
// answers with its response).
http::Response deposit_once(soci::session& s, const std::string& enterprise_id, const std::string& key,
                            std::int64_t amount_fen) {
  DepositRecord d;
  d.id = ids::make("dep");
  d.enterprise_id = enterprise_id;
  d.idempotency_key = key;
  d.amount_fen = amount_fen;
  d.transfer_id = "dep:" + enterprise_id + ":" + key;
  d.provider = "instant";  // credited in process: no provider, nothing to reconcile
  d.created_at_ms = clock::now_ms();
  if (transfer(s, d.transfer_id, kClearing, enterprise_available(enterprise_id), amount_fen, "deposit", d.id) ==
      Applied::duplicate) {
    throw std::logic_error("deposit transfer " + d.transfer_id + " exists without its idempotency record");
  }
  insert_deposit(s, d);
  const json out{{"deposit_id", d.id},
                 {"status", d.status},
                 {"provider", d.provider},
                 {"transfer_id", d.transfer_id},
                 {"amount", money(amount_fen)},
                 {"balance", enterprise_balance(s, enterprise_id)},
                 {"created_at", clock::rfc3339(d.created_at_ms)}};
  crash_point("settlement.deposit.before_commit");
  return http::Response::json_of(201, out);
}

}  // namespace

// POST /v1/deposits — enterprises only; the Idempotency-Key header is required (400 without it).
// Without a payment provider (CROWD_PROVIDER_URL unset: development, unit tests) the top-up is "instant":
// no money moves anywhere, the deposit is credited at once
// with transfer "dep:{enterprise}:{key}" from external:clearing to ent:{enterprise}:available.
// Same key + same body → the first response again (header Idempotent-Replayed: true); same key + another
// body → 422 idempotency-key-reuse. Body {amount: {amount_fen 1..10^12, currency "CNY"}}, fully validated
// before anything is written. → 201 {deposit_id, status, provider, transfer_id, amount, balance, created_at}.
DepositInput deposit_input(http::Request& req) {
  const auto& who = http::require_role(req, {Role::enterprise});
  DepositInput in;
  in.enterprise_id = who.party_id;
  in.options.required = true;
  in.key = *idempotency::key_of(req, "POST /v1/deposits " + who.party_id, in.options);
  const json body = req.json_body();
  http::Fields f(body);
  in.amount_fen = f.money_fen("amount", 1, kDepositMaxFen);
  f.done();
  return in;
}

http::Response post_deposit(db::Database& db, http::Request& req) {
  const DepositInput in = deposit_input(req);
  return idempotency::run(
      db, in.key, [&](soci::session& s) { return deposit_once(s, in.enterprise_id, in.key.key, in.amount_fen); },
      in.options);
}

// GET /v1/balances/me — enterprises and workers, their own balances only.
// enterprise → {party_id, role, available, escrow (its tasks' escrow accounts and open reservations)};
// worker → {party_id, role, payable, earned_gross_ytd, iit_withheld_ytd, tax_year} (year to date in CST).
http::Response get_my_balance(db::Database& db, http::Request& req) {
  const auto& who = http::require_role(req, {Role::enterprise, Role::worker});
  return read_consistent(db, [&](soci::session& s) {
    json out{{"party_id", who.party_id}, {"role", auth::role_name(who.role)}};
    if (who.role == Role::enterprise) {
      out.update(enterprise_balance(s, who.party_id));
      return http::Response::json_of(200, out);
    }
    const int year = clock::cst_year_month(clock::now_ms()).year;
    const auto iit = load_iit_year(s, who.party_id, year);
    out["payable"] = money(balance_of(s, worker_payable(who.party_id)));
    out["earned_gross_ytd"] = money(iit ? iit->cum_income_fen : 0);
    out["iit_withheld_ytd"] = money(iit ? iit->cum_withheld_fen : 0);
    out["tax_year"] = year;
    return http::Response::json_of(200, out);
  });
}

namespace {

json transfer_line(const TransferSpec& t) {
  return {{"transfer_id", t.id},
          {"kind", t.kind},
          {"ref", t.ref},
          {"debit_account", t.debit_account},
          {"credit_account", t.credit_account.empty() ? json(nullptr) : json(t.credit_account)},
          {"amount", money(t.amount_fen)},
          {"created_at", clock::rfc3339(t.created_at_ms)},
          {"created_at_ms", t.created_at_ms}};
}

// Opening/closing per account, checked on read: opening + credits − debits of the listed transfers must
// equal the closing balance rebuilt independently (skipped when the list was truncated).
std::vector<AccountMovement> movements_of(const std::string& main_account,
                                          const std::map<std::string, std::int64_t>& open,
                                          const std::map<std::string, std::int64_t>& close,
                                          const std::vector<TransferSpec>& transfers, bool truncated) {
  std::map<std::string, AccountMovement> by_account{{main_account, AccountMovement{main_account}}};
  for (const auto& [id, fen] : open) by_account[id].opening_fen = fen;
  for (const auto& [id, fen] : close) by_account.try_emplace(id, AccountMovement{id});
  std::vector<AccountMovement> out;
  for (auto& [id, m] : by_account) {
    m.account = id;
    out.push_back(m);
  }
  for (const auto& t : transfers) apply_to_movements(out, t);
  for (const auto& m : out) {
    const auto it = close.find(m.account);
    const std::int64_t closing = it == close.end() ? 0 : it->second;
    if (!truncated && m.closing_fen() != closing) {
      log::error("statement does not add up", {{"account", m.account}, {"closing_fen", closing}});
      throw std::logic_error("statement of " + m.account + " does not add up");
    }
  }
  return out;
}

struct StatementTotals {
  json accounts = json::array();                 // one line per account
  std::int64_t main_open = 0, main_close = 0;    // the party's main account
  std::int64_t other_open = 0, other_close = 0;  // its task escrows (enterprises)
};

StatementTotals totals_of(const std::string& main_account, const std::vector<AccountMovement>& movements,
                          const std::map<std::string, std::int64_t>& close) {
  StatementTotals t;
  for (const auto& m : movements) {
    const auto it = close.find(m.account);
    const std::int64_t closing = it == close.end() ? 0 : it->second;
    const bool main = m.account == main_account;
    (main ? t.main_open : t.other_open) += m.opening_fen;
    (main ? t.main_close : t.other_close) += closing;
    t.accounts.push_back({{"account", m.account},
                          {"kind", account_kind(m.account).value_or("unknown")},
                          {"opening", money(m.opening_fen)},
                          {"credits", money(m.credits_fen)},
                          {"debits", money(m.debits_fen)},
                          {"closing", money(closing)}});
  }
  return t;
}

}  // namespace

// GET /v1/statements/me?period=YYYY-MM — enterprises and workers, their own accounts only.
// The month is China Standard Time. → {party_id, role, period, from, to, opening, closing, accounts[],
// transfers[], truncated, summary, then enterprises: invoices[]; workers: payouts[] and settlements[]
// (each settlement with its tax computation)}.
// An enterprise's settlement legs are merged per settlement (the worker's tax stays private).
http::Response get_my_statement(db::Database& db, http::Request& req) {
  const auto& who = http::require_role(req, {Role::enterprise, Role::worker});
  const auto period = parse_period(req.query_param("period").value_or(""));
  if (!period) throw http::invalid({{"period", "required, as YYYY-MM (China Standard Time month)"}});
  const bool enterprise = who.role == Role::enterprise;
  const std::string account = enterprise ? enterprise_available(who.party_id) : worker_payable(who.party_id);
  return read_consistent(db, [&](soci::session& s) {
    const auto open = owned_balances_at(s, account, who.party_id, period->start_ms);
    const auto close = owned_balances_at(s, account, who.party_id, period->end_ms);
    // One more than the statement lists tells it the list was cut.
    auto transfers = owned_transfers_in(s, account, who.party_id, *period, kStatementMaxTransfers + 1);
    const bool truncated = transfers.size() > static_cast<std::size_t>(kStatementMaxTransfers);
    if (truncated) transfers.resize(kStatementMaxTransfers);
    const StatementTotals totals = totals_of(account, movements_of(account, open, close, transfers, truncated), close);

    json out{{"party_id", who.party_id},
             {"role", auth::role_name(who.role)},
             {"period", period->label},
             {"from", clock::rfc3339(period->start_ms)},
             {"to", clock::rfc3339(period->end_ms)},
             {"accounts", totals.accounts},
             {"truncated", truncated},
             {"transfers", json::array()}};
    const char* main_name = enterprise ? "available" : "payable";
    out["opening"] = {{main_name, money(totals.main_open)}};
    out["closing"] = {{main_name, money(totals.main_close)}};
    if (enterprise) {
      out["opening"]["escrow"] = money(totals.other_open);
      out["closing"]["escrow"] = money(totals.other_close);
      transfers = merge_settlement_legs(transfers);
    }
    for (const auto& t : transfers) out["transfers"].push_back(transfer_line(t));
    // The period's figures (statements.hpp): deposits, holds, releases, refunds, fees and invoices for an
    // enterprise; earnings, tax withheld and payouts for a worker.
    out.update(enterprise ? enterprise_period_summary(s, who.party_id, *period)
                          : worker_period_summary(s, who.party_id, *period));
    if (!enterprise) {
      out["settlements"] = json::array();
      for (const auto& r : settlements_of_worker(s, who.party_id, period->start_ms, period->end_ms)) {
        out["settlements"].push_back(settlement_json(r, true));
      }
    }
    return http::Response::json_of(200, out);
  });
}

}  // namespace crowd::settlement
