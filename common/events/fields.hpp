// The event twin of http::Fields: typed, ranged reads of an event's data that collect every fault and refuse
// the event once, naming them all ("task.created evt_… refused: data.units: must be between 1 and 100000;
// data.title: is required"). Every consumer reads its events through it, so a producer that breaks its
// contract is told everything at once and the event is retried, then dead-lettered (events::Refusal).
//
//   events::Fields f(e);
//   const std::string task_id = f.id("task_id");
//   const std::int64_t units = f.i64("units", 1, 100'000);
//   f.done();  // throws events::Refusal when any read failed
#pragma once

#include "common/events/envelope.hpp"
#include "common/fields.hpp"

namespace crowd::events {

class Fields : public FieldReader {
 public:
  // Reads e.data; faults are named "data.NAME". `e` must outlive the reader.
  explicit Fields(const Event& e);
  // Throws events::Refusal naming the event and every fault when any read failed (logged by the kit).
  void done() const;

 private:
  const Event& event_;
};

}  // namespace crowd::events
