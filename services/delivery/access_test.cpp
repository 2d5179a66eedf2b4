#include "services/delivery/access.hpp"

#include <doctest/doctest.h>

using crowd::auth::Principal;
using crowd::auth::Role;
using namespace crowd::delivery;

TEST_CASE("the worker, the enterprise and operators see a delivery, nobody else") {
  const std::string wkr = "wkr_1", ent = "ent_1";
  CHECK(can_view(Principal{"wkr_1", Role::worker, 0, 0}, wkr, ent));
  CHECK(can_view(Principal{"ent_1", Role::enterprise, 0, 0}, wkr, ent));
  CHECK(can_view(Principal{"op_1", Role::operator_, 0, 0}, wkr, ent));
  CHECK_FALSE(can_view(Principal{"wkr_2", Role::worker, 0, 0}, wkr, ent));
  CHECK_FALSE(can_view(Principal{"ent_2", Role::enterprise, 0, 0}, wkr, ent));
  // An id equal to the other party's does not grant the other party's view.
  CHECK_FALSE(can_view(Principal{"ent_1", Role::worker, 0, 0}, wkr, ent));
  CHECK_FALSE(can_view(Principal{"int_1", Role::integration, 0, 0}, wkr, ent));
}

TEST_CASE("submitting and reviewing belong to one party each") {
  CHECK(is_assigned_worker(Principal{"wkr_1", Role::worker, 0, 0}, "wkr_1"));
  CHECK_FALSE(is_assigned_worker(Principal{"wkr_1", Role::operator_, 0, 0}, "wkr_1"));
  CHECK(is_owning_enterprise(Principal{"ent_1", Role::enterprise, 0, 0}, "ent_1"));
  CHECK_FALSE(is_owning_enterprise(Principal{"ent_2", Role::enterprise, 0, 0}, "ent_1"));
}
