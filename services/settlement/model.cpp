#include "services/settlement/model.hpp"

#include "common/enum_text.hpp"

namespace crowd::settlement {

namespace {

constexpr EnumText<EscrowStatus, 3> kEscrowStatus{{"held", "rejected", "closed"}, "escrow status"};
constexpr EnumText<ReservationStatus, 3> kReservationStatus{{"reserved", "posted", "voided"}, "reservation status"};

}  // namespace

const char* to_string(EscrowStatus s) {
  return kEscrowStatus.name(s);
}

const char* to_string(ReservationStatus s) {
  return kReservationStatus.name(s);
}

EscrowStatus escrow_status_of(std::string_view text) {
  return kEscrowStatus.parse(text);
}

ReservationStatus reservation_status_of(std::string_view text) {
  return kReservationStatus.parse(text);
}

}  // namespace crowd::settlement
