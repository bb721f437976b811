// Sessions over loopback: two Processes of the library talking to each other, and a raw TCP
// client (plain POSIX sockets, bytes built with the codec) for hostile or exact input.
//
// The io_context runs on a background thread; callbacks record events under a mutex and the
// test thread waits for them with bounded polls. Peer methods are called on the io thread.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "codec/bgp/attribute_types.hpp"
#include "codec/bgp/message.hpp"
#include "codec/bgp/notification_codes.hpp"
#include "codec/bgp/route_refresh.hpp"
#include "codec/wire/writer.hpp"
#include "speaker/process.hpp"
#include "tests/support/bgp_bytes.hpp"
#include "tests/support/io_loop.hpp"
#include "tests/support/raw_bgp_connection.hpp"

namespace bgpscribe::speaker {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr auto* ip = &tests::address;
constexpr auto* pfx = &tests::prefix;
using Loop = tests::IoLoop;
using tests::StopLoopFirst;
using RawClient = tests::RawBgpConnection;

// Events seen by callbacks, as text lines, plus a condition to wait on.
class Recorder {
 public:
  void add(std::string line) {
    std::lock_guard lock(mu_);
    lines_.push_back(std::move(line));
    cv_.notify_all();
  }
  bool wait_for(const std::function<bool(const std::vector<std::string>&)>& pred,
                std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return pred(lines_); });
  }
  bool wait_line(const std::string& prefix, std::chrono::milliseconds timeout = 10s,
                 std::size_t count = 1) {
    return wait_for([&](const auto& ls) { return count_prefix(ls, prefix) >= count; }, timeout);
  }
  std::size_t count(const std::string& prefix) {
    std::lock_guard lock(mu_);
    return count_prefix(lines_, prefix);
  }
  std::vector<std::string> lines() {
    std::lock_guard lock(mu_);
    return lines_;
  }
  std::string dump() {
    std::string s;
    for (const auto& l : lines()) {
      s += l + "\n";
    }
    return s;
  }

 private:
  static std::size_t count_prefix(const std::vector<std::string>& ls, const std::string& p) {
    std::size_t n = 0;
    for (const auto& l : ls) {
      n += l.rfind(p, 0) == 0 ? 1 : 0;
    }
    return n;
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
};

std::string family_text(bgp::AfiSafi f) {
  return std::to_string(static_cast<int>(f.afi)) + "/" + std::to_string(static_cast<int>(f.safi));
}

// Records every callback of `p` into `r`.
void record(Peer& p, Recorder& r) {
  p.on_state_change([&r](Peer& peer, State from, State to, std::string_view) {
    r.add(std::string("state ") + fsm::to_string(from) + " " + fsm::to_string(to));
    for (const auto& f : peer.ending_stale()) {
      r.add("down keeps " + family_text(f));  // before the "gr stale" of the family
    }
  });
  p.on_established([&r](Peer&) { r.add("established"); });
  p.on_open([&r](Peer&, const bgp::Open& o) { r.add("open " + std::to_string(o.bgp_identifier)); });
  p.on_update([&r](Peer&, const Update& u) {
    for (const auto& a : u.announced()) {
      r.add("A " + a.prefix.to_string() + " " + std::to_string(a.path_id) + " " +
            u.as_path_string());
    }
    for (const auto& w : u.withdrawn()) {
      r.add("W " + w.prefix.to_string() + " " + std::to_string(w.path_id));
    }
  });
  p.on_end_of_rib([&r](Peer&, bgp::AfiSafi f) { r.add("eor " + family_text(f)); });
  p.on_refresh(
      [&r](Peer&, const bgp::RouteRefresh& rr) { r.add("refresh " + family_text(rr.family)); });
  p.on_notification([&r](Peer&, const bgp::Notification& n, Direction d) {
    r.add(std::string("notification ") + to_string(d) + " " + std::to_string(n.code) + "/" +
          std::to_string(n.subcode) + " " + bgp::shutdown_communication(n).value_or(""));
  });
  p.on_error([&r](Peer&, const PeerError& e) {
    r.add(std::string("error ") + codec::to_string(e.error.reaction) + " " +
          std::to_string(e.error.code) + "/" + std::to_string(e.error.subcode) +
          " bytes=" + std::to_string(e.bytes.size()));
  });
  p.on_graceful_restart([&r](Peer&, GracefulRestartEvent e, bgp::AfiSafi f) {
    r.add(std::string("gr ") + to_string(e) + " " + family_text(f));
  });
}

PeerConfig config(std::uint32_t local_as, const char* local_id, std::uint32_t peer_as,
                  const char* peer_address) {
  PeerConfig c;
  c.local_as = local_as;
  c.local_id = ip(local_id).v4_host_order();
  c.peer_as = peer_as;
  c.peer_address = ip(peer_address);
  c.connect_retry = 1s;
  c.idle_hold = 100ms;
  c.idle_hold_max = 1s;
  return c;
}

// A: passive, listening on 127.0.0.1:port. B: active from 127.0.0.2.
struct TwoSpeakers {
  Loop loop;
  Process a{loop.io()};
  Process b{loop.io()};
  Recorder ra;
  Recorder rb;
  Peer* pa = nullptr;
  Peer* pb = nullptr;
  std::uint16_t port = 0;
  StopLoopFirst stopper{loop};

  // `before_start` runs on the io thread once both peers exist (to set more callbacks).
  void setup(PeerConfig ca, PeerConfig cb, const std::function<void()>& before_start = {}) {
    loop.call([&] {
      port = a.listen(ip("127.0.0.1"), 0);
      ca.passive = true;
      pa = &a.add_peer(ca);
      record(*pa, ra);
      cb.passive = false;
      cb.peer_port = port;
      cb.local_address = ip("127.0.0.2");
      pb = &b.add_peer(cb);
      record(*pb, rb);
      if (before_start) {
        before_start();
      }
      pa->start();
      pb->start();
    });
  }
  static PeerConfig side_a() { return config(4200000001, "10.0.0.1", 4200000002, "127.0.0.2"); }
  static PeerConfig side_b() { return config(4200000002, "10.0.0.2", 4200000001, "127.0.0.1"); }
};

// ---- Raw client ------------------------------------------------------------------------------

