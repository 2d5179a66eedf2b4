#include "services/matching/ranking.hpp"

#include <doctest/doctest.h>

#include <cmath>

using namespace crowd::matching;

namespace {

WorkerProfile worker(std::string id, std::vector<std::string> skills, int credit = 50, int load = 0) {
  WorkerProfile w;
  w.id = std::move(id);
  w.skills = normalise_skills(skills);
  w.verified = true;
  w.online = true;
  w.credit_score = credit;
  w.open_assignments = load;
  return w;
}

TaskProfile task(std::vector<std::string> skills) {
  TaskProfile t;
  t.id = "tsk_1";
  t.required_skills = normalise_skills(skills);
  return t;
}

const GeoPoint kPeoplesSquare{31.2304, 121.4737};  // Shanghai
const GeoPoint kTiananmen{39.9087, 116.3975};      // Beijing

}  // namespace

TEST_CASE("haversine: zero, symmetric, and Shanghai–Beijing about 1067 km") {
  CHECK(haversine_m(kPeoplesSquare, kPeoplesSquare) == doctest::Approx(0.0));
  const double d = haversine_m(kPeoplesSquare, kTiananmen);
  CHECK(d == doctest::Approx(haversine_m(kTiananmen, kPeoplesSquare)));
  CHECK(d > 1060000);
  CHECK(d < 1075000);
  // One degree of latitude on the mean sphere: 111.195 km.
  CHECK(haversine_m({0, 0}, {1, 0}) == doctest::Approx(111195.0).epsilon(0.001));
  // Antipodes: half the circumference, no NaN from rounding.
  CHECK(haversine_m({0, 0}, {0, 180}) == doctest::Approx(20015114.0).epsilon(0.001));
}

TEST_CASE("skills are normalised: trimmed, ASCII lower-case, sorted, unique, Chinese kept") {
  CHECK(normalise_skills({" CAD ", "cad", "Welding", "", "设计"}) ==
        std::vector<std::string>{"cad", "welding", "设计"});
}

TEST_CASE("skill fit is the share of required skills the worker has") {
  CHECK(skill_fit_permille({}, {}) == 1000);
  CHECK(skill_fit_permille({"a", "b"}, {"a"}) == 500);
  CHECK(skill_fit_permille({"a", "b", "c"}, {"a", "b", "c", "d"}) == 1000);
  CHECK(skill_fit_permille({"a", "b", "c"}, {"d"}) == 0);
}

TEST_CASE("evaluate excludes offline, unverified, zero-fit and out-of-radius workers") {
  auto t = task({"cad"});
  auto w = worker("wkr_a", {"cad"});
  CHECK(evaluate(t, w).has_value());

  auto offline = w;
  offline.online = false;
  CHECK_FALSE(evaluate(t, offline));
  auto unverified = w;
  unverified.verified = false;
  CHECK_FALSE(evaluate(t, unverified));
  CHECK_FALSE(evaluate(t, worker("wkr_b", {"welding"})));
  // No required skills: everyone fits.
  CHECK(evaluate(task({}), worker("wkr_c", {})).has_value());

  SUBCASE("radius filters on the reported place, else home") {
    t.place = kPeoplesSquare;
    t.radius_m = 5000;
    auto near = w;
    near.home = GeoPoint{31.2404, 121.4737};  // ~1.1 km north
    auto c = evaluate(t, near);
    REQUIRE(c);
    REQUIRE(c->distance_m);
    CHECK(*c->distance_m == doctest::Approx(1112).epsilon(0.01));

    auto moved = near;
    moved.place = kTiananmen;  // reported place wins over home
    CHECK_FALSE(evaluate(t, moved));

    auto nowhere = w;  // no place, no home: distance unknown, cannot be within the radius
    CHECK_FALSE(evaluate(t, nowhere));

    t.radius_m.reset();  // a place without radius ranks by distance but filters nobody
    CHECK(evaluate(t, moved).has_value());
    CHECK(evaluate(t, nowhere).has_value());
  }
}

