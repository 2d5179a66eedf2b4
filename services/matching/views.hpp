// JSON shapes of matching: what workers see over HTTP and what the events carry (schemas/events).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

#include "services/matching/ranking.hpp"
#include "services/matching/rules.hpp"
#include "services/matching/store.hpp"

namespace crowd::matching {

nlohmann::json place_json(const std::optional<GeoPoint>& p);  // {lat, lng} or null
// GET /v1/me/offers item: the offer with its task summary.
nlohmann::json offer_view_json(const store::OfferView& v);
// POST /v1/offers/{id}/decline answer.
nlohmann::json offer_json(const store::OfferRow& o);
// POST /v1/offers/{id}/accept answer and GET /v1/me/assignments item.
nlohmann::json assignment_json(const store::AssignmentRow& a);

// Event data, exactly the catalogue's fields.
nlohmann::json assignment_created_data(const store::AssignmentRow& a);
// offer.created: what accepting the offer would pay (kUnitsPerOffer × the task's pay per unit).
nlohmann::json offer_created_data(const store::OfferRow& o, const store::TaskRow& task);
nlohmann::json units_released_data(const std::string& task_id, const std::string& enterprise_id,
                                   const UnitsReleased& u);

}  // namespace crowd::matching
