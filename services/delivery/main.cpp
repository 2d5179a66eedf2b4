// The delivery service: submissions, reviews, revision rounds and the IP evidence chain (port 8104).
#include <exception>

#include "common/log.hpp"
#include "common/service.hpp"
#include "services/delivery/delivery_service.hpp"

int main() {
  try {
    crowd::Service svc("delivery", 8104);
    crowd::delivery::DeliveryService delivery(svc.db(), crowd::delivery::Settings::from_env());
    delivery.install(svc);
    return svc.run(crowd::db::embedded_migrations());
  } catch (const std::exception& e) {
    crowd::log::error("delivery stopped", {{"error", e.what()}});
    return 1;
  }
}