TEST_CASE("score order: skill fit, then credit, distance and load, ties by worker id") {
  auto t = task({"cad", "cam"});
  SUBCASE("a full skill fit beats a half one") {
    auto ranked = rank(t, {worker("wkr_half", {"cad"}, 100), worker("wkr_full", {"cad", "cam"}, 60)});
    REQUIRE(ranked.size() == 2);
    CHECK(ranked[0].worker_id == "wkr_full");
  }
  SUBCASE("higher credit first") {
    auto ranked = rank(t, {worker("wkr_a", {"cad", "cam"}, 40), worker("wkr_b", {"cad", "cam"}, 90)});
    CHECK(ranked[0].worker_id == "wkr_b");
  }
  SUBCASE("fewer open assignments first") {
    auto ranked = rank(t, {worker("wkr_a", {"cad", "cam"}, 50, 3), worker("wkr_b", {"cad", "cam"}, 50, 0)});
    CHECK(ranked[0].worker_id == "wkr_b");
  }
  SUBCASE("closer first") {
    t.place = kPeoplesSquare;
    t.radius_m = 20000;
    auto far = worker("wkr_a", {"cad", "cam"});
    far.home = GeoPoint{31.3304, 121.4737};  // ~11 km
    auto close = worker("wkr_b", {"cad", "cam"});
    close.home = GeoPoint{31.2354, 121.4737};  // ~0.6 km
    auto ranked = rank(t, {far, close});
    REQUIRE(ranked.size() == 2);
    CHECK(ranked[0].worker_id == "wkr_b");
    CHECK(*ranked[0].distance_m < *ranked[1].distance_m);
  }
  SUBCASE("equal inputs tie exactly and are ordered by worker id, whatever the input order") {
    auto ranked =
        rank(t, {worker("wkr_c", {"cad", "cam"}), worker("wkr_a", {"cad", "cam"}), worker("wkr_b", {"cad", "cam"})});
    REQUIRE(ranked.size() == 3);
    CHECK(ranked[0].score == ranked[2].score);
    CHECK(ranked[0].worker_id == "wkr_a");
    CHECK(ranked[1].worker_id == "wkr_b");
    CHECK(ranked[2].worker_id == "wkr_c");
  }
}

TEST_CASE("score bounds: the best possible worker scores 10000 points") {
  auto t = task({"cad"});
  t.place = kPeoplesSquare;
  t.radius_m = 1000;
  auto w = worker("wkr_a", {"cad"}, 100, 0);
  w.place = kPeoplesSquare;
  auto c = evaluate(t, w);
  REQUIRE(c);
  CHECK(c->score == kSkillPointsMax + kCreditPointsMax + kDistancePointsMax + kLoadPointsMax);
  // Credit outside 0..100 is clamped, a negative load counts as none.
  w.credit_score = 250;
  w.open_assignments = -4;
  CHECK(evaluate(t, w)->score == c->score);
}

TEST_CASE("K = min(candidates, max(3, 2 x free units))") {
  CHECK(offer_target(1, 2, 3, 500) == 3);
  CHECK(offer_target(2, 2, 3, 500) == 4);
  CHECK(offer_target(10, 2, 3, 500) == 20);
  CHECK(offer_target(10, 3, 3, 500) == 30);  // CROWD_MATCH_OFFERS_PER_UNIT
  CHECK(offer_target(0, 2, 3, 500) == 0);
  CHECK(offer_target(-1, 2, 3, 500) == 0);
  CHECK(offer_target(1000, 2, 3, 500) == 500);  // capped
  CHECK(offers_to_create(4, 0, 10) == 4);
  CHECK(offers_to_create(4, 0, 2) == 2);
  CHECK(offers_to_create(4, 3, 10) == 1);
  CHECK(offers_to_create(4, 5, 10) == 0);
}

TEST_CASE("bounding box contains every point within the radius") {
  const GeoPoint c = kPeoplesSquare;
  auto box = bounding_box_e6(c, 10000);
  REQUIRE(box);
  for (int deg = 0; deg < 360; deg += 15) {
    // A point ~9.99 km away in direction deg (flat approximation is enough to probe the edges).
    const double rad = deg * 3.14159265358979323846 / 180;
    GeoPoint p{c.lat + 9990.0 / 111195.0 * std::cos(rad),
               c.lng + 9990.0 / (111195.0 * std::cos(c.lat * 3.14159265358979323846 / 180)) * std::sin(rad)};
    if (haversine_m(c, p) > 10000) continue;
    CHECK(to_e6(p.lat) >= box->lat_min);
    CHECK(to_e6(p.lat) <= box->lat_max);
    CHECK(to_e6(p.lng) >= box->lng_min);
    CHECK(to_e6(p.lng) <= box->lng_max);
  }
  CHECK_FALSE(bounding_box_e6({85, 0}, 1000));      // near a pole
  CHECK_FALSE(bounding_box_e6({0, 179.99}, 5000));  // across the antimeridian
}

TEST_CASE("micro-degree round trip") {
  CHECK(to_e6(31.230416) == 31230416);
  CHECK(to_e6(-121.4737) == -121473700);
  CHECK(from_e6(31230416) == doctest::Approx(31.230416));
}