// A passive speaker on 127.0.0.1 with one peer at 127.0.0.3 (AS 65003), for raw clients.
struct Server {
  Loop loop;
  Process p{loop.io()};
  Recorder r;
  Peer* peer = nullptr;
  std::uint16_t port = 0;
  StopLoopFirst stopper{loop};
  explicit Server(const std::function<void(PeerConfig&)>& tweak = {}) {
    loop.call([&] {
      port = p.listen(ip("127.0.0.1"), 0);
      PeerConfig c = config(65001, "10.0.0.1", 65003, "127.0.0.3");
      c.passive = true;
      if (tweak) {
        tweak(c);
      }
      peer = &p.add_peer(c);
      record(*peer, r);
      peer->start();
    });
  }
  // The OPEN a raw client at 127.0.0.3 sends.
  static bgp::Open client_open(std::uint16_t hold = 90) {
    PeerConfig c = config(65003, "10.0.0.3", 65001, "127.0.0.1");
    c.hold_time = hold;
    return make_open(c);
  }
};

// ---- Tests -------------------------------------------------------------------------------------

TEST(Session, EstablishesWithFourOctetAsAndNegotiatedCapabilities) {
  TwoSpeakers t;
  auto ca = TwoSpeakers::side_a();
  ca.add_path_receive = {bgp::kIpv4Unicast, bgp::kIpv6Unicast};
  auto cb = TwoSpeakers::side_b();
  cb.add_path_send = {bgp::kIpv4Unicast};
  t.setup(ca, cb);
  ASSERT_TRUE(t.ra.wait_line("established")) << t.ra.dump();
  ASSERT_TRUE(t.rb.wait_line("established")) << t.rb.dump();
  t.loop.call([&] {
    EXPECT_EQ(t.pa->state(), State::Established);
    ASSERT_NE(t.pa->negotiated(), nullptr);
    EXPECT_TRUE(t.pa->four_octet_as());
    EXPECT_EQ(t.pa->peer_as(), 4200000002U);
    EXPECT_TRUE(t.pa->has_family(bgp::kIpv6Unicast));
    EXPECT_TRUE(t.pa->add_path_receive(bgp::kIpv4Unicast));
    EXPECT_FALSE(t.pa->add_path_receive(bgp::kIpv6Unicast));  // B sends only for IPv4
    EXPECT_TRUE(t.pa->route_refresh());
    EXPECT_EQ(t.pa->remote_address(), ip("127.0.0.2"));
    EXPECT_EQ(t.pa->established_outbound(), false);
    EXPECT_EQ(t.pb->established_outbound(), true);
  });
  // The application saw the states in RFC order.
  const auto lines = t.rb.lines();
  std::vector<std::string> states;
  for (const auto& l : lines) {
    if (l.rfind("state", 0) == 0) {
      states.push_back(l);
    }
  }
  EXPECT_EQ(states, (std::vector<std::string>{"state Idle Connect", "state Connect OpenSent",
                                              "state OpenSent OpenConfirm",
                                              "state OpenConfirm Established"}));
}

// IPv6 transport on ::1, and a dual-stack listener ("::") that sees an IPv4 peer as IPv4.
TEST(Session, Ipv6TransportAndDualStackListener) {
  Loop loop;
  Process a{loop.io()};
  Process b{loop.io()};
  Process c{loop.io()};
  Recorder ra;
  Recorder rc;
  StopLoopFirst stopper{loop};
  loop.call([&] {
    const auto port = a.listen(ip("::"), 0);
    auto v6 = config(65001, "10.0.0.1", 65002, "::1");
    v6.passive = true;
    auto v4 = config(65001, "10.0.0.1", 65003, "127.0.0.3");
    v4.passive = true;
    record(a.add_peer(v6), ra);
    record(a.add_peer(v4), rc);
    auto to_v6 = config(65002, "10.0.0.2", 65001, "::1");
    to_v6.peer_port = port;
    auto to_v4 = config(65003, "10.0.0.3", 65001, "127.0.0.1");
    to_v4.peer_port = port;
    to_v4.local_address = ip("127.0.0.3");
    for (auto* p : a.peers()) {
      p->start();
    }
    b.add_peer(to_v6).start();
    c.add_peer(to_v4).start();
  });
  EXPECT_TRUE(ra.wait_line("established")) << ra.dump();
  EXPECT_TRUE(rc.wait_line("established")) << rc.dump();
  loop.call([&] {
    EXPECT_EQ(a.find_peer(ip("::1"))->remote_address(), ip("::1"));
    EXPECT_EQ(a.find_peer(ip("127.0.0.3"))->remote_address(), ip("127.0.0.3"));
    EXPECT_EQ(a.stats().unmatched_connections, 0U);
  });
}

TEST(Session, UpdatesOfBothFamiliesWithPathIdsAndEndOfRib) {
  TwoSpeakers t;
  auto ca = TwoSpeakers::side_a();
  ca.add_path_receive = {bgp::kIpv4Unicast, bgp::kIpv6Unicast};
  auto cb = TwoSpeakers::side_b();
  cb.add_path_send = {bgp::kIpv4Unicast, bgp::kIpv6Unicast};
  cb.auto_end_of_rib = false;  // B announces first, then sends End-of-RIB itself
  t.setup(ca, cb);
  ASSERT_TRUE(t.rb.wait_line("established"));
  const bool sent = t.loop.call([&] {
    UpdateBuilder v4;
    v4.as_path({4200000002, 65010, 4200000099})
        .next_hop(ip("192.0.2.2"))
        .community(65010, 1)
        .large_community(4200000002, 1, 2)
        .med(5)
        .announce(pfx("198.51.100.0/24"), 1)
        .announce(pfx("198.51.100.0/24"), 2)
        .announce(pfx("203.0.113.0/25"), 7);
    UpdateBuilder v6;
    v6.as_path({4200000002}).next_hop(ip("fd00::2")).announce(pfx("2001:db8:1::/48"), 3);
    UpdateBuilder w;
    w.withdraw(pfx("203.0.113.0/25"), 7).withdraw(pfx("2001:db8:1::/48"), 3);
    return t.pb->send_update(v4) && t.pb->send_update(v6) && t.pb->send_update(w) &&
           t.pb->send_end_of_rib(bgp::kIpv4Unicast);
  });
  ASSERT_TRUE(sent);
  ASSERT_TRUE(t.ra.wait_line("eor 1/1")) << t.ra.dump();
  const auto lines = t.ra.lines();
  auto has = [&](const std::string& s) {
    return std::find(lines.begin(), lines.end(), s) != lines.end();
  };
  EXPECT_TRUE(has("A 198.51.100.0/24 1 4200000002 65010 4200000099"));
  EXPECT_TRUE(has("A 198.51.100.0/24 2 4200000002 65010 4200000099"));
  EXPECT_TRUE(has("A 203.0.113.0/25 7 4200000002 65010 4200000099"));
  EXPECT_TRUE(has("A 2001:db8:1::/48 3 4200000002"));
  EXPECT_TRUE(has("W 203.0.113.0/25 7"));
  EXPECT_TRUE(has("W 2001:db8:1::/48 3"));
}

