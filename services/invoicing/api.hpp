// HTTP API of the invoicing service: GET /v1/invoices, GET /v1/invoices/{id}. Read-only: invoices are
// issued by the settlement.completed consumer (consumers.hpp).
#pragma once

#include "common/db.hpp"
#include "common/http.hpp"

namespace crowd::invoicing {

class Api {
 public:
  explicit Api(db::Database& db) : db_(db) {}

  http::Response list_invoices(http::Request& req);
  http::Response get_invoice(http::Request& req);

 private:
  db::Database& db_;
};

// GET /v1/invoices and GET /v1/invoices/{id} on `api` (which must outlive the router).
void add_routes(http::Router& router, Api& api);

}  // namespace crowd::invoicing
