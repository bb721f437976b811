// Dynamic-peer places (issue 14): a session that ended, or a connection that never sent its
// OPEN, must not keep a place of its range, and every refusal is counted.
//
// A passive Process on 127.0.0.1 accepts a dynamic range; routers are speaker-library Processes
// on the same io_context, one per source address (127.0.0.2, .3, ...), and silent or scripted
// connections are raw POSIX sockets. The io_context runs on its own thread; Process and Peer
// methods run on it through Loop::call, and every wait is bounded.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "codec/bgp/message.hpp"
#include "codec/bgp/notification_codes.hpp"
#include "codec/wire/writer.hpp"
#include "speaker/process.hpp"
#include "tests/support/bgp_bytes.hpp"
#include "tests/support/io_loop.hpp"
#include "tests/support/raw_bgp_connection.hpp"

namespace bgpscribe::speaker {
namespace {

namespace asio = boost::asio;
namespace bgp = codec::bgp;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

constexpr auto* ip = &tests::address;
using Loop = tests::IoLoop;
using tests::StopLoopFirst;
using RawConnection = tests::RawBgpConnection;

PeerConfig router_config(std::uint32_t as, const std::string& address, std::uint16_t port) {
  PeerConfig c;
  c.local_as = as;
  c.local_id = ip(address).v4_host_order();
  c.peer_as = 65001;
  c.peer_address = ip("127.0.0.1");
  c.peer_port = port;
  c.local_address = ip(address);
  c.connect_retry = 1s;
  c.idle_hold = 100ms;
  c.idle_hold_max = 500ms;
  return c;
}

// The collector side: a passive Process with one dynamic range 127.0.0.0/24, plus the routers.
struct Fixture {
  Loop loop;
  Process collector{loop.io()};
  std::vector<std::unique_ptr<Process>> routers;
  std::uint16_t port = 0;
  std::mutex mu;
  std::vector<std::string> removed;  // on_peer_removed, by address
  std::vector<std::string> refused;  // on_refused: "address why"