// A speaker with nothing to announce sends End-of-RIB for every negotiated family at once.
TEST(Session, EndOfRibIsSentForEveryFamilyWhenEstablished) {
  TwoSpeakers t;
  t.setup(TwoSpeakers::side_a(), TwoSpeakers::side_b());
  EXPECT_TRUE(t.ra.wait_line("eor 1/1")) << t.ra.dump();
  EXPECT_TRUE(t.ra.wait_line("eor 2/1"));
  EXPECT_TRUE(t.rb.wait_line("eor 2/1"));
}

TEST(Session, RouteRefreshOnRequest) {
  TwoSpeakers t;
  t.setup(TwoSpeakers::side_a(), TwoSpeakers::side_b());
  ASSERT_TRUE(t.ra.wait_line("established"));
  ASSERT_TRUE(t.rb.wait_line("established"));
  EXPECT_TRUE(t.loop.call([&] { return t.pa->send_refresh(bgp::kIpv6Unicast); }));
  EXPECT_TRUE(t.rb.wait_line("refresh 2/1")) << t.rb.dump();
}

TEST(Session, StopSendsShutdownCommunicationAndStartReconnects) {
  TwoSpeakers t;
  t.setup(TwoSpeakers::side_a(), TwoSpeakers::side_b());
  ASSERT_TRUE(t.ra.wait_line("established"));
  t.loop.call([&] { t.pb->stop("maintenance until 18:00"); });
  EXPECT_TRUE(t.ra.wait_line("notification received 6/2 maintenance until 18:00")) << t.ra.dump();
  EXPECT_TRUE(t.rb.wait_line("notification sent 6/2 maintenance until 18:00"));
  EXPECT_TRUE(t.ra.wait_line("state Established Active"));
  // A stopped peer stays down.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(t.loop.call([&] { return t.pb->state(); }), State::Idle);
  t.loop.call([&] { t.pb->start(); });
  EXPECT_TRUE(t.ra.wait_line("established", 10s, 2)) << t.ra.dump();
  EXPECT_EQ(t.loop.call([&] { return t.pa->established_count(); }), 2U);
}

// Both sides connect to each other at the same time: RFC 4271 section 6.8 keeps the connection
// opened by the higher BGP Identifier, and each application keeps its one Peer object.
TEST(Session, ConnectionCollisionKeepsTheHigherIdentifiersConnection) {
  Loop loop;
  Process a{loop.io()};
  Process b{loop.io()};
  Recorder ra;
  Recorder rb;
  Peer* pa = nullptr;
  Peer* pb = nullptr;
  StopLoopFirst stopper{loop};
  loop.call([&] {
    const auto port_a = a.listen(ip("127.0.0.1"), 0);
    const auto port_b = b.listen(ip("127.0.0.2"), 0);
    auto ca = config(65001, "10.0.0.1", 65002, "127.0.0.2");  // lower identifier
    ca.passive = false;
    ca.peer_port = port_b;
    ca.local_address = ip("127.0.0.1");
    auto cb = config(65002, "10.0.0.2", 65001, "127.0.0.1");  // higher identifier
    cb.passive = false;
    cb.peer_port = port_a;
    cb.local_address = ip("127.0.0.2");
    pa = &a.add_peer(ca);
    pb = &b.add_peer(cb);
    record(*pa, ra);
    record(*pb, rb);
    pa->start();
    pb->start();
  });
  ASSERT_TRUE(ra.wait_line("established")) << ra.dump();
  ASSERT_TRUE(rb.wait_line("established")) << rb.dump();
  std::this_thread::sleep_for(500ms);  // let any losing connection finish closing
  loop.call([&] {
    EXPECT_EQ(pa->state(), State::Established);
    EXPECT_EQ(pb->state(), State::Established);
    // B (10.0.0.2) has the higher identifier: the connection B opened survives.
    EXPECT_EQ(pb->established_outbound(), true);
    EXPECT_EQ(pa->established_outbound(), false);
    EXPECT_EQ(pa->connection_count(), 1U);
    EXPECT_EQ(pb->connection_count(), 1U);
    EXPECT_EQ(a.peers().size(), 1U);
  });
  // Exactly one Established per side: the application never saw a second session.
  EXPECT_EQ(ra.count("established"), 1U);
  EXPECT_EQ(rb.count("established"), 1U);
}

TEST(Session, ConnectionFromAnUnknownAddressIsClosedUnreadAndCounted) {
  Server s;
  RawClient c("127.0.0.9", s.port);
  ASSERT_TRUE(c.connected());
  EXPECT_TRUE(c.closed_without_data(3s));
  EXPECT_EQ(s.loop.call([&] { return s.p.stats().unmatched_connections; }), 1U);
}

