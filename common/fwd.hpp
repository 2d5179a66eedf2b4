// Declarations of the kit's heavy types for headers that only pass them by reference, so that such a header
// need not include SOCI, the pool or hiredis.
#pragma once

namespace soci {
class session;
}
namespace crowd::db {
class Database;
}
namespace crowd::redis {
class Client;
}