  explicit Fixture(const std::function<void(DynamicPeers&)>& tweak) {
    loop.call([&] {
      port = collector.listen(ip("127.0.0.1"), 0);
      DynamicPeers d;
      d.range = *bgp::Prefix::parse("127.0.0.0/24");
      d.peer_template.local_as = 65001;
      d.peer_template.local_id = ip("10.0.0.1").v4_host_order();
      d.on_peer_removed = [this](Peer& p) {
        std::lock_guard lock(mu);
        removed.push_back(p.config().peer_address.to_string());
      };
      d.on_refused = [this](const bgp::IpAddress& a, std::string_view why) {
        std::lock_guard lock(mu);
        refused.push_back(a.to_string() + " " + std::string(why));
      };
      tweak(d);
      collector.add_dynamic_peers(d);
    });
  }
  ~Fixture() {
    // Processes go on the io thread, then the loop stops before `collector` goes.
    loop.call([&] { routers.clear(); });
    loop.stop();
  }
  // A router (AS 65010 + n) connecting from `address`; returns its Peer.
  Peer& add_router(const std::string& address, std::uint32_t n) {
    return loop.call([&]() -> Peer& {
      routers.push_back(std::make_unique<Process>(loop.io()));
      Peer& p = routers.back()->add_peer(router_config(65010 + n, address, port));
      p.start();
      return p;
    });
  }
  bool established(Peer& p, std::chrono::milliseconds timeout = 10s) {
    return loop.wait([&] { return p.state() == State::Established; }, timeout);
  }
  ProcessStats stats() {
    return loop.call([&] { return collector.stats(); });
  }
  std::size_t peer_count() {
    return loop.call([&] { return collector.peers().size(); });
  }
  std::vector<std::string> removed_now() {
    std::lock_guard lock(mu);
    return removed;
  }
  std::vector<std::string> refused_now() {
    std::lock_guard lock(mu);
    return refused;
  }
};

std::vector<std::uint8_t> open_of(std::uint32_t as, const std::string& address) {
  PeerConfig c = router_config(as, address, 179);
  codec::wire::Writer w;
  (void)bgp::encode_open(make_open(c), w);
  return w.buffer();
}

// Sessions that established and then ended (one with a Cease, one by the router's process
// going away without a NOTIFICATION) free their places: with max_peers 2, two more addresses
// get in afterwards, and only a third one past the limit is refused, and counted.
TEST(DynamicSlots, EndedSessionsFreeTheirPlaces) {
  Fixture f([](DynamicPeers& d) { d.max_peers = 2; });
  Peer& r2 = f.add_router("127.0.0.2", 2);
  Peer& r3 = f.add_router("127.0.0.3", 3);
  ASSERT_TRUE(f.established(r2));
  ASSERT_TRUE(f.established(r3));
  f.loop.call([&] {
    r2.stop("going away");  // Cease, and no reconnection
    f.routers[1].reset();   // the router's sockets close without a NOTIFICATION
  });
  EXPECT_TRUE(f.loop.wait([&] { return f.collector.peers().empty(); }, 5s))
      << f.peer_count() << " dynamic peers left after their sessions ended";

  Peer& r4 = f.add_router("127.0.0.4", 4);
  Peer& r5 = f.add_router("127.0.0.5", 5);
  EXPECT_TRUE(f.established(r4)) << "a third address is locked out of the range";
  EXPECT_TRUE(f.established(r5));
  // The range is full again: the next address is refused, and that is counted and reported.
  Peer& r6 = f.add_router("127.0.0.6", 6);
  EXPECT_TRUE(f.loop.wait([&] { return f.collector.stats().refused_range_full > 0; }, 5s));
  EXPECT_FALSE(f.established(r6, 300ms));
  const auto s = f.stats();
  EXPECT_EQ(s.dynamic_peers_removed, 2U);
  EXPECT_EQ(s.pending_closed, 0U);
  EXPECT_GE(s.refused_connections, s.refused_range_full);
  auto removed = f.removed_now();  // in the order the two endings arrived
  std::sort(removed.begin(), removed.end());
  EXPECT_EQ(removed, (std::vector<std::string>{"127.0.0.2", "127.0.0.3"}));
  const auto refused = f.refused_now();
  ASSERT_FALSE(refused.empty());
  EXPECT_EQ(refused.front().rfind("127.0.0.6 ", 0), 0U) << refused.front();
}

// Connections that never send an OPEN wait in max_pending, not in max_peers: while six of them
// hang, two routers take the range's two places; after open_timeout each silent connection
// gets Hold Timer Expired (4/0) and is closed, and its Peer is gone.
TEST(DynamicSlots, ConnectionsWithoutAnOpenNeitherTakePlacesNorStay) {
  Fixture f([](DynamicPeers& d) {
    d.max_peers = 2;
    d.max_pending = 8;
    d.open_timeout = 2s;
  });
  std::vector<std::unique_ptr<RawConnection>> silent;
  const auto connected = SteadyClock::now();
  for (int i = 10; i < 16; ++i) {
    silent.push_back(std::make_unique<RawConnection>("127.0.0." + std::to_string(i), f.port));
    ASSERT_TRUE(silent.back()->connected());
  }
  ASSERT_TRUE(f.loop.wait([&] { return f.collector.stats().accepted >= 6; }, 5s));
  Peer& r2 = f.add_router("127.0.0.2", 2);
  Peer& r3 = f.add_router("127.0.0.3", 3);
  EXPECT_TRUE(f.established(r2)) << "silent connections took the range's places";
  EXPECT_TRUE(f.established(r3));
  EXPECT_LT(SteadyClock::now() - connected, 2s) << "the routers only got in after the timeout";

  for (auto& c : silent) {
    const auto e = c->read_to_end(6s);
    EXPECT_TRUE(e.closed) << "a connection without an OPEN stayed open";
    ASSERT_TRUE(e.notification.has_value());
    EXPECT_EQ(*e.notification, (std::pair<int, int>{bgp::error_code::kHoldTimerExpired, 0}));
  }
  EXPECT_TRUE(f.loop.wait([&] { return f.collector.peers().size() == 2; }, 5s))
      << f.peer_count() << " peers";
  const auto s = f.stats();
  EXPECT_EQ(s.pending_closed, 6U);
  EXPECT_EQ(s.dynamic_peers_removed, 6U);
  EXPECT_EQ(s.refused_connections, 0U);
  EXPECT_TRUE(f.loop.call([&] { return r2.state() == State::Established; }));
}

// Past max_pending, connections are closed unread and counted; once the silent ones time out,
// a router that was refused meanwhile gets in on a later attempt.
TEST(DynamicSlots, PendingLimitRefusesAndCountsUntilTheTimeoutFreesIt) {
  Fixture f([](DynamicPeers& d) {
    d.max_peers = 4;
    d.max_pending = 3;
    d.open_timeout = 2s;
  });
  std::vector<std::unique_ptr<RawConnection>> silent;
  for (int i = 10; i < 13; ++i) {
    silent.push_back(std::make_unique<RawConnection>("127.0.0." + std::to_string(i), f.port));
  }
  ASSERT_TRUE(f.loop.wait([&] { return f.collector.stats().accepted >= 3; }, 5s));
  RawConnection extra("127.0.0.13", f.port);
  const auto e = extra.read_to_end(3s);
  EXPECT_TRUE(e.closed);
  EXPECT_TRUE(e.types.empty()) << "refused connections are closed unread, without our OPEN";
  EXPECT_EQ(f.stats().refused_pending_full, 1U);
  const auto refused = f.refused_now();
  ASSERT_EQ(refused.size(), 1U);
  EXPECT_EQ(refused[0].rfind("127.0.0.13 ", 0), 0U) << refused[0];

  Peer& r2 = f.add_router("127.0.0.2", 2);
  EXPECT_TRUE(f.loop.wait([&] { return f.collector.stats().refused_pending_full >= 2; }, 5s))
      << "the router got in while the silent connections held every pending place";
  EXPECT_TRUE(f.established(r2, 10s));
  const auto s = f.stats();
  EXPECT_EQ(s.pending_closed, 3U);
  EXPECT_EQ(s.refused_connections, s.refused_pending_full + s.refused_range_full);
}

// A connection closed by the other side before its OPEN frees its pending place at once.
TEST(DynamicSlots, ConnectionClosedBeforeItsOpenFreesItsPlace) {
  Fixture f([](DynamicPeers& d) {
    d.max_pending = 1;
    d.open_timeout = 30s;  // far longer than the test: only the close may free the place
  });
  {
    RawConnection gone("127.0.0.10", f.port);
    ASSERT_TRUE(f.loop.wait([&] { return f.collector.stats().accepted >= 1; }, 5s));
  }
  EXPECT_TRUE(f.loop.wait([&] { return f.collector.peers().empty(); }, 5s));
  Peer& r2 = f.add_router("127.0.0.2", 2);
  EXPECT_TRUE(f.established(r2, 5s));
  EXPECT_EQ(f.stats().refused_pending_full, 0U);
  EXPECT_EQ(f.stats().pending_closed, 1U);
}

// A connection that was waiting while the last place went to someone else gets Cease /
// Connection Rejected (6/5) for its OPEN, counted as the range being full.
TEST(DynamicSlots, OpenIntoAFullRangeGetsConnectionRejected) {
  Fixture f([](DynamicPeers& d) {
    d.max_peers = 1;
    d.max_pending = 4;
  });
  RawConnection late("127.0.0.10", f.port);
  ASSERT_TRUE(f.loop.wait([&] { return f.collector.stats().accepted >= 1; }, 5s));
  Peer& r2 = f.add_router("127.0.0.2", 2);
  ASSERT_TRUE(f.established(r2));
  ASSERT_TRUE(late.send(open_of(65020, "127.0.0.10")));
  const auto e = late.read_to_end(5s);
  EXPECT_TRUE(e.closed);
  ASSERT_TRUE(e.notification.has_value());
  EXPECT_EQ(*e.notification, (std::pair<int, int>{bgp::error_code::kCease,
                                                  bgp::cease_subcode::kConnectionRejected}));
  EXPECT_EQ(f.stats().refused_range_full, 1U);
  EXPECT_TRUE(f.loop.wait([&] { return f.collector.peers().size() == 1; }, 5s));
  EXPECT_TRUE(f.loop.call([&] { return r2.state() == State::Established; }));
}

// A dynamic peer that drops with graceful restart keeps its Peer (and its place) while its
// routes are stale: coming back within the restart time lands on the same Peer; staying away
// past it expires the routes and then removes the Peer.
TEST(DynamicSlots, GracefulRestartKeepsThePeerUntilItsRoutesExpire) {
  std::mutex mu;
  std::vector<std::string> events;
  Fixture f([&](DynamicPeers& d) {
    d.peer_template.graceful_restart_time = 120;
    d.on_new_peer = [&](Peer& p) {
      p.on_graceful_restart([&](Peer&, GracefulRestartEvent e, bgp::AfiSafi) {
        std::lock_guard lock(mu);
        events.emplace_back(to_string(e));
      });
    };
  });
  auto count = [&](const std::string& e) {
    std::lock_guard lock(mu);
    return std::count(events.begin(), events.end(), e);
  };
  auto restarting_router = [&]() -> Peer& {
    return f.loop.call([&]() -> Peer& {
      f.routers.push_back(std::make_unique<Process>(f.loop.io()));
      PeerConfig c = router_config(65012, "127.0.0.2", f.port);
      c.graceful_restart_time = 1;  // the restart time it announces, in seconds
      Peer& p = f.routers.back()->add_peer(c);
      p.start();
      return p;
    });
  };
  ASSERT_TRUE(f.established(restarting_router()));
  Peer* first = f.loop.call([&] { return f.collector.find_peer(ip("127.0.0.2")); });
  ASSERT_NE(first, nullptr);
  f.loop.call([&] { f.routers.back().reset(); });  // drops without a NOTIFICATION
  ASSERT_TRUE(f.loop.wait([&] { return count("stale") == 2; }, 5s));
  ASSERT_TRUE(f.established(restarting_router()));
  EXPECT_EQ(f.loop.call([&] { return f.collector.find_peer(ip("127.0.0.2")); }), first);
  EXPECT_EQ(f.loop.call([&] { return first->established_count(); }), 2U);

  // (The router keeps no forwarding state, so its routes already expired at the reconnection.)
  const auto expired_before = count("expired");
  f.loop.call([&] { f.routers.back().reset(); });
  ASSERT_TRUE(f.loop.wait([&] { return count("stale") == 4; }, 5s));
  EXPECT_EQ(f.peer_count(), 1U) << "removed while its routes were stale";
  EXPECT_TRUE(f.loop.wait([&] { return f.collector.peers().empty(); }, 5s));
  EXPECT_EQ(count("expired"), expired_before + 2);
  EXPECT_EQ(f.removed_now(), (std::vector<std::string>{"127.0.0.2"}));
  EXPECT_EQ(f.stats().dynamic_peers_removed, 1U);
}

// A configured peer is not locked out either: connections from its address that close before
// their OPEN do not stay behind as inbound sessions (a Peer takes two at most).
TEST(DynamicSlots, ConfiguredPeerSurvivesConnectionsClosedBeforeTheirOpen) {
  Loop loop;
  Process collector{loop.io()};
  Process router{loop.io()};
  StopLoopFirst stopper{loop};
  std::uint16_t port = 0;
  Peer* configured = nullptr;
  loop.call([&] {
    port = collector.listen(ip("127.0.0.1"), 0);
    PeerConfig c;
    c.local_as = 65001;
    c.local_id = ip("10.0.0.1").v4_host_order();
    c.peer_as = 65012;
    c.peer_address = ip("127.0.0.2");
    c.passive = true;
    configured = &collector.add_peer(c);
    configured->start();
  });
  for (int i = 0; i < 3; ++i) {
    RawConnection c("127.0.0.2", port);
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(loop.wait([&] { return collector.stats().accepted >= std::uint64_t(i + 1); }, 5s));
  }
  EXPECT_TRUE(loop.wait([&] { return configured->connection_count() == 0; }, 5s));
  Peer* r = nullptr;
  loop.call([&] {
    r = &router.add_peer(router_config(65012, "127.0.0.2", port));
    r->start();
  });
  EXPECT_TRUE(loop.wait([&] { return r->state() == State::Established; }, 10s))
      << "the configured peer's address is locked out";
}

}  // namespace
}  // namespace bgpscribe::speaker
