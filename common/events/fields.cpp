#include "common/events/fields.hpp"

namespace crowd::events {

Fields::Fields(const Event& e) : FieldReader(e.data, "data"), event_(e) {}

void Fields::done() const {
  if (ok()) return;
  throw Refusal(event_.type + " " + event_.id + " refused: " + summary());
}

}  // namespace crowd::events