TEST(Session, DynamicPeersFromARangeWithAllowedAses) {
  Loop loop;
  Process a{loop.io()};
  Process b{loop.io()};
  Recorder ra;
  Recorder rb;
  std::vector<std::string> created;
  std::uint16_t port = 0;
  loop.call([&] {
    port = a.listen(ip("127.0.0.1"), 0);
    DynamicPeers d;
    d.range = pfx("127.0.1.0/24");
    d.allowed_as = {65010, 65011};
    d.peer_template = config(65001, "10.0.0.1", 0, "0.0.0.0");
    d.on_new_peer = [&](Peer& p) {
      created.push_back(p.config().peer_address.to_string());
      record(p, ra);
    };
    a.add_dynamic_peers(d);
    auto good = config(65010, "10.0.1.5", 65001, "127.0.0.1");
    good.peer_port = port;
    good.local_address = ip("127.0.1.5");
    auto bad = config(65099, "10.0.1.6", 65001, "127.0.0.1");
    bad.peer_port = port;
    bad.local_address = ip("127.0.1.6");
    // Two active peers of B towards A need distinct addresses in B: key them by A's address
    // on two Processes would be simpler, but one Process may not hold two peers with the same
    // address, so the bad one lives in its own Process below.
    Peer& g = b.add_peer(good);
    record(g, rb);
    g.start();
  });
  Process c{loop.io()};
  Recorder rc;
  StopLoopFirst stopper{loop};
  loop.call([&] {
    auto bad = config(65099, "10.0.1.6", 65001, "127.0.0.1");
    bad.peer_port = port;
    bad.local_address = ip("127.0.1.6");
    bad.idle_hold = 5s;
    Peer& p = c.add_peer(bad);
    record(p, rc);
    p.start();
  });
  EXPECT_TRUE(rb.wait_line("established")) << rb.dump();
  // RFC 4271 section 6.2: a peer AS outside the allowed set gets OPEN / Bad Peer AS.
  EXPECT_TRUE(rc.wait_line("notification received 2/2")) << rc.dump();
  loop.call([&] {
    EXPECT_EQ(a.stats().dynamic_peers_created, 2U);
    Peer* p = a.find_peer(ip("127.0.1.5"));
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(p->dynamic());
    EXPECT_EQ(p->peer_as(), 65010U);
    EXPECT_EQ(p->state(), State::Established);
  });
  EXPECT_EQ(created, (std::vector<std::string>{"127.0.1.5", "127.0.1.6"}));
}

// max_peers bounds a range's peers; removing one frees its place.
TEST(Session, DynamicRangeMaxPeersAndRemoval) {
  Loop loop;
  Process a{loop.io()};
  Process b{loop.io()};
  Process c{loop.io()};
  Recorder ra;
  Recorder rb;
  Recorder rc;
  StopLoopFirst stopper{loop};
  std::uint16_t port = 0;
  loop.call([&] {
    port = a.listen(ip("127.0.0.1"), 0);
    DynamicPeers d;
    d.range = pfx("127.0.2.0/24");
    d.peer_template = config(65001, "10.0.0.1", 0, "0.0.0.0");
    d.max_peers = 1;
    d.on_new_peer = [&](Peer& p) { record(p, ra); };
    a.add_dynamic_peers(d);
    auto first = config(65010, "10.0.2.5", 65001, "127.0.0.1");
    first.peer_port = port;
    first.local_address = ip("127.0.2.5");
    Peer& p = b.add_peer(first);
    record(p, rb);
    p.start();
  });
  ASSERT_TRUE(rb.wait_line("established")) << rb.dump();
  loop.call([&] {
    auto second = config(65011, "10.0.2.6", 65001, "127.0.0.1");
    second.peer_port = port;
    second.local_address = ip("127.0.2.6");
    second.connect_retry = 200ms;
    Peer& p = c.add_peer(second);
    record(p, rc);
    p.start();
  });
  // The range is full: the second peer's connections are refused.
  EXPECT_FALSE(rc.wait_line("established", 1500ms));
  EXPECT_GE(loop.call([&] { return a.stats().refused_connections; }), 1U);
  // Removing the first frees the place: the second gets in on its next attempt.
  loop.call([&] {
    b.peers().front()->stop();  // or it would reconnect and take the place again
    a.remove_peer(*a.find_peer(ip("127.0.2.5")));
  });
  EXPECT_TRUE(rc.wait_line("established", 10s)) << ra.dump();
  EXPECT_TRUE(rb.wait_line("notification sent 6/2"));
  EXPECT_EQ(loop.call([&] { return a.stats().dynamic_peers_created; }), 2U);
}

TEST(Session, PeerAsMismatchIsRefusedWithBadPeerAs) {
  Server s;
  RawClient c("127.0.0.3", s.port);
  PeerConfig other = config(65999, "10.0.0.3", 65001, "127.0.0.1");
  codec::wire::Writer w;
  ASSERT_TRUE(bgp::encode_open(make_open(other), w));
  ASSERT_TRUE(c.send(w.bytes()));
  auto n = c.read_notification();
  ASSERT_TRUE(n);
  EXPECT_EQ(n->code, bgp::error_code::kOpenMessage);
  EXPECT_EQ(n->subcode, bgp::open_subcode::kBadPeerAs);
  // The data is the My AS field as received (RFC 4271 section 6.2).
  // 65999 does not fit 2 octets: My AS is AS_TRANS (23456).
  EXPECT_EQ(n->data, (std::vector<std::uint8_t>{0x5b, 0xa0}));
}

// RFC 7606: a bad ORIGIN value is treat-as-withdraw; the session stays up and the application
// sees both the reaction and the raw bytes.
TEST(Session, MalformedAttributeIsTreatAsWithdrawAndReported) {
  Server s;
  RawClient c("127.0.0.3", s.port);
  ASSERT_TRUE(c.handshake(Server::client_open()));
  ASSERT_TRUE(s.r.wait_line("established"));
  bgp::UpdateMessage m;
  m.attributes.raw(bgp::attr_flag::kTransitive, 1, std::vector<std::uint8_t>{7});  // ORIGIN 7
  m.attributes.as_path(bgp::AsPath{{bgp::AsSegmentType::AsSequence, {65003}}});
  m.attributes.next_hop(0xC0000202);
  m.nlri.push_back({pfx("198.51.100.0/24"), 0});
  codec::wire::Writer w;
  ASSERT_TRUE(m.encode(w));
  ASSERT_TRUE(c.send(w.bytes()));
  EXPECT_TRUE(s.r.wait_line("error treat-as-withdraw 3/6 bytes=" + std::to_string(w.size())))
      << s.r.dump();
  EXPECT_TRUE(s.r.wait_line("W 198.51.100.0/24 0"));
  EXPECT_EQ(s.r.count("A "), 0U);
  EXPECT_EQ(s.loop.call([&] { return s.peer->state(); }), State::Established);
}

