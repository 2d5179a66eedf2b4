#include "services/settlement/model.hpp"

#include <stdexcept>

namespace crowd::settlement {

const char* to_string(EscrowStatus s) {
  switch (s) {
    case EscrowStatus::held:
      return "held";
    case EscrowStatus::rejected:
      return "rejected";
    case EscrowStatus::closed:
      return "closed";
  }
  return "?";
}

const char* to_string(ReservationStatus s) {
  switch (s) {
    case ReservationStatus::reserved:
      return "reserved";
    case ReservationStatus::posted:
      return "posted";
    case ReservationStatus::voided:
      return "voided";
  }
  return "?";
}

EscrowStatus escrow_status_of(std::string_view text) {
  for (EscrowStatus s : {EscrowStatus::held, EscrowStatus::rejected, EscrowStatus::closed}) {
    if (text == to_string(s)) return s;
  }
  throw std::logic_error("unknown escrow status: " + std::string(text));
}

ReservationStatus reservation_status_of(std::string_view text) {
  for (ReservationStatus s : {ReservationStatus::reserved, ReservationStatus::posted, ReservationStatus::voided}) {
    if (text == to_string(s)) return s;
  }
  throw std::logic_error("unknown reservation status: " + std::string(text));
}

}  // namespace crowd::settlement
