// `bgpscribe status`, `rib` and `tail` (tools/api_client): the rendering of hand-built replies
// and events, `tail --json` read against `dump --json` of the same UPDATE and state change in a
// BGP4MP record (same members, order and spelling), and the command line against a stand-in
// Collector service on a unix socket and against a socket where nothing listens.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bgpscribe/v1/api.grpc.pb.h"
#include "codec/bgp/update.hpp"
#include "codec/mrt/bgp4mp.hpp"
#include "codec/mrt/record.hpp"
#include "codec/wire/writer.hpp"
#include "tests/support/command.hpp"
#include "tests/support/temp_dir.hpp"
#include "tools/api_client.hpp"
#include "tools/json_format.hpp"

namespace bgpscribe::tools {
namespace {

namespace bgp = codec::bgp;
namespace mrt = codec::mrt;
using Bytes = std::vector<std::uint8_t>;
using tests::run_command;

constexpr std::int64_t kNow = 1'700'000'000'000'000;  // 2023-11-14T22:13:20Z
constexpr std::int64_t kSecond = 1'000'000;

v1::Peer peer(std::uint32_t id, const char* name, const char* address, std::uint32_t asn) {
  v1::Peer p;
  p.set_id(id);
  p.set_name(name);
  p.set_address(address);
  p.set_asn(asn);
  p.set_bgp_id("192.0.2.9");
  p.set_local_address("192.0.2.1");
  p.set_local_asn(65000);
  return p;
}

v1::StatusReply status_reply() {
  v1::StatusReply r;
  auto* c = r.mutable_collector();
  c->set_name("rrc-test");
  c->set_version("0.9.0");
  c->set_local_asn(65000);
  c->set_bgp_id("192.0.2.1");
  c->set_started_us(kNow - (3 * 86400 + 4 * 3600 + 5) * kSecond);
  c->set_now_us(kNow);
  auto* bgp_listener = c->add_listeners();
  bgp_listener->set_kind("bgp");
  bgp_listener->set_address("::");
  bgp_listener->set_port(179);
  auto* api = c->add_listeners();
  api->set_kind("api");
  api->set_address("/var/lib/bgpscribe/api.sock");
  c->set_messages(1234);
  c->set_state_changes(7);
  c->set_routes(950123);
  c->set_attribute_sets(4000);
  c->set_rib_bytes(std::uint64_t{3} << 20);

  auto* up = r.add_peers();
  *up->mutable_peer() = peer(1, "r1", "192.0.2.9", 65001);
  up->set_state(v1::PeerEvent::ESTABLISHED);
  up->set_state_since_us(kNow - (3600 + 2 * 60 + 3) * kSecond);
  auto* v4 = up->add_prefixes();
  v4->set_afi(1);
  v4->set_safi(1);
  v4->set_prefixes(900000);
  auto* v6 = up->add_prefixes();
  v6->set_afi(2);
  v6->set_safi(1);
  v6->set_prefixes(50123);
  up->set_messages(1200);

  auto* down = r.add_peers();
  *down->mutable_peer() = peer(2, "2001:db8::2", "2001:db8::2", 4200000000);
  down->set_state(v1::PeerEvent::ACTIVE);
  down->set_state_since_us(kNow - 42 * kSecond);
  down->set_last_error(
      "Cease / Administrative Shutdown (6/2): \"maintenance window until tomorrow morning\"");
  down->set_messages(34);

  auto* mrt_exporter = r.add_exporters();
  mrt_exporter->set_name("archive");
  mrt_exporter->set_type("mrt");
  mrt_exporter->set_pushed(1234);
  mrt_exporter->set_delivered(1230);
  mrt_exporter->set_queued(4);
  mrt_exporter->set_lag_us(250'000);
  auto* pg = r.add_exporters();
  pg->set_name("db");
  pg->set_type("postgres");
  pg->set_pushed(1234);
  pg->set_delivered(1000);
  pg->set_spooled(234);
  pg->set_failed(2);
  pg->set_lag_us(125 * kSecond);
  pg->add_alarms("database unreachable");
  return r;
}

TEST(ApiClient, HumanDurations) {
  EXPECT_EQ(human_duration(0), "00:00:00");
  EXPECT_EQ(human_duration(999'999), "00:00:00");
  EXPECT_EQ(human_duration((3600 + 2 * 60 + 3) * kSecond), "01:02:03");
  EXPECT_EQ(human_duration((86400 - 1) * kSecond), "23:59:59");
  EXPECT_EQ(human_duration(86400 * kSecond), "1d00h");
  EXPECT_EQ(human_duration((3 * 86400 + 4 * 3600 + 59 * 60) * kSecond), "3d04h");
  EXPECT_EQ(human_duration(400 * 86400 * kSecond), "400d00h");
  EXPECT_EQ(human_duration(-1), "-");
}

TEST(ApiClient, StatusTable) {
  const std::string expected =
      "rrc-test: bgpscribe 0.9.0, up 3d04h, AS 65000, id 192.0.2.1; listening bgp [::]:179, api "
      "/var/lib/bgpscribe/api.sock\n"
      "2 peers (1 established), 950123 routes, 4000 attribute sets, RIB 3.0 MiB, 1234 messages, 7 "
      "state changes\n"
      "\n"
      "Peer         Address              AS  State           Since                          "
      "Prefixes  Messages  Last error\n"
      "r1           192.0.2.9         65001  Established  01:02:03  950123 (ipv4 900000, ipv6 "
      "50123)      1200\n"
      "2001:db8::2  2001:db8::2  4200000000  Active       00:00:42                                 "
      "0        34  Cease / Administrative Shutdown (6/2): \"maint...\n"
      "\n"
      "Exporter  Type      Pushed  Delivered  Queued  Spooled  Failed  Dropped       Lag  Alarms\n"
      "archive   mrt         1234       1230       4        0       0        0     250ms\n"
      "db        postgres    1234       1000       0      234       2        0  00:02:05  "
      "database unreachable\n";
  EXPECT_EQ(status_table(status_reply()), expected);
}

TEST(ApiClient, StatusTableWithoutPeersOrExporters) {
  v1::StatusReply r;
  r.mutable_collector()->set_name("c");
  r.mutable_collector()->set_now_us(kNow);
  const std::string table = status_table(r);
  EXPECT_NE(table.find("\nno peers\n"), std::string::npos) << table;
  EXPECT_NE(table.find("\nno exporters\n"), std::string::npos) << table;
  EXPECT_EQ(table.find("up -,"), table.find("up "));  // no start time, no uptime
}

TEST(ApiClient, StatusJsonKeepsProtoFieldNames) {
  const std::string json = status_json(status_reply());
  EXPECT_EQ(json.back(), '\n');
  for (const char* member : {"\"local_asn\":65000",
                             "\"state_since_us\":", "\"last_error\":", "\"state\":\"ESTABLISHED\"",
                             "\"lag_us\":\"250000\"", "\"dropped\":\"0\""}) {
    EXPECT_NE(json.find(member), std::string::npos) << member << " in " << json;
  }
}

v1::Attributes attributes() {
  v1::Attributes a;
  a.set_origin(v1::Attributes::IGP);
  auto* confed = a.add_as_path();
  confed->set_type(v1::AsPathSegment::AS_CONFED_SEQUENCE);
  confed->add_asns(64512);
  auto* seq = a.add_as_path();
  seq->set_type(v1::AsPathSegment::AS_SEQUENCE);
  seq->add_asns(65001);
  seq->add_asns(4200000001);
  auto* set = a.add_as_path();
  set->set_type(v1::AsPathSegment::AS_SET);
  set->add_asns(64496);
  set->add_asns(64497);
  a.set_next_hop("192.0.2.9");
  a.set_med(10);
  a.set_local_pref(100);
  a.set_atomic_aggregate(true);
  a.set_aggregator_asn(65001);
  a.set_aggregator_address("192.0.2.77");
  a.add_communities("65000:1");
  a.add_communities("65535:65281");
  a.add_extended_communities("rt:65000:100");
  a.add_large_communities("4200000000:1:2");
  a.set_originator_id("192.0.2.5");
  a.add_cluster_list("192.0.2.6");
  a.set_aigp(7);
  a.set_otc(65001);
  auto* other = a.add_other_attributes();
  other->set_type(250);
  other->set_flags(0xC0);
  other->set_value(std::string("\x01\x02", 2));
  return a;
}

TEST(ApiClient, RouteLine) {
  v1::Route route;
  *route.mutable_peer() = peer(1, "r1", "192.0.2.9", 65001);
  route.set_prefix("203.0.113.0/24");
  route.set_path_id(3);
  *route.mutable_attributes() = attributes();
  route.set_received_us(kNow);
  route.set_stale(true);
  route.set_afi(2);
  route.set_safi(1);
  std::string out;
  append_route_text(out, route);
  EXPECT_EQ(out,
            "203.0.113.0/24 path-id 3 from r1 192.0.2.9 AS65001 path (64512) 65001 4200000001 "
            "{64496,64497} next-hop 192.0.2.9 origin IGP med 10 local-pref 100 atomic-aggregate "
            "aggregator 65001 192.0.2.77 communities 65000:1,65535:65281 extended-communities "
            "rt:65000:100 large-communities 4200000000:1:2 originator-id 192.0.2.5 cluster-list "
            "192.0.2.6 aigp 7 otc 65001 attribute 250:192:0102 received 2023-11-14T22:13:20Z "
            "stale\n");
  out.clear();
  route.clear_attributes();
  route.set_path_id(0);
  route.set_stale(false);
  *route.mutable_peer() = peer(2, "2001:db8::2", "2001:db8::2", 65002);  // named after its address
  route.set_prefix("2001:db8:1::/48");
  append_route_text(out, route);
  EXPECT_EQ(out, "2001:db8:1::/48 from 2001:db8::2 AS65002 received 2023-11-14T22:13:20Z\n");
}

TEST(ApiClient, RouteJson) {
  v1::Route route;
  *route.mutable_peer() = peer(1, "r1", "2001:db8::9", 65001);
  route.set_prefix("2001:db8:1::/48");
  route.mutable_attributes()->set_next_hop("2001:db8::9");
  route.mutable_attributes()->set_next_hop_link_local("fe80::9");
  route.set_received_us(kNow - kSecond);
  route.set_stale(true);
  std::string out;
  append_route_json(out, route, kNow + 5);
  EXPECT_EQ(out,
            "{\"kind\":\"rib\",\"source\":\"api\",\"timestamp\":1700000000.000005,\"peer_ip\":"
            "\"2001:db8::9\",\"peer_as\":65001,\"peer_bgp_id\":\"192.0.2.9\",\"prefix\":\"2001:db8:"
            "1::/48\",\"afi\":\"ipv6\",\"safi\":\"unicast\",\"originated\":1699999999,\"mp_next_"
            "hop\":\"2001:db8::9\",\"mp_next_hop_link_local\":\"fe80::9\",\"stale\":true,\"peer_"
            "id\":1,\"peer_name\":\"r1\"}\n");
}

TEST(ApiClient, EventLines) {
  v1::Event announce;
  auto* r = announce.mutable_route();
  r->set_time_us(kNow + 123456);
  *r->mutable_peer() = peer(1, "r1", "192.0.2.9", 65001);
  r->set_prefix("203.0.113.0/24");
  r->set_afi(1);
  r->set_safi(1);
  auto* seq = r->mutable_attributes()->add_as_path();
  seq->set_type(v1::AsPathSegment::AS_SEQUENCE);
  seq->add_asns(65001);
  seq->add_asns(64496);
  r->mutable_attributes()->set_next_hop("192.0.2.9");
  r->mutable_attributes()->set_origin(v1::Attributes::INCOMPLETE);
  r->set_decision(v1::TREAT_AS_WITHDRAW);
  r->set_error("bad ORIGIN");
  v1::Event withdraw;
  withdraw.mutable_route()->set_time_us(kNow);
  *withdraw.mutable_route()->mutable_peer() = peer(1, "r1", "192.0.2.9", 65001);
  withdraw.mutable_route()->set_action(v1::RouteEvent::WITHDRAW);
  withdraw.mutable_route()->set_prefix("203.0.113.0/24");
  withdraw.mutable_route()->set_path_id(2);
  v1::Event state;
  auto* p = state.mutable_peer();
  p->set_time_us(kNow);
  *p->mutable_peer() = peer(1, "r1", "192.0.2.9", 65001);
  p->set_old_state(v1::PeerEvent::ESTABLISHED);
  p->set_new_state(v1::PeerEvent::IDLE);
  p->set_reason("hold timer expired");
  p->mutable_notification()->set_text("Cease / Administrative Shutdown (6/2)");
  p->mutable_notification()->set_sent(false);
  v1::Event begin;
  begin.mutable_snapshot()->set_time_us(kNow);
  v1::Event end;
  end.mutable_snapshot()->set_kind(v1::SnapshotMarker::END);
  end.mutable_snapshot()->set_time_us(kNow);
  end.mutable_snapshot()->set_routes(12);
  v1::Event lagging;
  lagging.mutable_lagging()->set_dropped(5000);
  lagging.mutable_lagging()->set_reason("queue full");

  std::string out;
  for (const auto* e : {&announce, &withdraw, &state, &begin, &end, &lagging}) {
    append_event_text(out, *e, kNow + 1);
  }
  EXPECT_EQ(out,
            "2023-11-14T22:13:20.123456Z A r1 192.0.2.9 AS65001 203.0.113.0/24 path 65001 64496 "
            "next-hop 192.0.2.9 origin INCOMPLETE decision treat-as-withdraw (bad ORIGIN)\n"
            "2023-11-14T22:13:20.000000Z W r1 192.0.2.9 AS65001 203.0.113.0/24 path-id 2\n"
            "2023-11-14T22:13:20.000000Z STATE r1 192.0.2.9 AS65001 Established -> Idle: "
            "received Cease / Administrative Shutdown (6/2)\n"
            "2023-11-14T22:13:20.000000Z SNAPSHOT BEGIN\n"
            "2023-11-14T22:13:20.000000Z SNAPSHOT END 12 routes\n"
            "2023-11-14T22:13:20.000001Z LAGGING 5000 events dropped: queue full\n");

  out.clear();
  for (const auto* e : {&begin, &end, &lagging}) {
    append_event_json(out, *e, kNow + 1);
  }
  EXPECT_EQ(out,
            "{\"timestamp\":1700000000.000000,\"kind\":\"snapshot_begin\"}\n"
            "{\"timestamp\":1700000000.000000,\"kind\":\"snapshot_end\",\"routes\":12}\n"
            "{\"timestamp\":1700000000.000001,\"kind\":\"lagging\",\"dropped\":5000,\"reason\":"
            "\"queue full\"}\n");
}

// ---- tail --json against dump --json --------------------------------------------------------

const bgp::IpAddress kPeerIp = bgp::IpAddress::v4(0xC0000209);   // 192.0.2.9
const bgp::IpAddress kLocalIp = bgp::IpAddress::v4(0xC0000201);  // 192.0.2.1

// What `dump --json` prints for one BGP4MP_ET record of `message` (or of a state change).
std::string dumped(const Bytes& record_bytes) {
  auto record = mrt::parse_record(record_bytes);
  EXPECT_TRUE(record);
  JsonFormatter f;
  std::string out;
  EXPECT_TRUE(f.format(*record, out));
  return out;
}

Bytes message_record(const Bytes& message) {
  mrt::Bgp4mpMessage m;
  m.subtype = mrt::Bgp4mpSubtype::MessageAs4;
  m.peer.peer_as = 65001;
  m.peer.local_as = 65000;
  m.peer.peer_ip = kPeerIp;
  m.peer.local_ip = kLocalIp;
  m.message = message;
  codec::wire::Writer w;
  EXPECT_TRUE(mrt::encode(m, mrt::Timestamp{1700000000, 123456, true}, w));
  return w.take();
}

// A tail line must be the dump line with tail's own members (peer_id, peer_name) at its end.
void expect_dump_line_then_additions(const std::string& dump, const std::string& tail) {
  ASSERT_GT(dump.size(), 2U);
  const std::string shared = dump.substr(0, dump.size() - 2);  // without "}\n"
  EXPECT_EQ(tail.substr(0, shared.size()), shared) << "dump: " << dump << "tail: " << tail;
  EXPECT_EQ(tail.substr(shared.size()), ",\"peer_id\":1,\"peer_name\":\"r1\"}\n");
}

TEST(ApiClient, TailJsonIsDumpJsonForTheSameUpdate) {
  bgp::UpdateMessage m;
  m.nlri.push_back({*bgp::Prefix::parse("203.0.113.0/24"), 0});
  m.withdrawn.push_back({*bgp::Prefix::parse("198.51.100.0/24"), 0});
  const bgp::AsPath path = {{bgp::AsSegmentType::AsConfedSequence, {64512}},
                            {bgp::AsSegmentType::AsSequence, {65001, 4200000001}},
                            {bgp::AsSegmentType::AsSet, {64496, 64497}}};
  const std::array<std::uint32_t, 2> communities = {0xFDE80001, 0xFFFFFF01};
  const std::array<std::uint64_t, 1> extended = {0x0002FDE800000064};
  const std::array<std::array<std::uint32_t, 3>, 1> large = {{{4200000000, 1, 2}}};
  const std::array<std::uint32_t, 1> cluster = {0xC0000206};
  const std::array<std::uint8_t, 2> unknown = {1, 2};
  m.attributes.origin(bgp::Origin::Igp)
      .as_path(path)
      .next_hop(0xC0000209)
      .med(10)
      .local_pref(100)
      .atomic_aggregate()
      .aggregator({65001, 0xC000024D})
      .communities(communities)
      .extended_communities(extended)
      .large_communities(large)
      .originator_id(0xC0000205)
      .cluster_list(cluster)
      .aigp(7)
      .otc(65001)
      .raw(0xC0, 250, unknown);
  codec::wire::Writer w;
  ASSERT_TRUE(m.encode(w));
  const std::string dump = dumped(message_record(w.take()));
  const auto newline = dump.find('\n');
  ASSERT_NE(newline, std::string::npos);
  const std::string dump_withdraw = dump.substr(0, newline + 1);
  const std::string dump_announce = dump.substr(newline + 1);

  v1::Event e;
  auto* r = e.mutable_route();
  r->set_time_us(kNow + 123456);
  *r->mutable_peer() = peer(1, "r1", "192.0.2.9", 65001);
  r->set_prefix("203.0.113.0/24");
  r->set_afi(1);
  r->set_safi(1);
  *r->mutable_attributes() = attributes();  // no origin_asn: the path ends in a set of two
  std::string tail;
  append_event_json(tail, e, kNow);
  expect_dump_line_then_additions(dump_announce, tail);

  r->set_action(v1::RouteEvent::WITHDRAW);
  r->set_prefix("198.51.100.0/24");
  r->clear_attributes();
  tail.clear();
  append_event_json(tail, e, kNow);
  expect_dump_line_then_additions(dump_withdraw, tail);
}

TEST(ApiClient, TailJsonIsDumpJsonForIpv6) {
  bgp::UpdateMessage m;
  const std::array<bgp::Prefix, 1> prefixes = {*bgp::Prefix::parse("2001:db8:1::/48")};
  std::array<std::uint8_t, 32> next_hop{};
  next_hop[0] = 0x20;
  next_hop[1] = 0x01;
  next_hop[2] = 0x0d;
  next_hop[3] = 0xb8;
  next_hop[15] = 0x09;  // 2001:db8::9
  next_hop[16] = 0xfe;
  next_hop[17] = 0x80;
  next_hop[31] = 0x09;  // fe80::9
  const bgp::AsPath path = {{bgp::AsSegmentType::AsSequence, {65001}}};
  m.attributes.origin(bgp::Origin::Egp)
      .as_path(path)
      .mp_reach(bgp::kIpv6Unicast, next_hop, prefixes);
  codec::wire::Writer w;
  ASSERT_TRUE(m.encode(w));
  const std::string dump = dumped(message_record(w.take()));

  v1::Event e;
  auto* r = e.mutable_route();
  r->set_time_us(kNow + 123456);
  *r->mutable_peer() = peer(1, "r1", "192.0.2.9", 65001);
  r->set_prefix("2001:db8:1::/48");
  r->set_afi(2);
  r->set_safi(1);
  auto* a = r->mutable_attributes();
  a->set_origin(v1::Attributes::EGP);
  auto* seq = a->add_as_path();
  seq->set_type(v1::AsPathSegment::AS_SEQUENCE);
  seq->add_asns(65001);
  a->set_origin_asn(65001);
  a->set_next_hop("2001:db8::9");
  a->set_next_hop_link_local("fe80::9");
  std::string tail;
  append_event_json(tail, e, kNow);
  expect_dump_line_then_additions(dump, tail);
}

TEST(ApiClient, TailJsonIsDumpJsonForAStateChange) {
  mrt::Bgp4mpStateChange c;
  c.peer.peer_as = 65001;
  c.peer.local_as = 65000;
  c.peer.peer_ip = kPeerIp;
  c.peer.local_ip = kLocalIp;
  c.old_state = 6;
  c.new_state = 1;
  codec::wire::Writer w;
  ASSERT_TRUE(mrt::encode(c, mrt::Timestamp{1700000000, 123456, true}, w));
  const std::string dump = dumped(w.take());

  v1::Event e;
  auto* p = e.mutable_peer();
  p->set_time_us(kNow + 123456);
  *p->mutable_peer() = peer(1, "r1", "192.0.2.9", 65001);
  p->set_old_state(v1::PeerEvent::ESTABLISHED);
  p->set_new_state(v1::PeerEvent::IDLE);
  std::string tail;
  append_event_json(tail, e, kNow);
  expect_dump_line_then_additions(dump, tail);

  // The additions a state event may carry: why, and the NOTIFICATION.
  p->set_reason("NOTIFICATION received");
  auto* n = p->mutable_notification();
  n->set_code(6);
  n->set_subcode(2);
  n->set_data("\x01", 1);
  n->set_text("Cease / Administrative Shutdown (6/2)");
  tail.clear();
  append_event_json(tail, e, kNow);
  EXPECT_NE(tail.find(",\"reason\":\"NOTIFICATION received\",\"notification\":{\"code\":6,"
                      "\"subcode\":2,\"code_name\":\"Cease\",\"subcode_name\":\"Administrative "
                      "Shutdown\",\"data\":\"01\",\"text\":\"Cease / Administrative Shutdown "
                      "(6/2)\",\"sent\":false},\"peer_id\":1"),
            std::string::npos)
      << tail;
}

TEST(ApiClient, TailJsonOfABmpPeer) {
  v1::Event e;
  auto* r = e.mutable_route();
  r->set_time_us(kNow);
  *r->mutable_peer() = peer(7, "edge1 192.0.2.9", "192.0.2.9", 65001);
  r->mutable_peer()->set_router("edge1");
  r->mutable_peer()->set_router_address("198.51.100.1");
  r->mutable_peer()->set_bmp_peer_type(1);
  r->mutable_peer()->set_distinguisher(0x0000FDE800000064);
  r->mutable_peer()->set_post_policy(true);
  r->set_action(v1::RouteEvent::WITHDRAW);
  r->set_prefix("203.0.113.0/24");
  r->set_afi(1);
  r->set_safi(1);
  std::string tail;
  append_event_json(tail, e, kNow);
  EXPECT_NE(tail.find(",\"peer_id\":7,\"peer_name\":\"edge1 192.0.2.9\",\"bmp\":{\"peer_type\":"
                      "\"rd\",\"distinguisher\":\"0000fde800000064\",\"post_policy\":true,"
                      "\"router\":\"edge1\",\"router_address\":\"198.51.100.1\"}}\n"),
            std::string::npos)
      << tail;
}

// ---- The command line -------------------------------------------------------------------------

TEST(ApiClient, NothingListeningFailsFastAndClearly) {
  tests::TempDir dir("bgpscribe-api");
  const std::string socket = (dir / "api.sock").string();
  for (const char* command : {"status", "rib 192.0.2.0/24", "tail"}) {
    const auto start = std::chrono::steady_clock::now();
    const auto r = run_command(std::string(BGPSCRIBE_BINARY) + " " + command + " --socket " +
                               tests::shell_quote(socket));
    const auto took = std::chrono::steady_clock::now() - start;
    const std::string name = std::string(command).substr(0, std::string(command).find(' '));
    EXPECT_EQ(r.status, 1) << command << ": " << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err.rfind("bgpscribe " + name + ": no collector answers at unix:" + socket +
                              " (is bgpscribe run going, with api enabled?): ",
                          0),
              0U)
        << r.err;
    EXPECT_LT(took, std::chrono::seconds(3)) << command;  // well under 5 s, also under asan
  }
}

TEST(ApiClient, UsageErrorsExit2) {
  for (const char* args : {"rib", "rib 192.0.2.0/24 --longest --longer", "tail --more-specific",
                           "tail --prefix 192.0.2.0/24 --more-specific "
                           "--less-specific"}) {
    const auto r =
        run_command(std::string(BGPSCRIBE_BINARY) + " " + args + " --socket /nonexistent");
    EXPECT_EQ(r.status, 2) << args << ": " << r.err;
  }
}

// A stand-in for the collector's service: a fixed Status, two pages of Rib, and a
// SubscribeBatches that sends three events and then holds the stream open until the client
// goes.
class FakeCollector final : public v1::Collector::Service {
 public:
  grpc::Status Status(grpc::ServerContext* /*ctx*/, const v1::StatusRequest* /*req*/,
                      v1::StatusReply* reply) override {
    *reply = status_reply();
    return grpc::Status::OK;
  }
  grpc::Status Rib(grpc::ServerContext* /*ctx*/, const v1::RibRequest* req,
                   v1::RibReply* reply) override {
    if (req->prefix() == "bad") {
      return {grpc::StatusCode::INVALID_ARGUMENT, "prefix \"bad\" is no prefix"};
    }
    last_rib = *req;
    auto* route = reply->add_routes();
    *route->mutable_peer() = peer(1, "r1", "192.0.2.9", 65001);
    route->set_prefix(req->page_token().empty() ? "192.0.2.0/24" : "192.0.2.0/25");
    route->set_received_us(kNow);
    if (req->page_token().empty()) {
      reply->set_next_page_token("page2");
    }
    return grpc::Status::OK;
  }
  // tail reads SubscribeBatches (the same events, many per message).
  grpc::Status SubscribeBatches(grpc::ServerContext* ctx, const v1::SubscribeRequest* req,
                                grpc::ServerWriter<v1::EventBatch>* writer) override {
    last_subscribe = *req;
    if (req->community() == "65000:666") {  // a subscriber that fell behind
      v1::EventBatch b;
      auto& e = *b.add_events();
      e.mutable_lagging()->set_dropped(5000);
      e.mutable_lagging()->set_reason("queue full");
      writer->Write(b);
      return {grpc::StatusCode::RESOURCE_EXHAUSTED, "lagging"};
    }
    v1::EventBatch batch;
    for (int i = 0; i < 3; ++i) {
      auto& e = *batch.add_events();
      auto* r = e.mutable_route();
      r->set_time_us(kNow + i);
      *r->mutable_peer() = peer(1, "r1", "192.0.2.9", 65001);
      r->set_prefix("203.0.113.0/24");
      r->set_afi(1);
      r->set_safi(1);
    }
    writer->Write(batch);
    while (!ctx->IsCancelled()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return grpc::Status::CANCELLED;
  }
  v1::RibRequest last_rib;
  v1::SubscribeRequest last_subscribe;
};

class ApiClientCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + socket_, grpc::InsecureServerCredentials());
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override {
    if (server_) {
      server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    }
  }
  tests::CommandResult run(const std::string& args) {
    return run_command(std::string(BGPSCRIBE_BINARY) + " " + args + " --socket " + socket_);
  }

  tests::TempDir dir_{"bgpscribe-api"};
  std::string socket_ = (dir_ / "api.sock").string();
  FakeCollector service_;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(ApiClientCommand, Status) {
  const auto r = run("status");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, status_table(status_reply()));
  const auto j = run("status --json");
  EXPECT_EQ(j.status, 0) << j.err;
  EXPECT_EQ(j.out, status_json(status_reply()));
}

TEST_F(ApiClientCommand, FindsTheSocketInTheConfig) {
  {
    std::ofstream config(dir_ / "collector.yaml");
    config << "collector:\n  name: t\n  local_as: 65000\n  bgp_id: 192.0.2.1\n"
           << "  state_directory: " << (dir_ / "state").string() << "\n"
           << "api:\n  socket: " << socket_ << "\nexporters:\n  - type: null\n";
  }
  const std::string binary = BGPSCRIBE_BINARY;
  const auto given = run_command(binary + " status -c " + (dir_ / "collector.yaml").string());
  EXPECT_EQ(given.status, 0) << given.err;
  EXPECT_EQ(given.out, status_table(status_reply()));
  // Without options: ./collector.yaml.
  const auto found = run_command("cd " + dir_.str() + " && " + binary + " status");
  EXPECT_EQ(found.status, 0) << found.err;
  EXPECT_EQ(found.out, status_table(status_reply()));
  const auto broken = run_command(binary + " status -c " + (dir_ / "nothing.yaml").string());
  EXPECT_EQ(broken.status, 2);
  EXPECT_NE(broken.err.find("nothing.yaml"), std::string::npos) << broken.err;
}

TEST_F(ApiClientCommand, RibFollowsPagesAndFindsPeersByAddressOrName) {
  const auto r = run("rib 192.0.2.0/24 --longer --peer 192.0.2.9 --peer 2001:db8::2 --peer 5");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "192.0.2.0/24 from r1 192.0.2.9 AS65001 received 2023-11-14T22:13:20Z\n"
            "192.0.2.0/25 from r1 192.0.2.9 AS65001 received 2023-11-14T22:13:20Z\n");
  EXPECT_EQ(service_.last_rib.match(), v1::RibRequest::MORE_SPECIFIC);
  EXPECT_EQ(std::vector<std::uint32_t>(service_.last_rib.peer_ids().begin(),
                                       service_.last_rib.peer_ids().end()),
            (std::vector<std::uint32_t>{5, 1, 2}));
  EXPECT_EQ(service_.last_rib.page_token(), "page2");

  const auto unknown = run("rib 192.0.2.0/24 --peer nosuchpeer");
  EXPECT_EQ(unknown.status, 1);
  EXPECT_EQ(unknown.err, "bgpscribe rib: the collector has no peer nosuchpeer\n");
  const auto bad = run("rib bad");
  EXPECT_EQ(bad.status, 2);
  EXPECT_EQ(bad.err, "bgpscribe rib: prefix \"bad\" is no prefix\n");
}

TEST_F(ApiClientCommand, TailStopsAfterCount) {
  const auto r = run(
      "tail --json --count 2 --peer 192.0.2.9 --peer r1 --peer-as 65001 --prefix 203.0.113.0/24 "
      "--less-specific --origin 64496 --path '^65001' --community 65000:1 --snapshot "
      "--routes-only");
  EXPECT_EQ(r.status, 0) << r.err;
  const auto lines = tests::lines_of(r.out);
  ASSERT_EQ(lines.size(), 2U) << r.out;
  EXPECT_EQ(lines[1].rfind("{\"timestamp\":1700000000.000001,\"peer_ip\":\"192.0.2.9\"", 0), 0U);
  const auto& s = service_.last_subscribe;
  EXPECT_EQ(std::vector<std::string>(s.peer_addresses().begin(), s.peer_addresses().end()),
            std::vector<std::string>{"192.0.2.9"});
  EXPECT_EQ(std::vector<std::uint32_t>(s.peer_ids().begin(), s.peer_ids().end()),
            std::vector<std::uint32_t>{1});
  EXPECT_EQ(s.peer_asns_size(), 1);
  EXPECT_EQ(s.prefix(), "203.0.113.0/24");
  EXPECT_TRUE(s.less_specific());
  EXPECT_FALSE(s.more_specific());
  EXPECT_EQ(s.origin_asns_size(), 1);
  EXPECT_EQ(s.as_path_regex(), "^65001");
  EXPECT_EQ(s.community(), "65000:1");
  EXPECT_TRUE(s.snapshot());
  EXPECT_TRUE(s.routes_only());
}

TEST_F(ApiClientCommand, TailCutOffForLaggingExits1) {
  const auto r = run("tail --json --community 65000:666");
  EXPECT_EQ(r.status, 1);
  const auto lines = tests::lines_of(r.out);
  ASSERT_EQ(lines.size(), 1U) << r.out;
  EXPECT_NE(lines[0].find("\"kind\":\"lagging\",\"dropped\":5000,\"reason\":\"queue full\"}"),
            std::string::npos)
      << lines[0];
  EXPECT_EQ(r.err, "bgpscribe tail: cut off by the collector: 5000 events dropped (queue full)\n");
}

TEST_F(ApiClientCommand, TailEndsCleanlyOnSigint) {
  // The three events reach the file (full buffering) within the watcher's 100 ms flush; once
  // they are there (at most 10 s on a loaded machine), SIGINT.
  const std::string out = (dir_ / "out").string();
  // A shell starts background commands with SIGINT ignored; env gives it back its default.
  const auto r = run_command(
      ": > " + out + "; env --default-signal=INT " + std::string(BGPSCRIBE_BINARY) +
      " tail --socket " + socket_ + " > " + out + " & pid=$!; i=0; while [ $(wc -l < " + out +
      ") -lt 3 ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; kill -INT $pid; wait $pid; "
      "echo status=$?; cat " +
      out);
  const auto lines = tests::lines_of(r.out);
  ASSERT_EQ(lines.size(), 4U) << r.out << r.err;
  EXPECT_EQ(lines[0], "status=0");
  EXPECT_EQ(lines[1], "2023-11-14T22:13:20.000000Z A r1 192.0.2.9 AS65001 203.0.113.0/24");
  EXPECT_EQ(r.err, "");
}

}  // namespace
}  // namespace bgpscribe::tools