// Checks that need session facts: an external peer's path with confederation segments, and
// (with enforce_first_as) one that does not start with the peer's AS, are treat-as-withdraw.
TEST(Session, ExternalPathChecksTreatAsWithdraw) {
  Server s([](PeerConfig& c) { c.enforce_first_as = true; });
  RawClient c("127.0.0.3", s.port);
  ASSERT_TRUE(c.handshake(Server::client_open()));
  ASSERT_TRUE(s.r.wait_line("established"));
  auto send = [&](const bgp::AsPath& path, const char* prefix) {
    UpdateBuilder b;
    b.as_path_segments(path).next_hop(ip("192.0.2.3")).announce(pfx(prefix));
    std::vector<std::vector<std::uint8_t>> msgs;
    bgp::ParseContext ctx;
    ASSERT_TRUE(b.encode(ctx, 4096, msgs));
    ASSERT_TRUE(c.send(msgs.at(0)));
  };
  send({{bgp::AsSegmentType::AsSequence, {65003, 65010}}}, "10.1.0.0/16");
  send({{bgp::AsSegmentType::AsSequence, {65099, 65010}}}, "10.2.0.0/16");
  send({{bgp::AsSegmentType::AsConfedSequence, {64512}}, {bgp::AsSegmentType::AsSequence, {65003}}},
       "10.3.0.0/16");
  ASSERT_TRUE(s.r.wait_line("W 10.3.0.0/16")) << s.r.dump();
  EXPECT_EQ(s.r.count("A 10.1.0.0/16 0 65003 65010"), 1U);
  EXPECT_EQ(s.r.count("W 10.2.0.0/16 0"), 1U);
  EXPECT_EQ(s.r.count("error treat-as-withdraw 3/11"), 2U);
  EXPECT_EQ(s.loop.call([&] { return s.peer->state(); }), State::Established);
}

TEST(Session, UnparseableUpdateResetsTheSessionWithTheRfcNotification) {
  Server s;
  RawClient c("127.0.0.3", s.port);
  ASSERT_TRUE(c.handshake(Server::client_open()));
  ASSERT_TRUE(s.r.wait_line("established"));
  // UPDATE whose Withdrawn Routes Length (200) overruns the message: 3/1.
  std::vector<std::uint8_t> bad(16, 0xff);
  bad.insert(bad.end(), {0, 23, 2, 0, 200, 0, 0});
  ASSERT_TRUE(c.send(bad));
  auto n = c.read_notification();
  ASSERT_TRUE(n);
  EXPECT_EQ(n->code, bgp::error_code::kUpdateMessage);
  EXPECT_EQ(n->subcode, bgp::update_subcode::kMalformedAttributeList);
  EXPECT_TRUE(s.r.wait_line("error session-reset 3/1 bytes=23")) << s.r.dump();
  EXPECT_TRUE(s.r.wait_line("notification sent 3/1"));
}

TEST(Session, BrokenMarkerGetsConnectionNotSynchronized) {
  Server s;
  RawClient c("127.0.0.3", s.port);
  ASSERT_TRUE(c.handshake(Server::client_open()));
  ASSERT_TRUE(s.r.wait_line("established"));
  std::vector<std::uint8_t> junk(19, 0x00);
  ASSERT_TRUE(c.send(junk));
  auto n = c.read_notification();
  ASSERT_TRUE(n);
  EXPECT_EQ(n->code, bgp::error_code::kMessageHeader);
  EXPECT_EQ(n->subcode, bgp::header_subcode::kConnectionNotSynchronized);
}

TEST(Session, MaxPrefixExceededSendsCeaseWithFamilyAndLimit) {
  TwoSpeakers t;
  auto ca = TwoSpeakers::side_a();
  ca.max_prefix = 10;
  t.setup(ca, TwoSpeakers::side_b());
  ASSERT_TRUE(t.rb.wait_line("established"));
  t.loop.call([&] {
    UpdateBuilder b;
    b.as_path({4200000002}).next_hop(ip("192.0.2.2"));
    for (int i = 0; i < 11; ++i) {
      b.announce(pfx(("10.0." + std::to_string(i) + ".0/24").c_str()));
    }
    EXPECT_TRUE(t.pb->send_update(b));
  });
  EXPECT_TRUE(t.rb.wait_line("notification received 6/1")) << t.rb.dump();
  EXPECT_TRUE(t.ra.wait_line("error session-reset 6/1"));
}

TEST(Session, MaxPrefixNotificationCarriesAfiSafiAndLimit) {
  Server s([](PeerConfig& c) { c.max_prefix = 2; });
  RawClient c("127.0.0.3", s.port);
  ASSERT_TRUE(c.handshake(Server::client_open()));
  ASSERT_TRUE(s.r.wait_line("established"));
  UpdateBuilder b;
  b.as_path({65003}).next_hop(ip("192.0.2.3"));
  b.announce(pfx("10.1.0.0/16")).announce(pfx("10.2.0.0/16")).announce(pfx("10.3.0.0/16"));
  std::vector<std::vector<std::uint8_t>> msgs;
  bgp::ParseContext ctx;
  ASSERT_TRUE(b.encode(ctx, 4096, msgs));
  ASSERT_TRUE(c.send(msgs.at(0)));
  auto n = c.read_notification();
  ASSERT_TRUE(n);
  EXPECT_EQ(n->code, bgp::error_code::kCease);
  EXPECT_EQ(n->subcode, bgp::cease_subcode::kMaxPrefixesReached);
  auto mp = bgp::max_prefixes(*n);
  ASSERT_TRUE(mp);
  EXPECT_EQ(mp->family, bgp::kIpv4Unicast);
  EXPECT_EQ(mp->limit, 2U);
}

