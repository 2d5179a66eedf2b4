// SQL of the invoicing service (schemas/sql/invoicing). Every function runs on the caller's session, inside
// the caller's transaction where it writes.
#pragma once

#include <soci/soci.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "services/invoicing/invoice.hpp"

namespace crowd::invoicing::store {

// Records the enterprise, or refreshes its name and code when it is known (invoices already issued keep
// the buyer as it was on their face).
void upsert_buyer(soci::session& s, const Buyer& b, bool credit_code_ok, std::int64_t now_ms);
std::optional<Buyer> find_buyer(soci::session& s, const std::string& enterprise_id);

// The next sequence number of `year`: increments the counter row (creating it at 0 first). Call in the
// transaction that inserts the invoice with that number, so a rollback gives the number back.
std::int64_t next_sequence(soci::session& s, int year);

// Inserts an issued invoice and its document. Throws on a duplicate settlement_id or number.
void insert_invoice(soci::session& s, const Invoice& inv, int year, std::int64_t sequence, const std::string& document);
bool invoice_exists_for_settlement(soci::session& s, const std::string& settlement_id);

struct StoredInvoice {
  std::string id;
  std::string enterprise_id;
  std::string document;  // JSON text
};
std::optional<StoredInvoice> find_invoice(soci::session& s, const std::string& id);

// Newest first: ids below before_id (none: from the newest), of one enterprise or (empty) of all.
struct ListQuery {
  std::string enterprise_id;
  std::optional<std::string> before_id;
  int limit = 20;
};
std::vector<StoredInvoice> list_invoices(soci::session& s, const ListQuery& q);

// Settlements waiting for their enterprise.
struct Pending {
  std::string settlement_id;
  std::string data;  // the settlement.completed data, JSON text
  std::string trace_id;
};
// Returns false when the settlement is already waiting (a replay).
bool insert_pending(soci::session& s, const std::string& settlement_id, const std::string& enterprise_id,
                    const std::string& data, const std::string& trace_id, std::int64_t now_ms);
bool pending_exists(soci::session& s, const std::string& settlement_id);
std::vector<Pending> pending_of(soci::session& s, const std::string& enterprise_id);  // oldest first
void delete_pending(soci::session& s, const std::string& settlement_id);

}  // namespace crowd::invoicing::store
