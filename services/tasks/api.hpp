// HTTP API of the tasks service: POST /v1/tasks, GET /v1/tasks, GET /v1/tasks/{id},
// POST /v1/tasks/{id}/cancel. Handlers are thin: authorise, validate (task_spec), decide (lifecycle),
// store and publish in one transaction.
#pragma once

#include "common/db.hpp"
#include "common/http.hpp"

namespace crowd::tasks {

class Api {
 public:
  explicit Api(db::Database& db) : db_(db) {}

  http::Response post_task(http::Request& req);
  http::Response get_task(http::Request& req);
  http::Response list_tasks(http::Request& req);
  http::Response cancel_task(http::Request& req);

 private:
  db::Database& db_;
};

// POST /v1/tasks, GET /v1/tasks, GET /v1/tasks/{id}, POST /v1/tasks/{id}/cancel.
void add_routes(http::Router& router, Api& api);

}  // namespace crowd::tasks
