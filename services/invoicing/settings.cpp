#include "services/invoicing/settings.hpp"

#include <stdexcept>

#include "common/config.hpp"
#include "common/domain/identity.hpp"
#include "common/log.hpp"

namespace crowd::invoicing {

Settings Settings::from_env() {
  Settings out;
  Seller& s = out.seller;
  s.name = config::env_str("CROWD_SELLER_NAME", "众包平台沙箱测试有限公司");
  s.tax_id = domain::check_credit_code(config::env_str("CROWD_SELLER_TAX_ID", "91350100M000100Y43")).normalized;
  s.province = config::env_str("CROWD_INVOICE_PROVINCE", "44");
  const std::string channel = config::env_str("CROWD_INVOICE_CHANNEL", "1");
  s.channel = channel.size() == 1 ? channel[0] : '?';
  if (auto problem = seller_problem(s)) {
    log::error("invalid seller configuration", {{"problem", *problem}});
    throw std::runtime_error("invalid seller configuration: " + *problem);
  }
  return out;
}

}  // namespace crowd::invoicing
