// SQL of the accounts service (schemas/sql/accounts/001_init.sql). Each function runs one or two
// statements on the caller's session; the caller owns the transaction.
#pragma once

#include <soci/soci.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "services/accounts/credentials.hpp"
#include "services/accounts/registration.hpp"

namespace crowd::accounts::store {

// ---- enterprises
bool credit_code_taken(soci::session& s, const std::string& credit_code);
void insert_enterprise(soci::session& s, const EnterpriseView& e, const std::string& password_hash);
std::optional<EnterpriseView> find_enterprise(soci::session& s, const std::string& id);

// ---- workers: the sealed and keyed columns beside the view
struct WorkerSecrets {
  std::string real_name_sealed;
  std::string id_number_sealed;
  std::string id_number_hmac;
  std::string phone_sealed;
  std::string phone_hmac;
  std::string password_hash;
};
// True when a worker holds either this ID number or this phone (the caller must not say which).
bool worker_identity_taken(soci::session& s, const std::string& id_number_hmac, const std::string& phone_hmac);
void insert_worker(soci::session& s, const WorkerView& w, const WorkerSecrets& secrets);
std::optional<WorkerView> find_worker(soci::session& s, const std::string& id);
std::optional<WorkerSecrets> find_worker_secrets(soci::session& s, const std::string& id);

// ---- credit records
struct CreditRecord {
  std::string worker_id;
  int score = 0;
  std::int64_t completed_assignments = 0;
  std::string basis;
  std::int64_t since_ms = 0;
};
void insert_credit_record(soci::session& s, const CreditRecord& c);
std::optional<CreditRecord> find_credit_record(soci::session& s, const std::string& worker_id);

// ---- password credentials, by log-in identifier
std::optional<PasswordCredential> enterprise_credential(soci::session& s, const std::string& credit_code);
std::optional<PasswordCredential> worker_credential(soci::session& s, const std::string& phone_hmac);
std::optional<PasswordCredential> operator_credential(soci::session& s, const std::string& username);

// ---- operators and integrations
struct OperatorView {
  std::string id;
  std::string username;
  std::int64_t created_at_ms = 0;
};
bool operator_exists(soci::session& s, const std::string& username);
// Inserts unless the username exists (ON CONFLICT DO NOTHING); true when this call created it.
bool insert_operator_if_absent(soci::session& s, const OperatorView& op, const std::string& password_hash);
std::optional<OperatorView> find_operator(soci::session& s, const std::string& id);

struct IntegrationView {
  std::string id;
  std::string name;
  std::string created_by;
  std::int64_t created_at_ms = 0;
};
void insert_integration(soci::session& s, const IntegrationView& i);
std::optional<IntegrationView> find_integration(soci::session& s, const std::string& id);

// ---- API keys
struct ApiKeyRow {
  std::string id;
  std::string party_id;
  std::string role;  // "enterprise" or "integration"
  std::optional<std::string> name;
  std::string created_by;
  std::int64_t created_at_ms = 0;
  std::optional<std::int64_t> revoked_at_ms;
};
void insert_api_key(soci::session& s, const ApiKeyRow& k, const std::string& key_sha256);
std::optional<ApiKeyRow> find_api_key(soci::session& s, const std::string& id);
std::optional<ApiKeyRow> find_api_key_by_hash(soci::session& s, const std::string& key_sha256);
std::int64_t count_active_api_keys(soci::session& s, const std::string& party_id);
// Sets revoked_at_ms once; a second revocation keeps the first time.
void revoke_api_key(soci::session& s, const std::string& id, std::int64_t now_ms);

// ---- audit of operator reads of personal data
struct PiiAccess {
  std::string id;
  std::string operator_id;
  std::string worker_id;
  std::string fields;  // comma-separated field names
  std::optional<std::string> reason;
  std::string request_id;
  std::int64_t accessed_at_ms = 0;
};
void insert_pii_access(soci::session& s, const PiiAccess& a);

}  // namespace crowd::accounts::store
