// crowd::redis::Client against a real redis-server started for each test on a free port.
#include "common/redis.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include "common/testing/redis_server.hpp"

namespace {

using crowd::redis::Client;
using crowd::redis::Endpoint;
using crowd::redis::Reply;
using crowd::testing::free_port;
using crowd::testing::RedisServer;

std::vector<std::string> argv_of(std::initializer_list<std::string> l) {
  return l;
}

}  // namespace

TEST_CASE("Endpoint::from_url reads host and port, 6379 by default") {
  Endpoint a = Endpoint::from_url("redis://cache.internal:7000");
  CHECK(a.host == "cache.internal");
  CHECK(a.port == 7000);
  Endpoint b = Endpoint::from_url("redis://10.0.0.5");
  CHECK(b.host == "10.0.0.5");
  CHECK(b.port == 6379);
  Endpoint c = Endpoint::from_url("redis://127.0.0.1:6380/0");
  CHECK(c.host == "127.0.0.1");
  CHECK(c.port == 6380);
  CHECK(Endpoint::from_url("redis://[::1]:6390").host == "::1");
  CHECK_THROWS_AS(Endpoint::from_url("redis://h:port"), std::invalid_argument);
  CHECK_THROWS_AS(Endpoint::from_url("redis://h:70000"), std::invalid_argument);
}

TEST_CASE("command copies every reply kind, an error reply is a value, not an exception") {
  RedisServer server;
  Client c(server.endpoint());
  CHECK(c.command({"SET", "k", std::string("a\0b c", 5)}).kind == Reply::Kind::status);
  Reply got = c.command({"GET", "k"});
  CHECK(got.kind == Reply::Kind::string);
  CHECK(got.str == std::string("a\0b c", 5));  // binary safe
  CHECK(c.command({"GET", "missing"}).kind == Reply::Kind::nil);
  Reply n = c.command({"INCRBY", "n", "41"});
  CHECK(n.kind == Reply::Kind::integer);
  CHECK(n.integer == 41);
  c.command({"RPUSH", "l", "x", "y"});
  Reply list = c.command({"LRANGE", "l", "0", "-1"});
  REQUIRE(list.kind == Reply::Kind::array);
  REQUIRE(list.elements.size() == 2);
  CHECK(list.elements[1].str == "y");
  Reply err = c.command({"INCR", "k"});
  CHECK(err.is_error());
  CHECK(err.str.find("not an integer") != std::string::npos);
  CHECK(c.ping());  // the connection survives an error reply
}

TEST_CASE("pipeline returns the replies in the order of the commands") {
  RedisServer server;
  Client c(server.endpoint());
  std::vector<std::vector<std::string>> cmds;
  for (int i = 0; i < 200; ++i) cmds.push_back(argv_of({"INCR", "counter"}));
  cmds.push_back(argv_of({"GET", "counter"}));
  cmds.push_back(argv_of({"HSET", "counter", "f", "v"}));  // wrong type: an error in the middle of a batch
  cmds.push_back(argv_of({"SET", "after", "1"}));
  std::vector<Reply> replies = c.pipeline(cmds);
  REQUIRE(replies.size() == cmds.size());
  for (int i = 0; i < 200; ++i) CHECK(replies[i].integer == i + 1);
  CHECK(replies[200].str == "200");
  CHECK(replies[201].is_error());
  CHECK(replies[202].str == "OK");
  CHECK(c.pipeline({}).empty());
}

TEST_CASE("a connection error throws, and the next call connects again") {
  RedisServer server;
  Client c(server.endpoint(), std::chrono::milliseconds(500));
  CHECK(c.command({"SET", "k", "v"}).str == "OK");
  server.stop();
  CHECK_THROWS_AS(c.command({"GET", "k"}), std::runtime_error);
  CHECK_THROWS_AS(c.pipeline({argv_of({"PING"}), argv_of({"PING"})}), std::runtime_error);
  CHECK_FALSE(c.ping());
  server.start();
  CHECK(c.ping());
  CHECK(c.command({"GET", "k"}).kind == Reply::Kind::nil);  // a fresh server: no persistence
  CHECK(c.pipeline({argv_of({"PING"})}).at(0).str == "PONG");
}

