#include "services/settlement/ledger.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <functional>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/invariant.hpp"

namespace crowd::settlement {

namespace {

std::string owned(const char* kind, const std::string& owner, const char* purpose) {
  if (owner.empty() || owner.find(':') != std::string::npos) {
    throw std::invalid_argument(std::string("bad owner id for a ") + kind + " account");
  }
  return std::string(kind) + ":" + owner + ":" + purpose;
}

// "{prefix}:{owner}:{suffix}" with a non-empty owner free of ':'.
bool matches(std::string_view id, std::string_view prefix, std::string_view suffix) {
  if (id.size() <= prefix.size() + suffix.size() + 2) return false;
  if (id.substr(0, prefix.size()) != prefix || id[prefix.size()] != ':') return false;
  if (id.substr(id.size() - suffix.size()) != suffix || id[id.size() - suffix.size() - 1] != ':') return false;
  const auto owner = id.substr(prefix.size() + 1, id.size() - prefix.size() - suffix.size() - 2);
  return !owner.empty() && owner.find(':') == std::string_view::npos;
}

}  // namespace

std::string enterprise_available(const std::string& enterprise_id) {
  return owned("ent", enterprise_id, "available");
}
std::string task_escrow(const std::string& task_id) {
  return owned("task", task_id, "escrow");
}
std::string worker_payable(const std::string& worker_id) {
  return owned("wkr", worker_id, "payable");
}
std::string worker_payout_pending(const std::string& worker_id) {
  return owned("wkr", worker_id, "payout_pending");
}
std::string enterprise_refund_pending(const std::string& enterprise_id) {
  return owned("ent", enterprise_id, "refund_pending");
}
std::string assignment_reserved(const std::string& assignment_id) {
  return owned("asg", assignment_id, "reserved");
}

std::optional<std::string> account_kind(const std::string& id) {
  if (id == kFeeRevenue) return "platform_fee_revenue";
  if (id == kIitPayable) return "platform_iit_payable";
  if (id == kClearing) return "external_clearing";
  if (matches(id, "ent", "available")) return "enterprise_available";
  if (matches(id, "task", "escrow")) return "task_escrow";
  if (matches(id, "wkr", "payable")) return "worker_payable";
  if (matches(id, "wkr", "payout_pending")) return "worker_payout_pending";
  if (matches(id, "ent", "refund_pending")) return "enterprise_refund_pending";
  if (matches(id, "asg", "reserved")) return "assignment_reserved";
  return std::nullopt;
}

bool may_go_negative(const std::string& account_id) {
  return account_id == kClearing;
}

std::optional<std::string> transfer_problem(const TransferSpec& t) {
  if (t.id.empty()) return "transfer id is empty";
  if (t.kind.empty()) return "transfer kind is empty";
  if (t.amount_fen <= 0) return "amount_fen must be > 0 (transfer " + t.id + ")";
  if (t.currency != "CNY") return "currency must be CNY (transfer " + t.id + ")";
  if (!account_kind(t.debit_account)) return "unknown debit account " + t.debit_account;
  if (!account_kind(t.credit_account)) return "unknown credit account " + t.credit_account;
  if (t.debit_account == t.credit_account) return "debit and credit accounts are the same (" + t.id + ")";
  return std::nullopt;
}

std::optional<std::string> legs_problem(const std::vector<TransferSpec>& legs, const std::string& from,
                                        std::int64_t total_fen) {
  std::int64_t sum = 0;
  for (const auto& leg : legs) {
    if (auto p = transfer_problem(leg)) return p;
    if (leg.debit_account != from) return "leg " + leg.id + " does not leave " + from;
    if (__builtin_add_overflow(sum, leg.amount_fen, &sum)) return "legs overflow";
  }
  if (sum != total_fen) {
    return "legs add up to " + std::to_string(sum) + " fen, expected " + std::to_string(total_fen);
  }
  return std::nullopt;
}

InsufficientFunds::InsufficientFunds(const std::string& acct, std::int64_t amount)
    : std::runtime_error("insufficient funds in " + acct + " for " + std::to_string(amount) + " fen"),
      account(acct),
      amount_fen(amount) {}

namespace {

// Accounts this session has seen committed, so that transfer() need not open them again: a settlement
// touches the same escrow three times and the platform accounts every time. Accounts are never deleted, so
// a committed one stays known. What the current transaction learns (an account it found present, which it
// may have inserted itself) becomes known only when it commits; a rollback, also to a savepoint, forgets it.
struct KnownAccounts final : db::TxHook {
  static constexpr std::size_t kMax = 200'000;  // bounded memory: start again when full
  std::unordered_set<std::string> known;
  std::vector<std::string> learnt;  // in the open transaction

