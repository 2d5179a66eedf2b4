// Configuration of the invoicing service.
#pragma once

#include "services/invoicing/invoice.hpp"

namespace crowd::invoicing {

struct Settings {
  // The seller from CROWD_SELLER_NAME, CROWD_SELLER_TAX_ID, CROWD_INVOICE_PROVINCE, CROWD_INVOICE_CHANNEL
  // (sandbox defaults).
  Seller seller;
  // Throws std::runtime_error when the configuration is invalid: better not to start than to issue invoices
  // with a wrong seller.
  static Settings from_env();
};

}  // namespace crowd::invoicing
