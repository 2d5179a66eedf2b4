-- accounts: parties (enterprises, workers, operators, integrations), their credentials, credit records and
-- the audit of operator reads of personal data. Times are ms since the epoch; ids are time-ordered TEXT.

-- Enterprises (发包方). credit_code is the normalised 统一社会信用代码: public registry data, kept in clear and
-- unique, so one legal entity holds one account.
CREATE TABLE enterprises (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  credit_code TEXT NOT NULL UNIQUE,
  contact_email TEXT,
  password_hash TEXT NOT NULL,
  verification_status TEXT NOT NULL,
  verification_method TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL
);

-- Workers (接包方). Personal data (real name, ID number, phone) is stored sealed (XChaCha20-Poly1305 under
-- CROWD_PII_KEY); the *_hmac columns (HMAC-SHA256 under CROWD_PII_HMAC_KEY) carry uniqueness and log-in
-- look-ups without the clear value; the *_masked columns are what responses show. home is kept in
-- micro-degrees (integers: no floating-point column type differs between the backends).
CREATE TABLE workers (
  id TEXT PRIMARY KEY,
  real_name_sealed TEXT NOT NULL,
  real_name_masked TEXT NOT NULL,
  id_number_sealed TEXT NOT NULL,
  id_number_hmac TEXT NOT NULL UNIQUE,
  id_number_masked TEXT NOT NULL,
  phone_sealed TEXT NOT NULL,
  phone_hmac TEXT NOT NULL UNIQUE,
  phone_masked TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  skills TEXT NOT NULL,
  home_lat_e6 BIGINT,
  home_lng_e6 BIGINT,
  verification_status TEXT NOT NULL,
  verification_method TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL
);

-- Public credit record of a worker (信用评价). basis says how score was reached ("default" until scoring
-- from completed work lands).
CREATE TABLE credit_records (
  worker_id TEXT PRIMARY KEY,
  score INTEGER NOT NULL,
  completed_assignments BIGINT NOT NULL,
  basis TEXT NOT NULL,
  since_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL
);

-- Platform operators (平台运营), created from CROWD_OPERATOR_USERNAME / CROWD_OPERATOR_PASSWORD at start.
CREATE TABLE operators (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL
);

-- Integration parties (tax / finance systems), created by an operator; they log in with API keys only.
CREATE TABLE integrations (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL
);

-- API keys: only the SHA-256 of the key is kept (the key is shown once, at creation). role is the role of
-- party_id ("enterprise" or "integration"). revoked_at_ms is set once and never cleared.
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  party_id TEXT NOT NULL,
  role TEXT NOT NULL,
  name TEXT,
  key_sha256 TEXT NOT NULL UNIQUE,
  created_by TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  revoked_at_ms BIGINT
);
CREATE INDEX api_keys_party ON api_keys (party_id, id);

-- Every operator read of clear personal data, written in the transaction of the read.
CREATE TABLE pii_access_audit (
  id TEXT PRIMARY KEY,
  operator_id TEXT NOT NULL,
  worker_id TEXT NOT NULL,
  fields TEXT NOT NULL,
  reason TEXT,
  request_id TEXT,
  accessed_at_ms BIGINT NOT NULL
);
CREATE INDEX pii_access_audit_worker ON pii_access_audit (worker_id, accessed_at_ms);

