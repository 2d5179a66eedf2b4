#include "services/invoicing/vat.hpp"

#include <stdexcept>

namespace crowd::invoicing {

VatSplit split_inclusive(std::int64_t incl_fen, int rate_basis_points) {
  if (rate_basis_points < 0 || rate_basis_points > 10'000) throw std::invalid_argument("VAT rate out of range");
  if (incl_fen < 0) {
    const VatSplit positive = split_inclusive(-incl_fen, rate_basis_points);
    return {-positive.excl_fen, -positive.tax_fen};
  }
  // incl × 10000 / (10000 + rate), rounded half up, in 128 bits so no amount overflows.
  const __int128 den = 10'000 + rate_basis_points;
  const __int128 num = static_cast<__int128>(incl_fen) * 10'000;
  const auto excl = static_cast<std::int64_t>((2 * num + den) / (2 * den));
  return {excl, incl_fen - excl};
}

}  // namespace crowd::invoicing
