// The invoicing service: e-invoices (数电票 model) to enterprises for their settlements. See consumers.hpp
// (issuing) and api.hpp (reading).
#include <exception>

#include "common/service.hpp"
#include "services/invoicing/api.hpp"
#include "services/invoicing/consumers.hpp"

int main() {
  crowd::Service svc("invoicing", 8106);
  crowd::invoicing::Seller seller;
  try {
    seller = crowd::invoicing::seller_from_env();
  } catch (const std::exception&) {
    return 2;  // logged by seller_from_env: no invoice with a wrong seller
  }
  crowd::invoicing::Api api(svc.db());
  crowd::invoicing::register_routes(svc.router(), api);
  crowd::invoicing::register_consumers(svc.events(), seller);
  return svc.run(crowd::db::embedded_migrations());
}
