#include "services/matching/api.hpp"

#include <soci/soci.h>

#include "common/clock.hpp"
#include "common/db.hpp"
#include "services/matching/offers.hpp"
#include "services/matching/store.hpp"
#include "services/matching/views.hpp"

namespace crowd::matching {

namespace {

using nlohmann::json;

struct AvailabilityRequest {
  bool online = false;
  // Absent: keep the reported place. null: forget it (home is used). {lat, lng}: the new place.
  std::optional<std::optional<GeoPoint>> place;
};

AvailabilityRequest parse_availability(const json& body) {
  http::Fields f(body);
  AvailabilityRequest r;
  r.online = f.boolean("online");
  if (body.contains("place") && body.at("place").is_null()) {
    r.place = std::optional<GeoPoint>();
  } else if (auto p = f.opt_object("place")) {
    http::Fields pf(*p, "place");
    const GeoPoint g{pf.num("lat", -90, 90), pf.num("lng", -180, 180)};
    f.merge(pf);
    r.place = std::optional<GeoPoint>(g);
  }
  f.done();
  return r;
}

const std::string& worker_id_of(const http::Request& req) {
  return http::require_role(req, {auth::Role::worker}).party_id;
}

json page_json(json items, std::size_t limit, const std::string& last_id) {
  const bool more = items.size() == limit;
  return {{"items", std::move(items)}, {"next_cursor", more ? json(last_id) : json(nullptr)}};
}

}  // namespace

void Api::add_routes(http::Router& router) {
  router.put("/v1/me/availability", [this](http::Request& r) { return put_availability(r); });
  router.get("/v1/me/offers", [this](http::Request& r) { return get_offers(r); });
  router.post("/v1/offers/{id}/accept", [this](http::Request& r) { return accept(r); });
  router.post("/v1/offers/{id}/decline", [this](http::Request& r) { return decline(r); });
  router.get("/v1/me/assignments", [this](http::Request& r) { return get_assignments(r); });
}

// PUT /v1/me/availability {online: bool, place?: {lat, lng} | null}. Worker only. Idempotent by nature
// and by Idempotency-Key. 409 worker-not-ready while accounts' worker.registered has not arrived (retry).
// Going (or staying) online offers the worker the open tasks they fit, in the same transaction.
http::Response Api::put_availability(http::Request& req) {
  const std::string worker_id = worker_id_of(req);
  const auto in = parse_availability(req.json_body());
  return run_idempotent(db_(), req, worker_id, [&](soci::session& s) {
    const std::int64_t now = clock::now_ms();
    if (!store::find_worker(s, worker_id)) {
      http::Problem p(409, "worker-not-ready", "Worker not ready",
                      "Matching has not yet learnt of this worker's registration; retry shortly.");
      p.extra["retry_after_s"] = 1;
      throw p;
    }
    store::set_availability(s, worker_id, in.online, in.place, now);
    const int offers = in.online ? offer_open_tasks_to_worker(s, worker_id, cfg_, now) : 0;
    const auto w = store::find_worker(s, worker_id);
    return Outcome::ok(200, {{"worker_id", worker_id},
                             {"online", w->profile.online},
                             {"place", place_json(w->profile.place)},
                             {"updated_at", clock::rfc3339(w->updated_at_ms)},
                             {"offers_created", offers}});
  });
}

// GET /v1/me/offers?limit=&cursor=. Worker only: their pending offers not yet expired, oldest first.
http::Response Api::get_offers(http::Request& req) {
  const std::string worker_id = worker_id_of(req);
  const auto page = http::page_of(req);
  const auto views = db_().with([&](soci::session& s) {
    return store::live_offers_of_worker(s, worker_id, clock::now_ms(), page.cursor, page.limit);
  });
  json items = json::array();
  for (const auto& v : views) items.push_back(offer_view_json(v));
  return http::Response::json_of(200,
                                 page_json(std::move(items), page.limit, views.empty() ? "" : views.back().offer.id));
}

// POST /v1/offers/{id}/accept. The offer's worker only (anyone else: 404). See offers.hpp for the answers.
http::Response Api::accept(http::Request& req) {
  const std::string worker_id = worker_id_of(req);
  const std::string offer_id = req.param("id");
  return run_idempotent(db_(), req, worker_id,
                        [&](soci::session& s) { return accept_offer(s, offer_id, worker_id, clock::now_ms()); });
}

// POST /v1/offers/{id}/decline. The offer's worker only (anyone else: 404). See offers.hpp.
http::Response Api::decline(http::Request& req) {
  const std::string worker_id = worker_id_of(req);
  const std::string offer_id = req.param("id");
  return run_idempotent(db_(), req, worker_id,
                        [&](soci::session& s) { return decline_offer(s, offer_id, worker_id, cfg_, clock::now_ms()); });
}

// GET /v1/me/assignments?limit=&cursor=. Worker only: their assignments, oldest first.
http::Response Api::get_assignments(http::Request& req) {
  const std::string worker_id = worker_id_of(req);
  const auto page = http::page_of(req);
  const auto rows =
      db_().with([&](soci::session& s) { return store::assignments_of_worker(s, worker_id, page.cursor, page.limit); });
  json items = json::array();
  for (const auto& a : rows) items.push_back(assignment_json(a));
  return http::Response::json_of(200, page_json(std::move(items), page.limit, rows.empty() ? "" : rows.back().id));
}

}  // namespace crowd::matching