// A peer that floods messages which do not prove liveness (ROUTE-REFRESH) and sends no
// KEEPALIVE still hits the hold timer on time, however busy the connection is.
TEST(Session, HoldTimerExpiresWhileThePeerFloods) {
  Server s([](PeerConfig& c) { c.hold_time = 3; });
  RawClient c("127.0.0.3", s.port);
  ASSERT_TRUE(c.handshake(Server::client_open(3)));
  ASSERT_TRUE(s.r.wait_line("established"));
  // Count refreshes instead of recording each (the recorder's lock would slow the loop).
  std::atomic<std::uint64_t> refreshes{0};
  s.loop.call([&] { s.peer->on_refresh([&](Peer&, const bgp::RouteRefresh&) { ++refreshes; }); });
  const auto start = std::chrono::steady_clock::now();
  bgp::RouteRefresh rr;
  rr.family = bgp::kIpv4Unicast;
  codec::wire::Writer w;
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(bgp::encode_route_refresh(rr, w));
  }
  std::atomic<bool> stop{false};
  std::thread flood([&] {
    while (!stop && c.send(w.bytes())) {
    }
  });
  const bool expired = s.r.wait_line("notification sent 4/0", 8s);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  stop = true;
  c.shutdown();
  flood.join();
  EXPECT_TRUE(expired) << s.r.dump().substr(0, 2000);
  EXPECT_GT(refreshes, 10000U);  // the flood really was being processed
  EXPECT_LT(elapsed, 5s);
  EXPECT_GE(elapsed, 2500ms);
}

