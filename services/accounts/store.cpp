#include "services/accounts/store.hpp"

#include "common/db.hpp"

namespace crowd::accounts::store {
namespace {

using db::get_i64;

std::int64_t count_of(soci::session& s, const std::string& sql, const std::string& a) {
  std::int64_t n = 0;
  soci::rowset<soci::row> rs = (s.prepare << sql, soci::use(a));
  for (const soci::row& r : rs) n = get_i64(r, 0);
  return n;
}

std::vector<std::string> skills_from(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const auto& e : j)
    if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

// The worker's row with its current credit score (absent record: the registration default).
constexpr const char* kWorkerCols =
    "w.id, w.real_name_masked, w.id_number_masked, w.phone_masked, w.skills, w.home_lat_e6, w.home_lng_e6, "
    "w.verification_status, w.verification_method, w.created_at_ms, c.score";
constexpr const char* kWorkerFrom = " FROM workers w LEFT JOIN credit_records c ON c.worker_id = w.id ";

WorkerView worker_from(const soci::row& row) {
  db::RowReader r(row, db::column_count(kWorkerCols));
  WorkerView w;
  w.id = r.str();
  w.real_name_masked = r.str();
  w.id_number_masked = r.str();
  w.phone_masked = r.str();
  w.skills = skills_from(r.str());
  const auto lat = r.opt_i64();
  const auto lng = r.opt_i64();
  if (lat && lng) w.home = GeoPoint{*lat, *lng};
  w.verification.status = r.str();
  w.verification.method = r.str();
  w.created_at_ms = r.i64();
  w.credit_score = static_cast<int>(r.opt_i64().value_or(kDefaultCreditScore));
  r.done();
  return w;
}

constexpr const char* kApiKeyColumns = "id, party_id, role, name, created_by, created_at_ms, revoked_at_ms";

ApiKeyRow api_key_from(const soci::row& row) {
  ApiKeyRow k;
  db::RowReader(row, db::column_count(kApiKeyColumns))
      .into(k.id, k.party_id, k.role, k.name, k.created_by, k.created_at_ms, k.revoked_at_ms);
  return k;
}

constexpr const char* kEnterpriseCols =
    "id, name, credit_code, contact_email, verification_status, verification_method, created_at_ms";

EnterpriseView enterprise_from(const soci::row& row) {
  EnterpriseView e;
  db::RowReader(row, db::column_count(kEnterpriseCols))
      .into(e.id, e.name, e.credit_code, e.contact_email, e.verification.status, e.verification.method,
            e.created_at_ms);
  return e;
}

constexpr const char* kSecretCols =
    "real_name_sealed, id_number_sealed, id_number_hmac, phone_sealed, phone_hmac, password_hash";

WorkerSecrets secrets_from(const soci::row& row) {
  WorkerSecrets k;
  db::RowReader(row, db::column_count(kSecretCols))
      .into(k.real_name_sealed, k.id_number_sealed, k.id_number_hmac, k.phone_sealed, k.phone_hmac, k.password_hash);
  return k;
}

constexpr const char* kCreditCols = "worker_id, score, completed_assignments, basis, since_ms";

CreditRecord credit_from(const soci::row& row) {
  CreditRecord c;
  db::RowReader(row, db::column_count(kCreditCols))
      .into(c.worker_id, c.score, c.completed_assignments, c.basis, c.since_ms);
  return c;
}

constexpr const char* kOperatorCols = "id, username, created_at_ms";

OperatorView operator_from(const soci::row& row) {
  OperatorView o;
  db::RowReader(row, db::column_count(kOperatorCols)).into(o.id, o.username, o.created_at_ms);
  return o;
}

constexpr const char* kIntegrationCols = "id, name, created_by, created_at_ms";

IntegrationView integration_from(const soci::row& row) {
  IntegrationView i;
  db::RowReader(row, db::column_count(kIntegrationCols)).into(i.id, i.name, i.created_by, i.created_at_ms);
  return i;
}

// "id, password_hash" of a party's credential row.
constexpr const char* kCredentialCols = "id, password_hash";

}  // namespace

// ---------------------------------------------------------------- enterprises

bool credit_code_taken(soci::session& s, const std::string& credit_code) {
  return count_of(s, "SELECT COUNT(*) FROM enterprises WHERE credit_code = :c", credit_code) > 0;
}

void insert_enterprise(soci::session& s, const EnterpriseView& e, const std::string& password_hash) {
  std::string email = e.contact_email.value_or("");
  soci::indicator email_ind = e.contact_email ? soci::i_ok : soci::i_null;
  s << "INSERT INTO enterprises (id, name, credit_code, contact_email, password_hash, verification_status, "
       "verification_method, created_at_ms) VALUES (:id, :name, :code, :email, :hash, :status, :method, :at)",
      soci::use(e.id), soci::use(e.name), soci::use(e.credit_code), soci::use(email, email_ind),
      soci::use(password_hash), soci::use(e.verification.status), soci::use(e.verification.method),
      soci::use(e.created_at_ms);
}

std::optional<EnterpriseView> find_enterprise(soci::session& s, const std::string& id) {
  soci::rowset<soci::row> rs =
      (s.prepare << "SELECT " << kEnterpriseCols << " FROM enterprises WHERE id = :id", soci::use(id));
  for (const soci::row& r : rs) return enterprise_from(r);
  return std::nullopt;
}

// ---------------------------------------------------------------- workers

bool worker_identity_taken(soci::session& s, const std::string& id_number_hmac, const std::string& phone_hmac) {
  std::int64_t n = 0;
  soci::rowset<soci::row> rs =
      (s.prepare << "SELECT COUNT(*) FROM workers WHERE id_number_hmac = :i OR phone_hmac = :p",
       soci::use(id_number_hmac), soci::use(phone_hmac));
  for (const soci::row& r : rs) n = get_i64(r, 0);
  return n > 0;
}

void insert_worker(soci::session& s, const WorkerView& w, const WorkerSecrets& k) {
  const std::string skills = nlohmann::json(w.skills).dump();
  std::int64_t lat = w.home ? w.home->lat_e6 : 0;
  std::int64_t lng = w.home ? w.home->lng_e6 : 0;
  soci::indicator home_ind = w.home ? soci::i_ok : soci::i_null;
  soci::indicator home_ind2 = home_ind;
  s << "INSERT INTO workers (id, real_name_sealed, real_name_masked, id_number_sealed, id_number_hmac, "
       "id_number_masked, phone_sealed, phone_hmac, phone_masked, password_hash, skills, home_lat_e6, home_lng_e6, "
       "verification_status, verification_method, created_at_ms) VALUES (:id, :rn, :rnm, :idn, :idh, :idm, :ph, "
       ":phh, :phm, :pw, :sk, :lat, :lng, :status, :method, :at)",
      soci::use(w.id), soci::use(k.real_name_sealed), soci::use(w.real_name_masked), soci::use(k.id_number_sealed),
      soci::use(k.id_number_hmac), soci::use(w.id_number_masked), soci::use(k.phone_sealed), soci::use(k.phone_hmac),
      soci::use(w.phone_masked), soci::use(k.password_hash), soci::use(skills), soci::use(lat, home_ind),
      soci::use(lng, home_ind2), soci::use(w.verification.status), soci::use(w.verification.method),
      soci::use(w.created_at_ms);
}

std::optional<WorkerView> find_worker(soci::session& s, const std::string& id) {
  soci::rowset<soci::row> rs =
      (s.prepare << "SELECT " << kWorkerCols << kWorkerFrom << "WHERE w.id = :id", soci::use(id));
  for (const soci::row& r : rs) return worker_from(r);
  return std::nullopt;
}

std::optional<WorkerSecrets> find_worker_secrets(soci::session& s, const std::string& id) {
  soci::rowset<soci::row> rs = (s.prepare << "SELECT " << kSecretCols << " FROM workers WHERE id = :id", soci::use(id));
  for (const soci::row& r : rs) return secrets_from(r);
  return std::nullopt;
}

// ---------------------------------------------------------------- credit records

void insert_credit_record(soci::session& s, const CreditRecord& c) {
  s << "INSERT INTO credit_records (worker_id, score, completed_assignments, basis, since_ms, updated_at_ms) "
       "VALUES (:w, :score, :done, :basis, :since, :updated)",
      soci::use(c.worker_id), soci::use(c.score), soci::use(c.completed_assignments), soci::use(c.basis),
      soci::use(c.since_ms), soci::use(c.since_ms);
}

std::optional<CreditRecord> find_credit_record(soci::session& s, const std::string& worker_id) {
  soci::rowset<soci::row> rs =
      (s.prepare << "SELECT " << kCreditCols << " FROM credit_records WHERE worker_id = :w", soci::use(worker_id));
  for (const soci::row& r : rs) return credit_from(r);
  return std::nullopt;
}

// ---------------------------------------------------------------- password credentials

namespace {
std::optional<PasswordCredential> credential(soci::session& s, const std::string& sql, const std::string& key,
                                             auth::Role role) {
  soci::rowset<soci::row> rs = (s.prepare << sql, soci::use(key));
  for (const soci::row& row : rs) {
    db::RowReader r(row, db::column_count(kCredentialCols));
    PasswordCredential c{r.str(), role, r.str()};
    r.done();
    return c;
  }
  return std::nullopt;
}
}  // namespace

std::optional<PasswordCredential> enterprise_credential(soci::session& s, const std::string& credit_code) {
  return credential(s, std::string("SELECT ") + kCredentialCols + " FROM enterprises WHERE credit_code = :k",
                    credit_code, auth::Role::enterprise);
}

std::optional<PasswordCredential> worker_credential(soci::session& s, const std::string& phone_hmac) {
  return credential(s, std::string("SELECT ") + kCredentialCols + " FROM workers WHERE phone_hmac = :k", phone_hmac,
                    auth::Role::worker);
}

std::optional<PasswordCredential> operator_credential(soci::session& s, const std::string& username) {
  return credential(s, std::string("SELECT ") + kCredentialCols + " FROM operators WHERE username = :k", username,
                    auth::Role::operator_);
}

// ---------------------------------------------------------------- operators and integrations

bool operator_exists(soci::session& s, const std::string& username) {
  return count_of(s, "SELECT COUNT(*) FROM operators WHERE username = :u", username) > 0;
}

bool insert_operator_if_absent(soci::session& s, const OperatorView& op, const std::string& password_hash) {
  soci::statement st =
      (s.prepare << "INSERT INTO operators (id, username, password_hash, created_at_ms) "
                    "VALUES (:id, :u, :h, :at) ON CONFLICT (username) DO NOTHING",
       soci::use(op.id), soci::use(op.username), soci::use(password_hash), soci::use(op.created_at_ms));
  st.execute(true);
  return st.get_affected_rows() > 0;
}

std::optional<OperatorView> find_operator(soci::session& s, const std::string& id) {
  soci::rowset<soci::row> rs =
      (s.prepare << "SELECT " << kOperatorCols << " FROM operators WHERE id = :id", soci::use(id));
  for (const soci::row& r : rs) return operator_from(r);
  return std::nullopt;
}

void insert_integration(soci::session& s, const IntegrationView& i) {
  s << "INSERT INTO integrations (id, name, created_by, created_at_ms) VALUES (:id, :name, :by, :at)", soci::use(i.id),
      soci::use(i.name), soci::use(i.created_by), soci::use(i.created_at_ms);
}

std::optional<IntegrationView> find_integration(soci::session& s, const std::string& id) {
  soci::rowset<soci::row> rs =
      (s.prepare << "SELECT " << kIntegrationCols << " FROM integrations WHERE id = :id", soci::use(id));
  for (const soci::row& r : rs) return integration_from(r);
  return std::nullopt;
}

// ---------------------------------------------------------------- API keys

void insert_api_key(soci::session& s, const ApiKeyRow& k, const std::string& key_sha256) {
  std::string name = k.name.value_or("");
  soci::indicator name_ind = k.name ? soci::i_ok : soci::i_null;
  s << "INSERT INTO api_keys (id, party_id, role, name, key_sha256, created_by, created_at_ms) "
       "VALUES (:id, :party, :role, :name, :hash, :by, :at)",
      soci::use(k.id), soci::use(k.party_id), soci::use(k.role), soci::use(name, name_ind), soci::use(key_sha256),
      soci::use(k.created_by), soci::use(k.created_at_ms);
}

std::optional<ApiKeyRow> find_api_key(soci::session& s, const std::string& id) {
  soci::rowset<soci::row> rs =
      (s.prepare << std::string("SELECT ") + kApiKeyColumns + " FROM api_keys WHERE id = :id", soci::use(id));
  for (const soci::row& r : rs) return api_key_from(r);
  return std::nullopt;
}

std::optional<ApiKeyRow> find_api_key_by_hash(soci::session& s, const std::string& key_sha256) {
  soci::rowset<soci::row> rs =
      (s.prepare << std::string("SELECT ") + kApiKeyColumns + " FROM api_keys WHERE key_sha256 = :h",
       soci::use(key_sha256));
  for (const soci::row& r : rs) return api_key_from(r);
  return std::nullopt;
}

std::int64_t count_active_api_keys(soci::session& s, const std::string& party_id) {
  return count_of(s, "SELECT COUNT(*) FROM api_keys WHERE party_id = :p AND revoked_at_ms IS NULL", party_id);
}

void revoke_api_key(soci::session& s, const std::string& id, std::int64_t now_ms) {
  s << "UPDATE api_keys SET revoked_at_ms = :at WHERE id = :id AND revoked_at_ms IS NULL", soci::use(now_ms),
      soci::use(id);
}

// ---------------------------------------------------------------- audit

void insert_pii_access(soci::session& s, const PiiAccess& a) {
  std::string reason = a.reason.value_or("");
  soci::indicator reason_ind = a.reason ? soci::i_ok : soci::i_null;
  s << "INSERT INTO pii_access_audit (id, operator_id, worker_id, fields, reason, request_id, accessed_at_ms) "
       "VALUES (:id, :op, :w, :f, :reason, :req, :at)",
      soci::use(a.id), soci::use(a.operator_id), soci::use(a.worker_id), soci::use(a.fields),
      soci::use(reason, reason_ind), soci::use(a.request_id), soci::use(a.accessed_at_ms);
}

}  // namespace crowd::accounts::store
