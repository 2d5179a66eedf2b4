#include "services/invoicing/api.hpp"

#include "common/ids.hpp"
#include "services/invoicing/store.hpp"

namespace crowd::invoicing {
namespace {

using auth::Role;
using http::Request;
using http::Response;
using nlohmann::json;

// The query of GET /v1/invoices for this caller; every bad parameter is reported at once (422).
store::ListQuery list_query(const Request& req, const auth::Principal& who) {
  const http::Page page = http::page_of(req, 20, 100);
  store::ListQuery q;
  q.limit = page.limit + 1;  // one more row tells whether a next page exists
  std::vector<http::FieldError> errors;
  if (who.role == Role::enterprise) {
    q.enterprise_id = who.party_id;
  } else if (auto ent = req.query_param("enterprise_id")) {  // operators may narrow to one enterprise
    if (!ids::looks_like(*ent, "ent")) errors.push_back({"enterprise_id", "is not an enterprise id"});
    q.enterprise_id = *ent;
  }
  if (!page.cursor.empty()) {
    auto before = http::decode_cursor(page.cursor, "inv");
    if (!before) errors.push_back({"cursor", "is not a valid cursor"});
    q.before_id = before;
  }
  if (!errors.empty()) throw http::invalid(errors);
  return q;
}

}  // namespace

// GET /v1/invoices?limit=&cursor= (operators also &enterprise_id=). Who: an enterprise (its own invoices) or
// an operator (all); anyone else 403. Newest first; next_cursor is null on the last page. Read-only.
Response Api::list_invoices(Request& req) {
  const auth::Principal& who = http::require_role(req, {Role::enterprise, Role::operator_});
  const store::ListQuery q = list_query(req, who);
  std::vector<store::StoredInvoice> rows = db_.with([&](soci::session& s) { return store::list_invoices(s, q); });
  const bool more = static_cast<int>(rows.size()) == q.limit;
  if (more) rows.pop_back();
  json items = json::array();
  for (const auto& r : rows) items.push_back(json::parse(r.document));
  json next = more ? json(http::encode_cursor(rows.back().id)) : json(nullptr);
  return Response::json_of(200, {{"items", items}, {"next_cursor", next}});
}

// GET /v1/invoices/{id}. Who: the buyer enterprise and operators. Anyone else who is signed in gets 404, so
// the ids of other enterprises' invoices are not confirmed; without a token 401. Read-only. JSON only for now
// (XML and PDF renderings are to come).
Response Api::get_invoice(Request& req) {
  const auth::Principal& who = http::require_auth(req);
  const std::string id = req.param("id");
  auto inv = db_.with([&](soci::session& s) { return store::find_invoice(s, id); });
  const bool may_read =
      who.role == Role::operator_ || (who.role == Role::enterprise && inv && inv->enterprise_id == who.party_id);
  if (!inv || !may_read) throw http::not_found("no invoice " + id);
  return Response::json_of(200, json::parse(inv->document));
}

void add_routes(http::Router& router, Api& api) {
  router.get("/v1/invoices", [&api](Request& r) { return api.list_invoices(r); });
  router.get("/v1/invoices/{id}", [&api](Request& r) { return api.get_invoice(r); });
}

}  // namespace crowd::invoicing