  void after_commit() noexcept override {
    if (known.size() + learnt.size() > kMax) known.clear();
    for (auto& id : learnt) known.insert(std::move(id));
    learnt.clear();
  }
  void after_rollback() noexcept override { learnt.clear(); }
};

void open_account(soci::session& s, const std::string& id, long long now) {
  KnownAccounts& memo = db::tx_hook<KnownAccounts>(s);
  if (memo.known.count(id) != 0) return;
  const std::string kind = *account_kind(id);
  const int negative = may_go_negative(id) ? 1 : 0;
  const long long inserted =
      db::prepared(s,
                   "INSERT INTO accounts (id, kind, allow_negative, balance_fen, currency, created_at_ms) "
                   "VALUES (:id, :kind, :neg, 0, 'CNY', :now) ON CONFLICT (id) DO NOTHING")
          .run(id, kind, negative, now)
          .affected_rows();
  // Only an account found present is learnt: one opened just now may be touched never again (an
  // assignment's reservation account is opened by its reservation and only debited after), and memoising
  // every one of those would grow the memo with every assignment up to kMax.
  if (inserted != 0) return;
  if (db::in_transaction(s)) {
    memo.learnt.push_back(id);
  } else {
    if (memo.known.size() >= KnownAccounts::kMax) memo.known.clear();
    memo.known.insert(id);
  }
}

// An account that cannot go negative and was never opened holds 0: any debit of it fails the conditional
// update (InsufficientFunds) without opening it first. Only one that may go negative is opened here.
void open_debit_account(soci::session& s, const std::string& id, long long now) {
  if (may_go_negative(id)) open_account(s, id, now);
}

// The id is taken: it must be the same effect, or two different effects were given one id.
void check_same_effect(soci::session& s, const TransferSpec& t) {
  const soci::row* r =
      db::prepared(s, "SELECT debit_account, credit_account, amount_fen FROM transfers WHERE id = :id").run(t.id).row();
  invariant(r != nullptr, "transfer " + t.id + " neither inserted nor found");
  invariant(db::get_str(*r, 0) == t.debit_account && db::get_str(*r, 1) == t.credit_account &&
                db::get_i64(*r, 2) == t.amount_fen,
            "transfer id " + t.id + " reused for a different effect");
}

// Credits to the platform's own accounts (every settlement credits the fee and the IIT account) are
// added up in memory and written as one update per account just before the transaction commits (a
// db::TxHook), instead of an update of the same hot row per settlement. A credit can never overdraw, so
// nothing it guards waits for it; a read of such an account, or a debit of it, writes the totals first.
struct PendingCredits final : db::TxHook {
  std::vector<std::pair<std::string, long long>> totals;  // few accounts: a vector beats a map

  void add(const std::string& account, long long amount) {
    for (auto& [id, total] : totals) {
      if (id == account) {
        total += amount;
        return;
      }
    }
    totals.emplace_back(account, amount);
  }
  bool holds(const std::string& account) const {
    for (const auto& [id, total] : totals) {
      if (id == account) return true;
    }
    return false;
  }
  void before_commit(soci::session& s) override {
    auto pending = std::move(totals);
    totals.clear();
    // Always in the same order: two instances committing at once (PostgreSQL) lock the rows alike and
    // cannot deadlock on them.
    std::sort(pending.begin(), pending.end());
    for (const auto& [id, total] : pending) credit_now(s, id, total);
  }
  void after_rollback() noexcept override { totals.clear(); }

