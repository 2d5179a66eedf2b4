#include "services/accounts/verifier.hpp"

#include <stdexcept>

#include "common/domain/identity.hpp"

namespace crowd::accounts {

std::string status_name(VerificationResult::Status s) {
  switch (s) {
    case VerificationResult::Status::verified:
      return "verified";
    case VerificationResult::Status::pending:
      return "pending";
    case VerificationResult::Status::rejected:
      return "rejected";
  }
  return "pending";
}

// The checksum is re-checked here so the sandbox stays honest when called on its own (tests, future callers
// that skip parsing); a failure is a rejection, not an exception.
VerificationResult SandboxChecksumVerifier::verify_person(const PersonIdentity& person) {
  const domain::IdCheck c = domain::check_id_number(person.id_number, 9999, 12, 31);
  if (!c.ok) return {VerificationResult::Status::rejected, "id_checksum", "the ID number does not pass its check"};
  return {VerificationResult::Status::verified, "id_checksum", {}};
}

VerificationResult SandboxChecksumVerifier::verify_enterprise(const EnterpriseIdentity& enterprise) {
  if (!domain::check_credit_code(enterprise.credit_code).ok)
    return {VerificationResult::Status::rejected, "credit_code_checksum", "the credit code does not pass its check"};
  return {VerificationResult::Status::verified, "credit_code_checksum", {}};
}

std::unique_ptr<IdentityVerifier> make_verifier(const std::string& name) {
  if (name.empty() || name == "sandbox") return std::make_unique<SandboxChecksumVerifier>();
  throw std::invalid_argument("CROWD_IDENTITY_VERIFIER: unknown verifier '" + name +
                              "' (only \"sandbox\", which checks checksums only, is available)");
}

}  // namespace crowd::accounts
