// VAT on tax-inclusive prices (shared TAX.md §3). Pure.
#pragma once

#include <cstdint>

namespace crowd::invoicing {

inline constexpr int kVatModernServicesBp = 600;  // 6%: the platform's own services, general taxpayer

struct VatSplit {
  std::int64_t excl_fen;  // amount excluding VAT (金额)
  std::int64_t tax_fen;   // VAT (税额); excl + tax == the inclusive amount, always
};

// excl = round half-up(incl / (1 + rate)), tax = incl − excl. A negative amount (red invoice) splits as the
// mirror image of its positive, so a full reversal cancels the blue invoice to the fen. rate_basis_points in
// [0, 10000]; throws std::invalid_argument otherwise.
VatSplit split_inclusive(std::int64_t incl_fen, int rate_basis_points);

}  // namespace crowd::invoicing
