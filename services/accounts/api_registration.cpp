// POST /v1/enterprises and POST /v1/workers.
#include "common/auth.hpp"
#include "common/clock.hpp"
#include "common/domain/identity.hpp"
#include "common/events.hpp"
#include "common/ids.hpp"
#include "services/accounts/api.hpp"
#include "services/accounts/registration.hpp"
#include "services/accounts/store.hpp"

namespace crowd::accounts {

// POST /v1/enterprises — public. Idempotency-Key honoured. 422 lists every bad field (credit_code named
// when its GB 32100 check fails); 409 when the credit code already holds an account. The enterprise and its
// enterprise.registered event commit in one transaction.
http::Response register_enterprise(Context& ctx, http::Request& req) {
  const EnterpriseDraft d = parse_enterprise_registration(req.json_body());
  const auto idem = idempotency_key(ctx, req);
  const VerificationResult v = ctx.verifier->verify_enterprise({d.name, d.credit_code});
  if (v.status == VerificationResult::Status::rejected) throw http::invalid({{"credit_code", v.reason}});
  const std::string password_hash = auth::hash_password(d.password);  // slow: outside the transaction
  return run_idempotent(ctx, idem, [&](soci::session& s) {
    if (store::credit_code_taken(s, d.credit_code))
      throw http::conflict("an enterprise with this credit code is already registered");
    const EnterpriseView e{ids::make("ent"), d.name, d.credit_code, d.contact_email, {status_name(v.status), v.method},
                           clock::now_ms()};
    try {
      store::insert_enterprise(s, e, password_hash);
    } catch (const std::exception& ex) {
      if (db::is_unique_violation(ex))
        throw http::conflict("an enterprise with this credit code is already registered");
      throw;
    }
    events::publish(s, "enterprise.registered", e.id, enterprise_registered_data(e), req.request_id);
    return http::Response::json_of(201, enterprise_json(e));
  });
}

namespace {

// One message for a taken ID number and a taken phone: the caller learns neither which nor whose.
constexpr const char* kWorkerTaken = "an account already exists for these identity details";

store::WorkerSecrets secrets_of(const PiiKeys& keys, const WorkerDraft& d) {
  return store::WorkerSecrets{
      seal_pii(keys, d.real_name), seal_pii(keys, d.id_number),         lookup_hmac(keys, "id_number", d.id_number),
      seal_pii(keys, d.phone),     lookup_hmac(keys, "phone", d.phone), auth::hash_password(d.password)};
}

WorkerView view_of(const WorkerDraft& d, const VerificationResult& v) {
  WorkerView w;
  w.id = ids::make("wkr");
  w.real_name_masked = domain::mask_name(d.real_name);
  w.id_number_masked = domain::mask_id_number(d.id_number);
  w.phone_masked = domain::mask_phone(d.phone);
  w.skills = d.skills;
  w.home = d.home;
  w.verification = {status_name(v.status), v.method};
  w.credit_score = kDefaultCreditScore;
  return w;
}

}  // namespace

// POST /v1/workers — public. Idempotency-Key honoured. 422 lists every bad field (id_number: checksum,
// birth date, age under 16; phone; skills; home); 409 with one message when the ID number or the phone
// already holds an account. The worker, the credit record (default score) and worker.registered commit in
// one transaction. The clear ID number, name and phone are sealed before storage and never returned.
http::Response register_worker(Context& ctx, http::Request& req) {
  const WorkerDraft d = parse_worker_registration(req.json_body(), cst_today(clock::now_ms()));
  const auto idem = idempotency_key(ctx, req);
  const VerificationResult v = ctx.verifier->verify_person({d.real_name, d.id_number});
  if (v.status == VerificationResult::Status::rejected) throw http::invalid({{"id_number", v.reason}});
  const store::WorkerSecrets secrets = secrets_of(ctx.keys, d);  // Argon2id: outside the transaction
  return run_idempotent(ctx, idem, [&](soci::session& s) {
    if (store::worker_identity_taken(s, secrets.id_number_hmac, secrets.phone_hmac)) throw http::conflict(kWorkerTaken);
    WorkerView w = view_of(d, v);
    w.created_at_ms = clock::now_ms();
    try {
      store::insert_worker(s, w, secrets);
    } catch (const std::exception& ex) {
      if (db::is_unique_violation(ex)) throw http::conflict(kWorkerTaken);
      throw;
    }
    store::insert_credit_record(s, {w.id, w.credit_score, 0, "default", w.created_at_ms});
    events::publish(s, "worker.registered", w.id, worker_registered_data(w), req.request_id);
    return http::Response::json_of(201, worker_json(w));
  });
}

}  // namespace crowd::accounts