// A full send queue refuses data and keeps the session; a peer that then reads nothing for a
// whole hold time is reset with Send Hold Timer Expired (RFC 9687).
TEST(Session, FullSendQueueRefusesThenSendHoldTimerResets) {
  Server s([](PeerConfig& c) {
    c.hold_time = 3;
    c.max_send_queue = 1 << 20;
  });
  RawClient c("127.0.0.3", s.port, 4096);
  ASSERT_TRUE(c.handshake(Server::client_open(3)));
  ASSERT_TRUE(s.r.wait_line("established"));
  // The client keeps its side alive (KEEPALIVE every 500 ms) but never reads.
  std::atomic<bool> stop{false};
  std::thread keepalives([&] {
    codec::wire::Writer k;
    bgp::encode_keepalive(k);
    while (!stop && c.send(k.bytes())) {
      std::this_thread::sleep_for(500ms);
    }
  });
  UpdateBuilder b;
  b.as_path({65001}).next_hop(ip("192.0.2.1"));
  for (int i = 0; i < 900; ++i) {
    b.announce(
        pfx(("10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".0/24").c_str()));
  }
  std::vector<std::vector<std::uint8_t>> msgs;
  bgp::ParseContext ctx;
  ASSERT_TRUE(b.encode(ctx, 4096, msgs));
  ASSERT_EQ(msgs.size(), 1U);
  // The client never reads: fill the kernel buffers and then our queue until it refuses and
  // stays full (refusals before that only mean the writer had not run yet).
  bool full = false;
  for (int round = 0; round < 100 && !full; ++round) {
    bool refused = false;
    s.loop.call([&] {
      for (int i = 0; i < 500 && !refused; ++i) {
        refused = !s.peer->send_raw(msgs[0]);
      }
    });
    std::this_thread::sleep_for(50ms);
    full = refused && s.loop.call([&] { return s.peer->send_queue_bytes() > (1U << 19); });
  }
  ASSERT_TRUE(full) << "the send queue never filled";
  s.loop.call([&] {
    EXPECT_EQ(s.peer->state(), State::Established);
    bool refused = false;
    for (int i = 0; i < 1000 && !refused; ++i) {
      refused = !s.peer->send_raw(msgs[0]);
    }
    EXPECT_TRUE(refused);
    EXPECT_EQ(s.peer->state(), State::Established);  // a refusal keeps the session
  });
  EXPECT_TRUE(s.r.wait_line("notification sent 8/0", 10s)) << s.r.dump();
  EXPECT_TRUE(s.r.wait_line("state Established Active"));
  EXPECT_EQ(s.r.count("notification sent 4/0"), 0U);
  stop = true;
  c.shutdown();
  keepalives.join();
}

TEST(Session, GracefulRestartHelperMarksStaleThenRecoversOnEndOfRib) {
  Server s([](PeerConfig& c) { c.graceful_restart_time = 120; });
  auto open = Server::client_open();
  bgp::GracefulRestartCapability gr;
  gr.restart_time = 5;
  gr.tuples.push_back({bgp::kIpv4Unicast, bgp::GracefulRestartTuple::kForwardingState});
  open.add_capability(bgp::Capability::of(gr));
  {
    RawClient c("127.0.0.3", s.port);
    ASSERT_TRUE(c.handshake(open));
    ASSERT_TRUE(s.r.wait_line("established"));
    // The peer's TCP connection drops without a NOTIFICATION (a restart).
  }
  ASSERT_TRUE(s.r.wait_line("gr stale 1/1")) << s.r.dump();
  // The state change already said which families the session's end keeps.
  const auto lines = s.r.dump();
  ASSERT_NE(lines.find("down keeps 1/1"), std::string::npos) << lines;
  EXPECT_LT(lines.find("down keeps 1/1"), lines.find("gr stale 1/1")) << lines;
  gr.flags = bgp::GracefulRestartCapability::kRestartState;
  auto open2 = Server::client_open();
  open2.add_capability(bgp::Capability::of(gr));
  RawClient c2("127.0.0.3", s.port);
  ASSERT_TRUE(c2.handshake(open2));
  ASSERT_TRUE(s.r.wait_line("established", 5s, 2)) << s.r.dump();
  EXPECT_EQ(s.r.count("gr recovered"), 0U);
  codec::wire::Writer eor;
  ASSERT_TRUE(bgp::UpdateMessage::end_of_rib(bgp::kIpv4Unicast).encode(eor));
  ASSERT_TRUE(c2.send(eor.bytes()));
  EXPECT_TRUE(s.r.wait_line("gr recovered 1/1")) << s.r.dump();
  EXPECT_EQ(s.r.count("gr expired"), 0U);
}

TEST(Session, GracefulRestartExpiresWhenThePeerStaysAway) {
  Server s([](PeerConfig& c) { c.graceful_restart_time = 120; });
  auto open = Server::client_open();
  bgp::GracefulRestartCapability gr;
  gr.restart_time = 1;
  gr.tuples.push_back({bgp::kIpv4Unicast, 0});
  gr.tuples.push_back({bgp::kIpv6Unicast, 0});
  open.add_capability(bgp::Capability::of(gr));
  {
    RawClient c("127.0.0.3", s.port);
    ASSERT_TRUE(c.handshake(open));
    ASSERT_TRUE(s.r.wait_line("established"));
  }
  ASSERT_TRUE(s.r.wait_line("gr stale", 5s, 2));
  EXPECT_TRUE(s.r.wait_line("gr expired", 5s, 2)) << s.r.dump();
}

TEST(Session, StopInsideAGracefulRestartCallbackExpiresAfterTheStaleReports) {
  // The Peer runs the helper's decisions in order: stop() called from the first Stale
  // callback expires both families after the second Stale, and no timer is left to fire.
  Server s([](PeerConfig& c) { c.graceful_restart_time = 120; });
  s.loop.call([&] {
    s.peer->on_graceful_restart([&s](Peer& p, GracefulRestartEvent e, bgp::AfiSafi f) {
      s.r.add(std::string("gr ") + to_string(e) + " " + family_text(f));
      if (e == GracefulRestartEvent::Stale && f == bgp::kIpv4Unicast) {
        p.stop();
      }
    });
  });
  auto open = Server::client_open();
  bgp::GracefulRestartCapability gr;
  gr.restart_time = 1;
  gr.tuples.push_back({bgp::kIpv4Unicast, 0});
  gr.tuples.push_back({bgp::kIpv6Unicast, 0});
  open.add_capability(bgp::Capability::of(gr));
  {
    RawClient c("127.0.0.3", s.port);
    ASSERT_TRUE(c.handshake(open));
    ASSERT_TRUE(s.r.wait_line("established"));
  }
  ASSERT_TRUE(s.r.wait_line("gr expired", 5s, 2)) << s.r.dump();
  std::this_thread::sleep_for(1500ms);  // past the peer's restart time of 1 s
  std::vector<std::string> gr_lines;
  for (const auto& l : s.r.lines()) {
    if (l.rfind("gr ", 0) == 0) {
      gr_lines.push_back(l);
    }
  }
  EXPECT_EQ(gr_lines, (std::vector<std::string>{"gr stale 1/1", "gr stale 2/1", "gr expired 1/1",
                                                "gr expired 2/1"}))
      << s.r.dump();
}

TEST(Session, NoGracefulRestartAfterANotification) {
  Server s([](PeerConfig& c) { c.graceful_restart_time = 120; });
  auto open = Server::client_open();
  bgp::GracefulRestartCapability gr;
  gr.restart_time = 5;
  gr.tuples.push_back({bgp::kIpv4Unicast, 0});
  open.add_capability(bgp::Capability::of(gr));
  RawClient c("127.0.0.3", s.port);
  ASSERT_TRUE(c.handshake(open));
  ASSERT_TRUE(s.r.wait_line("established"));
  codec::wire::Writer w;
  ASSERT_TRUE(bgp::encode_notification(NotificationInfo::cease(2, "bye"), w));
  ASSERT_TRUE(c.send(w.bytes()));
  ASSERT_TRUE(s.r.wait_line("notification received 6/2 bye"));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(s.r.count("gr "), 0U);
  EXPECT_EQ(s.r.count("down keeps"), 0U);
}

TEST(Session, TcpMd5SignedSessionEstablishesAndAWrongKeyDoesNot) {
  {
    TwoSpeakers t;
    auto ca = TwoSpeakers::side_a();
    ca.md5_password = "s3cret";
    auto cb = TwoSpeakers::side_b();
    cb.md5_password = "s3cret";
    t.setup(ca, cb);
    EXPECT_TRUE(t.ra.wait_line("established")) << t.ra.dump() << t.rb.dump();
  }
  {
    TwoSpeakers t;
    auto ca = TwoSpeakers::side_a();
    ca.md5_password = "s3cret";
    auto cb = TwoSpeakers::side_b();
    cb.md5_password = "wrong";
    t.setup(ca, cb);
    EXPECT_FALSE(t.ra.wait_line("established", 3s));
  }
}

TEST(Session, UserTimersFireUntilRemoved) {
  Server s;
  std::atomic<int> fired{0};
  TimerId id = s.loop.call([&] { return s.peer->add_timer(20ms, [&](Peer&) { ++fired; }); });
  std::this_thread::sleep_for(300ms);
  s.loop.call([&] { s.peer->remove_timer(id); });
  const int at_removal = fired;
  EXPECT_GE(at_removal, 5);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(fired, at_removal);
}

TEST(Session, RemovingAPeerInsideItsOwnCallbackIsSafe) {
  TwoSpeakers t;
  t.setup(TwoSpeakers::side_a(), TwoSpeakers::side_b(), [&] {
    t.pa->on_established([&](Peer& p) {
      t.ra.add("removing");
      p.process().remove_peer(p);
    });
  });
  ASSERT_TRUE(t.ra.wait_line("removing"));
  EXPECT_TRUE(t.rb.wait_line("notification received 6/3")) << t.rb.dump();
  EXPECT_EQ(t.loop.call([&] { return t.a.peers().size(); }), 0U);
}

// ---- UpdateBuilder without sockets -------------------------------------------------------------

TEST(UpdateBuilder, SplitsLargeAnnouncementsIntoMessagesWithinTheLimit) {
  UpdateBuilder b;
  b.as_path({65001, 4200000001}).next_hop(ip("192.0.2.1")).community(65001, 7);
  for (int i = 0; i < 5000; ++i) {
    const std::string p = std::to_string(10 + i / 65536) + "." + std::to_string((i / 256) % 256) +
                          "." + std::to_string(i % 256) + ".0/24";
    b.announce(pfx(p.c_str()));
  }
  std::vector<std::vector<std::uint8_t>> msgs;
  bgp::ParseContext ctx;
  ASSERT_TRUE(b.encode(ctx, 4096, msgs));
  EXPECT_GT(msgs.size(), 1U);
  std::size_t total = 0;
  for (const auto& m : msgs) {
    EXPECT_LE(m.size(), 4096U);
    auto u = Update::parse(m, ctx);
    ASSERT_TRUE(u);
    EXPECT_EQ(u->reaction(), codec::Reaction::None);
    EXPECT_EQ(u->as_path_string(), "65001 4200000001");
    EXPECT_EQ(u->communities(), (std::vector<std::uint32_t>{(65001U << 16) | 7}));
    total += u->announced().size();
  }
  EXPECT_EQ(total, 5000U);
}

TEST(UpdateBuilder, TwoOctetSessionsGetAsTransAndAs4Path) {
  UpdateBuilder b;
  b.as_path({65001, 4200000001}).next_hop(ip("192.0.2.1")).announce(pfx("192.0.2.0/24"));
  std::vector<std::vector<std::uint8_t>> msgs;
  bgp::ParseContext ctx;
  ctx.four_octet_as = false;
  ASSERT_TRUE(b.encode(ctx, 4096, msgs));
  ASSERT_EQ(msgs.size(), 1U);
  auto u = Update::parse(msgs[0], ctx);
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->view().attributes.has(bgp::AttributeType::As4Path));
  EXPECT_EQ(u->as_path_string(), "65001 4200000001");  // merged back per RFC 6793
}

TEST(UpdateBuilder, Ipv6AndMulticastGoIntoMpReachWithPathIds) {
  UpdateBuilder b;
  b.as_path({65001}).next_hop(ip("fd00::1")).next_hop_link_local(ip("fe80::1"));
  b.announce(Route{bgp::kIpv6Unicast, pfx("2001:db8::/32"), 9});
  b.announce(Route{bgp::kIpv6Multicast, pfx("2001:db8:ff::/48"), 0});
  b.withdraw(Route{bgp::kIpv6Unicast, pfx("2001:db8:1::/48"), 4});
  bgp::ParseContext ctx;
  ctx.set_add_path(bgp::kIpv6Unicast, true);
  std::vector<std::vector<std::uint8_t>> msgs;
  ASSERT_TRUE(b.encode(ctx, 4096, msgs));
  std::vector<Route> announced;
  std::vector<Route> withdrawn;
  for (const auto& m : msgs) {
    auto u = Update::parse(m, ctx);
    ASSERT_TRUE(u);
    for (const auto& r : u->announced()) {
      announced.push_back(r);
      EXPECT_EQ(u->next_hop(), ip("fd00::1"));
      EXPECT_TRUE(u->view().attributes.mp_reach.next_hop.has_link_local);
    }
    for (const auto& r : u->withdrawn()) {
      withdrawn.push_back(r);
    }
  }
  EXPECT_EQ(announced, (std::vector<Route>{{bgp::kIpv6Unicast, pfx("2001:db8::/32"), 9},
                                           {bgp::kIpv6Multicast, pfx("2001:db8:ff::/48"), 0}}));
  EXPECT_EQ(withdrawn, (std::vector<Route>{{bgp::kIpv6Unicast, pfx("2001:db8:1::/48"), 4}}));
}

TEST(UpdateBuilder, FromCopiesAttributesForARelay) {
  UpdateBuilder b;
  b.as_path({65001}).next_hop(ip("192.0.2.1")).med(10).large_community(1, 2, 3);
  const std::vector<std::uint8_t> unknown{1, 2, 3};
  b.attribute(bgp::attr_flag::kOptional | bgp::attr_flag::kTransitive, 250, unknown);
  b.announce(pfx("192.0.2.0/24"));
  std::vector<std::vector<std::uint8_t>> msgs;
  bgp::ParseContext ctx;
  ASSERT_TRUE(b.encode(ctx, 4096, msgs));
  auto u = Update::parse(msgs[0], ctx);
  ASSERT_TRUE(u);
  UpdateBuilder copy = UpdateBuilder::from(*u);
  copy.med(20).announce(pfx("192.0.2.0/24"));
  std::vector<std::vector<std::uint8_t>> out;
  ASSERT_TRUE(copy.encode(ctx, 4096, out));
  auto v = Update::parse(out[0], ctx);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->med(), 20U);
  EXPECT_EQ(v->large_communities(), (std::vector<std::array<std::uint32_t, 3>>{{1, 2, 3}}));
  EXPECT_EQ(v->view().attributes.unknown_count(), 1U);
}

// RFC 4271 section 5 for a relay: OTC and unknown optional transitive attributes travel on
// (the unknown one marked Partial), an unknown optional non-transitive one does not.
TEST(UpdateBuilder, FromKeepsTransitiveAttributesOnlyAndEraseRemoves) {
  UpdateBuilder b;
  b.as_path({65001}).next_hop(ip("192.0.2.1")).local_pref(100);
  const std::vector<std::uint8_t> value{0, 0, 0xfd, 0xe9};
  b.attribute(bgp::attr_flag::kOptional | bgp::attr_flag::kTransitive, 35, value);  // OTC
  b.attribute(bgp::attr_flag::kOptional | bgp::attr_flag::kTransitive, 99, value);
  b.attribute(bgp::attr_flag::kOptional, 100, value);
  b.announce(pfx("192.0.2.0/24"));
  std::vector<std::vector<std::uint8_t>> msgs;
  bgp::ParseContext ctx;
  ASSERT_TRUE(b.encode(ctx, 4096, msgs));
  auto u = Update::parse(msgs[0], ctx);
  ASSERT_TRUE(u);
  UpdateBuilder copy = UpdateBuilder::from(*u);
  copy.erase(bgp::AttributeType::LocalPref).announce(pfx("192.0.2.0/24"));
  std::vector<std::vector<std::uint8_t>> out;
  ASSERT_TRUE(copy.encode(ctx, 4096, out));
  auto v = Update::parse(out[0], ctx);
  ASSERT_TRUE(v);
  std::vector<std::pair<int, int>> seen;  // type, flags
  bgp::RawAttributeIterator it(v->view().attributes.block, 0);
  bgp::RawAttribute raw;
  while (it.next(raw)) {
    seen.emplace_back(raw.type, raw.flags);
  }
  EXPECT_EQ(seen, (std::vector<std::pair<int, int>>{
                      {1, 0x40}, {2, 0x40}, {35, 0xc0}, {99, 0xe0}, {3, 0x40}}));
  EXPECT_FALSE(v->local_pref());
}

TEST(Notification, DescribeNamesCodeSubcodeAndText) {
  EXPECT_EQ(NotificationInfo::describe(NotificationInfo::cease(2, "bye")),
            "Cease / Administrative Shutdown (6/2): \"bye\"");
}

}  // namespace
}  // namespace bgpscribe::speaker