TEST_CASE("a reply slower than the timeout throws instead of hanging, and the client recovers") {
  RedisServer server;
  Client c(server.endpoint(), std::chrono::milliseconds(200));
  CHECK_THROWS_AS(c.command({"BLPOP", "nothing", "2"}), std::runtime_error);
  CHECK(c.ping());
}

TEST_CASE("connecting to a port with no server throws") {
  Client c(Endpoint{"127.0.0.1", free_port()}, std::chrono::milliseconds(300));
  CHECK_THROWS_AS(c.command({"PING"}), std::runtime_error);
  CHECK_FALSE(c.ping());
}

TEST_CASE("consumer groups: create twice, read, claim, pending, entry") {
  RedisServer server;
  Client c(server.endpoint());
  c.ensure_group("s1", "g");
  c.ensure_group("s1", "g");                                                // BUSYGROUP is ignored
  CHECK(c.command({"XGROUP", "CREATE", "nostream", "g", "0"}).is_error());  // without MKSTREAM it fails
  const std::string id1 = c.command({"XADD", "s1", "*", "event", "one", "extra", "x"}).str;
  const std::string id2 = c.command({"XADD", "s1", "*", "event", "two"}).str;

  std::vector<crowd::redis::StreamEntry> got = c.read_group("g", "alice", {"s1"}, 10, 50);
  REQUIRE(got.size() == 2);
  CHECK(got[0].stream == "s1");
  CHECK(got[0].id == id1);
  CHECK(got[0].field("event") == "one");
  CHECK(got[0].field("extra") == "x");
  CHECK(got[0].field("absent").empty());
  CHECK(got[1].id == id2);
  CHECK(c.read_group("g", "alice", {"s1"}, 10, 20).empty());  // nothing new: BLOCK times out
  CHECK(c.read_group("g", "alice", {"s1"}, 10, 0).empty());   // 0: no BLOCK at all

  // An entry deleted while pending is not handed out by XAUTOCLAIM.
  c.command({"XDEL", "s1", id2});
  std::vector<crowd::redis::StreamEntry> claimed = c.autoclaim("s1", "g", "bob", 0, 10);
  REQUIRE(claimed.size() == 1);
  CHECK(claimed[0].id == id1);
  CHECK(claimed[0].field("event") == "one");

  auto pending = c.pending_idle("s1", "g", 0, 10);
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].first == id1);
  CHECK(pending[0].second == 2);  // read once, claimed once
  CHECK(c.pending_idle("s1", "g", 60'000, 10).empty());

  auto e = c.entry("s1", id1);
  REQUIRE(e.has_value());
  CHECK(e->field("event") == "one");
  CHECK_FALSE(c.entry("s1", id2).has_value());
  CHECK_THROWS_AS(c.read_group("nogroup", "alice", {"s1"}, 10, 0), std::runtime_error);
}

TEST_CASE("read_group reads several streams at once") {
  RedisServer server;
  Client c(server.endpoint());
  c.ensure_group("a", "g");
  c.ensure_group("b", "g");
  c.command({"XADD", "a", "*", "event", "from-a"});
  c.command({"XADD", "b", "*", "event", "from-b"});
  std::vector<crowd::redis::StreamEntry> got = c.read_group("g", "c1", {"a", "b"}, 10, 50);
  REQUIRE(got.size() == 2);
  CHECK(got[0].stream == "a");
  CHECK(got[0].field("event") == "from-a");
  CHECK(got[1].stream == "b");
  CHECK(got[1].field("event") == "from-b");
}

TEST_CASE("writing to a connection the server closed throws instead of killing the process (SIGPIPE)") {
  RedisServer server;
  Client c(server.endpoint(), std::chrono::milliseconds(500));
  CHECK(c.ping());
  server.stop();
  const std::string big(8 << 20, 'x');  // larger than the socket buffers: several write() calls
  CHECK_THROWS_AS(c.pipeline({argv_of({"SET", "a", big}), argv_of({"SET", "b", big})}), std::runtime_error);
}
