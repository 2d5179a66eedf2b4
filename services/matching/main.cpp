// The matching service: online workers' index, offers and assignments (see api.hpp, consumers.hpp).
#include <chrono>

#include "common/clock.hpp"
#include "common/service.hpp"
#include "services/matching/api.hpp"
#include "services/matching/consumers.hpp"
#include "services/matching/engine.hpp"

int main() {
  crowd::Service svc("matching", 8103);
  const auto cfg = crowd::matching::Settings::from_env();

  crowd::matching::Api api([&svc]() -> crowd::db::Database& { return svc.db(); }, cfg);
  api.add_routes(svc.router());
  crowd::matching::add_consumers(svc.events(), cfg);
  // Expires offers and re-offers tasks left without a pending offer.
  svc.every("matching-sweep", std::chrono::milliseconds(cfg.sweep_period_ms),
            [&svc, cfg] { crowd::matching::sweep(svc.db(), cfg, crowd::clock::now_ms()); });

  return svc.run(crowd::db::embedded_migrations());
}
