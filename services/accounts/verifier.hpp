// The seam for real-name verification (实名认证). Registration parses and checksums the numbers first; a
// verifier then decides whether the identity is real. Production needs a checker that asks an authority
// (a person: name + ID number against the public-security identity service; an enterprise: the credit code
// against the national enterprise credit registry). None is wired in yet: the only implementation is the
// sandbox one below, which proves nothing beyond the checksums and says so in its method names.
#pragma once

#include <memory>
#include <string>

namespace crowd::accounts {

struct PersonIdentity {
  std::string real_name;
  std::string id_number;  // normalised, checksum passed
};

struct EnterpriseIdentity {
  std::string name;
  std::string credit_code;  // normalised, checksum passed
};

struct VerificationResult {
  enum class Status { verified, pending, rejected };
  Status status = Status::pending;
  std::string method;  // how it was decided: "id_checksum", "credit_code_checksum", ...
  std::string reason;  // for rejected: shown to the caller, so it must hold no personal data
};
std::string status_name(VerificationResult::Status s);  // "verified", "pending", "rejected"

// Called before the registering transaction (a real implementation makes a remote call); must be
// thread-safe and must not log the identity it receives.
class IdentityVerifier {
 public:
  virtual ~IdentityVerifier() = default;
  virtual VerificationResult verify_person(const PersonIdentity& person) = 0;
  virtual VerificationResult verify_enterprise(const EnterpriseIdentity& enterprise) = 0;
};

// Sandbox: marks every identity whose number passed its checksum as verified, with the methods
// "id_checksum" and "credit_code_checksum". It does not know whether the person or the enterprise exists.
class SandboxChecksumVerifier final : public IdentityVerifier {
 public:
  VerificationResult verify_person(const PersonIdentity& person) override;
  VerificationResult verify_enterprise(const EnterpriseIdentity& enterprise) override;
};

// From CROWD_IDENTITY_VERIFIER ("sandbox", the default and for now the only value); throws
// std::invalid_argument on any other value, so a deployment asking for a real checker does not silently get
// the sandbox.
std::unique_ptr<IdentityVerifier> make_verifier(const std::string& name);

}  // namespace crowd::accounts
