// The loop every multi-row read of settlement's store/ shares: run a SELECT and hand each row to a mapper as
// a db::RowReader checked against the SELECT list (every column read, none past the last).
#pragma once

#include <soci/soci.h>

#include <string>
#include <type_traits>
#include <vector>

#include "common/db.hpp"

namespace crowd::settlement::rows {

// Runs "SELECT columns rest" with params bound in order (each an lvalue that outlives the call: soci binds
// by reference) and calls fn(db::RowReader&) for each row.
template <class F, class... P>
void each(soci::session& s, const std::string& columns, const std::string& rest, F&& fn, const P&... params) {
  soci::rowset<soci::row> rows = ((s.prepare << "SELECT " + columns + " " + rest), ..., soci::use(params));
  const std::size_t n = db::column_count(columns);
  for (const auto& row : rows) {
    db::RowReader r(row, n);
    fn(r);
    r.done();
  }
}

// The same, collecting what read(db::RowReader&) makes of each row, in the order of the rows.
template <class F, class... P>
auto all(soci::session& s, const std::string& columns, const std::string& rest, F&& read, const P&... params) {
  std::vector<std::invoke_result_t<F&, db::RowReader&>> out;
  each(
      s, columns, rest, [&](db::RowReader& r) { out.push_back(read(r)); }, params...);
  return out;
}

}  // namespace crowd::settlement::rows