  static void credit_now(soci::session& s, const std::string& account, long long amount) {
    invariant(db::prepared(s, "UPDATE accounts SET balance_fen = balance_fen + :a WHERE id = :id")
                      .run(amount, account)
                      .affected_rows() == 1,
              "credit account vanished: " + account);
  }
};

bool deferred_credit_account(const std::string& account) {
  return account == kFeeRevenue || account == kIitPayable;
}

void credit(soci::session& s, const std::string& account, long long amount) {
  if (deferred_credit_account(account) && db::in_transaction(s)) {
    db::tx_hook<PendingCredits>(s).add(account, amount);
    return;
  }
  PendingCredits::credit_now(s, account, amount);
}

// Before the stored balance of `account` is read or debited: its deferred credits are written first.
void settle_deferred(soci::session& s, const std::string& account) {
  if (!deferred_credit_account(account) || !db::in_transaction(s)) return;
  auto& pending = db::tx_hook<PendingCredits>(s);
  if (pending.holds(account)) pending.before_commit(s);
}

// The guard against overdraft is this conditional update, not any earlier read.
void debit(soci::session& s, const std::string& account, long long amount) {
  settle_deferred(s, account);
  if (db::prepared(s,
                   "UPDATE accounts SET balance_fen = balance_fen - :a WHERE id = :id "
                   "AND (allow_negative = 1 OR balance_fen >= :b)")
          .run(amount, account, amount)
          .affected_rows() != 1) {
    throw InsufficientFunds(account, amount);
  }
}

// Inserts the transfer's row; false when its id is taken by the same effect (a duplicate).
bool insert_transfer(soci::session& s, const TransferSpec& t, long long now) {
  // The insert decides duplicates atomically: on PostgreSQL a concurrent writer of the same id waits for
  // the first one's commit and then sees the conflict.
  const long long amount = t.amount_fen;
  const long long inserted =
      db::prepared(s,
                   "INSERT INTO transfers (id, debit_account, credit_account, amount_fen, currency, kind, ref, "
                   "created_at_ms) VALUES (:id, :d, :c, :a, :cur, :k, :r, :now) ON CONFLICT (id) DO NOTHING")
          .run(t.id, t.debit_account, t.credit_account, amount, t.currency, t.kind, t.ref, now)
          .affected_rows();
  if (inserted != 0) return true;
  check_same_effect(s, t);
  return false;
}

}  // namespace

Applied transfer(soci::session& s, const TransferSpec& t) {
  if (auto problem = transfer_problem(t)) throw std::logic_error("invalid transfer: " + *problem);
  const long long now = clock::now_ms();
  open_debit_account(s, t.debit_account, now);
  open_account(s, t.credit_account, now);
  if (!insert_transfer(s, t, now)) return Applied::duplicate;
  debit(s, t.debit_account, t.amount_fen);
  credit(s, t.credit_account, t.amount_fen);
  return Applied::applied;
}

Applied post_legs(soci::session& s, const std::vector<TransferSpec>& legs, std::int64_t total_fen,
                  const std::function<void(const TransferSpec&)>& after_leg) {
  if (legs.empty()) throw std::logic_error("post_legs: no legs");
  if (auto problem = legs_problem(legs, legs.front().debit_account, total_fen)) {
    throw std::logic_error("invalid legs: " + *problem);
  }
  const long long now = clock::now_ms();
  open_debit_account(s, legs.front().debit_account, now);
  for (const auto& leg : legs) {
    open_account(s, leg.credit_account, now);
    if (!insert_transfer(s, leg, now)) return Applied::duplicate;
    credit(s, leg.credit_account, leg.amount_fen);
    if (after_leg) after_leg(leg);
  }
  debit(s, legs.front().debit_account, total_fen);
  return Applied::applied;
}

Applied transfer(soci::session& s, const std::string& id, const std::string& from, const std::string& to,
                 std::int64_t amount_fen, const std::string& kind, const std::string& ref) {
  TransferSpec t;
  t.id = id;
  t.debit_account = from;
  t.credit_account = to;
  t.amount_fen = amount_fen;
  t.kind = kind;
  t.ref = ref;
  return transfer(s, t);
}

bool transfer_exists(soci::session& s, const std::string& id) {
  return db::prepared(s, "SELECT 1 FROM transfers WHERE id = :id").run(id).row() != nullptr;
}

std::int64_t balance_of(soci::session& s, const std::string& account_id) {
  settle_deferred(s, account_id);
  const soci::row* r = db::prepared(s, "SELECT balance_fen FROM accounts WHERE id = :id").run(account_id).row();
  return r == nullptr ? 0 : db::get_i64(*r, 0);
}

std::optional<std::int64_t> checked_mul(std::int64_t a, std::int64_t b) {
  std::int64_t out = 0;
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &out)) return std::nullopt;
  return out;
}

}  // namespace crowd::settlement
