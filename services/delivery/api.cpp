#include "services/delivery/api.hpp"

namespace crowd::delivery {

void add_routes(http::Router& r, Api& api) {
  r.post("/v1/assignments/{id}/submissions", [&api](http::Request& q) { return api.submit(q); });
  r.get("/v1/assignments/{id}/submissions", [&api](http::Request& q) { return api.assignment_submissions(q); });
  r.get("/v1/submissions", [&api](http::Request& q) { return api.list_submissions(q); });
  r.get("/v1/submissions/{id}", [&api](http::Request& q) { return api.get_submission(q); });
  r.post("/v1/submissions/{id}/review", [&api](http::Request& q) { return api.review(q); });
  r.get("/v1/evidence/{id}", [&api](http::Request& q) { return api.get_evidence(q); });
}

}  // namespace crowd::delivery
