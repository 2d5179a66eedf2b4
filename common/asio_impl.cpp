// The one translation unit that compiles Asio and Beast (separate compilation; see shared/BUILDING.md).
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
