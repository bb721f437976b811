// The live API's subscription filter (exporters/events/filter.hpp).
//
// Each filter alone, then combined, on events converted from real UPDATE bytes where that is
// convenient and filled by hand where a case needs a shape (IPv6, every AS path segment type);
// the errors a bad request gets, each naming its field; and the events the filter treats apart:
// withdrawals, peer events, snapshot markers and Lagging.
#include "exporters/events/filter.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "exporters/events/convert.hpp"
#include "tests/support/bgp_bytes.hpp"
#include "tests/support/records.hpp"

namespace bgpscribe::exporters::events {
namespace {

namespace v1 = bgpscribe::v1;
using Events = google::protobuf::RepeatedPtrField<v1::Event>;

// A route event from peer `id` at `address` (AS `asn`).
v1::Event route(const std::string& prefix, v1::RouteEvent::Action action = v1::RouteEvent::ANNOUNCE,
                std::uint32_t id = 1, const std::string& address = "192.0.2.7",
                std::uint32_t asn = 64500) {
  v1::Event e;
  auto& r = *e.mutable_route();
  r.set_prefix(prefix);
  r.set_action(action);
  r.mutable_peer()->set_id(id);
  r.mutable_peer()->set_address(address);
  r.mutable_peer()->set_asn(asn);
  return e;
}

void add_segment(v1::Event& e, v1::AsPathSegment::Type type,
                 std::initializer_list<std::uint32_t> asns) {
  auto& s = *e.mutable_route()->mutable_attributes()->add_as_path();
  s.set_type(type);
  s.mutable_asns()->Add(asns.begin(), asns.end());
}

v1::Event peer_event(std::uint32_t id, const std::string& address, std::uint32_t asn) {
  v1::Event e;
  auto& p = *e.mutable_peer();
  p.mutable_peer()->set_id(id);
  p.mutable_peer()->set_address(address);
  p.mutable_peer()->set_asn(asn);
  p.set_new_state(v1::PeerEvent::ESTABLISHED);
  return e;
}

v1::Event marker(v1::SnapshotMarker::Kind kind) {
  v1::Event e;
  e.mutable_snapshot()->set_kind(kind);
  return e;
}

v1::Event lagging() {
  v1::Event e;
  e.mutable_lagging()->set_dropped(7);
  return e;
}

Filter prefix_filter(const std::string& prefix, bool more, bool less) {
  v1::SubscribeRequest r;
  r.set_prefix(prefix);
  r.set_more_specific(more);
  r.set_less_specific(less);
  return Filter::from(r);
}

// The FilterError message of `request`, "" when it builds.
std::string error_of(const v1::SubscribeRequest& request) {
  try {
    (void)Filter::from(request);
  } catch (const FilterError& e) {
    return e.what();
  }
  return "";
}

// One UPDATE from peer 198.51.100.7 (AS 65001) as the collector converts it: 198.51.100.0/24
// withdrawn; 203.0.113.0/24 and 10.0.0.0/8 announced with path "65001 64496 {3,4}", origin AS
// absent (the path ends in a set of two), community 65000:1, large community 4200000000:1:2.
Events real_update_events() {
  const tests::ByteVector attrs = {
      0x40, 1,    1,    0,                       // ORIGIN IGP
      0x40, 2,    20,                            // AS_PATH, 20 octets (4-octet ASNs)
      2,    2,    0,    0,    0xfd, 0xe9, 0, 0,  // AS_SEQUENCE of 2: 65001,
      0xfb, 0xf0,                                //   64496
      1,    2,    0,    0,    0,    3,    0, 0,  // AS_SET of 2: 3,
      0,    4,                                   //   4
      0x40, 3,    4,    192,  0,    2,    1,     // NEXT_HOP 192.0.2.1
      0xc0, 8,    4,    0xfd, 0xe8, 0,    1,     // COMMUNITIES 65000:1
      0xc0, 32,   12,                            // LARGE_COMMUNITY
      0xfa, 0x56, 0xea, 0,    0,    0,    0, 1,  //   4200000000:1
      0,    0,    0,    2,                       //   :2
  };
  const auto update = tests::update_message({24, 198, 51, 100}, attrs, {24, 203, 0, 113, 8, 10});
  auto peer = tests::make_peer("198.51.100.7", 65001);
  Events events;
  EXPECT_EQ(append_events(tests::message_record(1, peer, update), Options{"c", false}, events), 3U);
  return events;
}

TEST(Filter, NoFilterPassesEverything) {
  const auto f = Filter::from(v1::SubscribeRequest());
  EXPECT_TRUE(f.passes_everything());
  EXPECT_TRUE(f.matches(route("10.0.0.0/8")));
  EXPECT_TRUE(f.matches(peer_event(1, "192.0.2.7", 1)));
  EXPECT_TRUE(f.matches(marker(v1::SnapshotMarker::BEGIN)));
  EXPECT_TRUE(f.matches(lagging()));
  // The request's other fields are not filters.
  v1::SubscribeRequest r;
  r.set_snapshot(true);
  r.set_raw_update(true);
  EXPECT_TRUE(Filter::from(r).passes_everything());
  r.set_routes_only(true);
  EXPECT_FALSE(Filter::from(r).passes_everything());
}

TEST(Filter, PeerIdsAsnsAndAddressesAnyMemberOfEachList) {
  v1::SubscribeRequest r;
  r.add_peer_ids(9);
  r.add_peer_ids(3);
  auto f = Filter::from(r);
  EXPECT_FALSE(f.passes_everything());
  EXPECT_TRUE(f.matches(route("10.0.0.0/8", v1::RouteEvent::ANNOUNCE, 3)));
  EXPECT_TRUE(f.matches(route("10.0.0.0/8", v1::RouteEvent::ANNOUNCE, 9)));
  EXPECT_FALSE(f.matches(route("10.0.0.0/8", v1::RouteEvent::ANNOUNCE, 4)));

  r.Clear();
  r.add_peer_asns(64500);
  r.add_peer_asns(65001);
  f = Filter::from(r);
  EXPECT_TRUE(f.matches(route("10.0.0.0/8", v1::RouteEvent::ANNOUNCE, 1, "192.0.2.7", 65001)));
  EXPECT_FALSE(f.matches(route("10.0.0.0/8", v1::RouteEvent::ANNOUNCE, 1, "192.0.2.7", 65002)));

  r.Clear();
  r.add_peer_addresses("2001:DB8::1");
  r.add_peer_addresses("192.0.2.7");
  f = Filter::from(r);
  EXPECT_TRUE(f.matches(route("10.0.0.0/8", v1::RouteEvent::ANNOUNCE, 1, "2001:db8::1")));
  EXPECT_TRUE(f.matches(route("10.0.0.0/8", v1::RouteEvent::ANNOUNCE, 1, "2001:db8:0::1")));
  EXPECT_TRUE(f.matches(route("10.0.0.0/8", v1::RouteEvent::ANNOUNCE, 1, "192.0.2.7")));
  EXPECT_FALSE(f.matches(route("10.0.0.0/8", v1::RouteEvent::ANNOUNCE, 1, "2001:db8::2")));
  EXPECT_FALSE(f.matches(route("10.0.0.0/8", v1::RouteEvent::ANNOUNCE, 1, "192.0.2.8")));
  EXPECT_FALSE(f.matches(route("10.0.0.0/8", v1::RouteEvent::ANNOUNCE, 1, "")));

  // The lists together: each must match.
  r.add_peer_ids(3);
  r.add_peer_asns(64500);
  f = Filter::from(r);
  EXPECT_TRUE(f.matches(route("10.0.0.0/8", v1::RouteEvent::ANNOUNCE, 3, "192.0.2.7", 64500)));
  EXPECT_FALSE(f.matches(route("10.0.0.0/8", v1::RouteEvent::ANNOUNCE, 4, "192.0.2.7", 64500)));
  EXPECT_FALSE(f.matches(route("10.0.0.0/8", v1::RouteEvent::ANNOUNCE, 3, "192.0.2.8", 64500)));
  EXPECT_FALSE(f.matches(route("10.0.0.0/8", v1::RouteEvent::ANNOUNCE, 3, "192.0.2.7", 64501)));
}

TEST(Filter, PrefixExactMoreLessOrEither) {
  const auto exact = prefix_filter("10.1.0.0/16", false, false);
  const auto more = prefix_filter("10.1.0.0/16", true, false);
  const auto less = prefix_filter("10.1.0.0/16", false, true);
  const auto either = prefix_filter("10.1.0.0/16", true, true);
  struct Case {
    const char* prefix;
    bool exact, more, less, either;
  };
  for (const auto& c : std::vector<Case>{
           {"10.1.0.0/16", true, true, true, true},
           {"10.1.2.0/24", false, true, false, true},
           {"10.1.2.3/32", false, true, false, true},
           {"10.0.0.0/8", false, false, true, true},
           {"0.0.0.0/0", false, false, true, true},
           {"10.2.0.0/16", false, false, false, false},  // a sibling
           {"10.2.0.0/24", false, false, false, false},
           {"10.0.0.0/15", false, false, true, true},
           {"11.0.0.0/8", false, false, false, false},
           {"::/0", false, false, false, false},  // another family covers nothing
           {"", false, false, false, false},
           {"not a prefix", false, false, false, false},
       }) {
    SCOPED_TRACE(c.prefix);
    EXPECT_EQ(exact.matches(route(c.prefix)), c.exact);
    EXPECT_EQ(more.matches(route(c.prefix)), c.more);
    EXPECT_EQ(less.matches(route(c.prefix)), c.less);
    EXPECT_EQ(either.matches(route(c.prefix)), c.either);
  }
}

TEST(Filter, PrefixIpv6AndHostPrefixes) {
  const auto more = prefix_filter("2001:DB8::/32", true, false);
  EXPECT_TRUE(more.matches(route("2001:db8::/32")));
  EXPECT_TRUE(more.matches(route("2001:db8:1::/48")));
  EXPECT_FALSE(more.matches(route("2001:db9::/48")));
  EXPECT_FALSE(more.matches(route("2001::/16")));
  EXPECT_FALSE(more.matches(route("10.0.0.0/8")));
  const auto less = prefix_filter("2001:db8:1:2::1", false, true);  // an address: a /128
  EXPECT_TRUE(less.matches(route("2001:db8:1:2::1/128")));
  EXPECT_TRUE(less.matches(route("2001:db8::/32")));
  EXPECT_TRUE(less.matches(route("::/0")));
  EXPECT_FALSE(less.matches(route("2001:db8:1:2::2/128")));
  EXPECT_TRUE(less.matches(route("2001:db8:1:2::/127")));
  const auto host = prefix_filter("192.0.2.1", false, false);  // a /32
  EXPECT_TRUE(host.matches(route("192.0.2.1/32")));
  EXPECT_FALSE(host.matches(route("192.0.2.0/24")));
  // Host bits past the length are cleared, as the codec's parser clears them.
  EXPECT_TRUE(prefix_filter("10.1.2.3/8", false, false).matches(route("10.0.0.0/8")));
}

TEST(Filter, AttributesOfARealUpdate) {
  const auto events = real_update_events();
  ASSERT_EQ(events.size(), 3);
  const auto& withdrawal = events[0];
  const auto& announce = events[1];
  ASSERT_EQ(announce.route().prefix(), "203.0.113.0/24");
  EXPECT_FALSE(announce.route().attributes().has_origin_asn());

  v1::SubscribeRequest r;
  r.set_community("65000:1");
  EXPECT_TRUE(Filter::from(r).matches(announce));
  r.set_community("65000:01");  // compared as numbers
  EXPECT_TRUE(Filter::from(r).matches(announce));
  r.set_community("65000:2");
  EXPECT_FALSE(Filter::from(r).matches(announce));
  r.set_community("4200000000:1:2");
  EXPECT_TRUE(Filter::from(r).matches(announce));
  r.set_community("4200000000:1:3");
  EXPECT_FALSE(Filter::from(r).matches(announce));
  r.set_community("1:2");  // not a large community's first parts
  EXPECT_FALSE(Filter::from(r).matches(announce));

  r.Clear();
  r.set_as_path_regex("^65001 64496 \\{3,4\\}$");
  EXPECT_TRUE(Filter::from(r).matches(announce));
  r.set_as_path_regex("(^| )64496( |$)");
  EXPECT_TRUE(Filter::from(r).matches(announce));
  r.set_as_path_regex("^64496");
  EXPECT_FALSE(Filter::from(r).matches(announce));

  r.Clear();
  r.add_origin_asns(64496);  // the path ends in a set of two: no origin AS
  EXPECT_FALSE(Filter::from(r).matches(announce));

  // The withdrawal carries no attributes and passes all three.
  r.set_community("65000:1");
  r.set_as_path_regex("^$");
  EXPECT_TRUE(Filter::from(r).matches(withdrawal));

  r.Clear();
  r.set_prefix("10.0.0.0/8");
  r.add_peer_addresses("198.51.100.7");
  r.add_peer_asns(65001);
  r.set_community("65000:1");
  const auto f = Filter::from(r);
  EXPECT_FALSE(f.matches(events[0]));
  EXPECT_FALSE(f.matches(events[1]));
  EXPECT_TRUE(f.matches(events[2]));
}

TEST(Filter, OriginAsns) {
  v1::SubscribeRequest r;
  r.add_origin_asns(64496);
  r.add_origin_asns(3);
  const auto f = Filter::from(r);
  auto e = route("10.0.0.0/8");
  EXPECT_FALSE(f.matches(e));  // no origin AS
  e.mutable_route()->mutable_attributes()->set_origin_asn(64496);
  EXPECT_TRUE(f.matches(e));
  e.mutable_route()->mutable_attributes()->set_origin_asn(3);
  EXPECT_TRUE(f.matches(e));
  e.mutable_route()->mutable_attributes()->set_origin_asn(64497);
  EXPECT_FALSE(f.matches(e));
}

TEST(Filter, AsPathRegexSeesThePathAsDumpWritesIt) {
  auto e = route("10.0.0.0/8");
  add_segment(e, v1::AsPathSegment::AS_SEQUENCE, {1, 2});
  add_segment(e, v1::AsPathSegment::AS_SET, {3, 4});
  add_segment(e, v1::AsPathSegment::AS_CONFED_SEQUENCE, {5, 6});
  add_segment(e, v1::AsPathSegment::AS_CONFED_SET, {7, 8});
  add_segment(e, v1::AsPathSegment::AS_SEQUENCE, {4200000000});
  v1::SubscribeRequest r;
  r.set_as_path_regex("^1 2 \\{3,4\\} \\(5 6\\) \\[7,8\\] 4200000000$");
  EXPECT_TRUE(Filter::from(r).matches(e));
  r.set_as_path_regex("[{,]4[,}]");
  EXPECT_TRUE(Filter::from(r).matches(e));
  r.set_as_path_regex("^([0-9]+ ){1,3}");
  EXPECT_TRUE(Filter::from(r).matches(e));
  r.set_as_path_regex("^1 2 3");
  EXPECT_FALSE(Filter::from(r).matches(e));
  // An empty path (a route of the collector's own AS) is the empty text.
  r.set_as_path_regex("^$");
  EXPECT_TRUE(Filter::from(r).matches(route("10.0.0.0/8")));
  EXPECT_FALSE(Filter::from(r).matches(e));
}

TEST(Filter, CopiesShareTheCompiledRegex) {
  v1::SubscribeRequest r;
  r.set_as_path_regex("^1 2$");
  auto e = route("10.0.0.0/8");
  add_segment(e, v1::AsPathSegment::AS_SEQUENCE, {1, 2});
  std::vector<Filter> filters;
  {
    const auto f = Filter::from(r);
    filters.push_back(f);
    filters.push_back(f);
  }
  filters.erase(filters.begin());
  EXPECT_TRUE(filters.front().matches(e));
}

TEST(Filter, PeerEventsMeetThePeerFiltersOnly) {
  v1::SubscribeRequest r;
  r.add_peer_asns(64500);
  r.set_prefix("10.0.0.0/8");
  r.add_origin_asns(1);
  r.set_as_path_regex("^1$");
  r.set_community("1:1");
  auto f = Filter::from(r);
  EXPECT_TRUE(f.matches(peer_event(1, "192.0.2.7", 64500)));
  EXPECT_FALSE(f.matches(peer_event(1, "192.0.2.7", 64501)));
  r.add_peer_addresses("2001:db8::7");
  r.add_peer_ids(4);
  f = Filter::from(r);
  EXPECT_TRUE(f.matches(peer_event(4, "2001:db8:0:0::7", 64500)));
  EXPECT_FALSE(f.matches(peer_event(4, "2001:db8::8", 64500)));
  EXPECT_FALSE(f.matches(peer_event(5, "2001:db8::7", 64500)));
  // Markers and Lagging pass whatever the filter.
  EXPECT_TRUE(f.matches(marker(v1::SnapshotMarker::BEGIN)));
  EXPECT_TRUE(f.matches(marker(v1::SnapshotMarker::END)));
  EXPECT_TRUE(f.matches(lagging()));
  EXPECT_TRUE(f.matches(v1::Event()));
  r.set_routes_only(true);
  f = Filter::from(r);
  EXPECT_FALSE(f.matches(peer_event(4, "2001:db8::7", 64500)));
  EXPECT_TRUE(f.matches(marker(v1::SnapshotMarker::END)));
  EXPECT_TRUE(f.matches(lagging()));
}

TEST(Filter, WithdrawalsPassTheAttributeFiltersNotTheOthers) {
  v1::SubscribeRequest r;
  r.set_prefix("10.0.0.0/8");
  r.add_peer_ids(1);
  r.add_origin_asns(64496);
  r.set_as_path_regex(" 64496$");
  r.set_community("65000:1");
  const auto f = Filter::from(r);
  EXPECT_TRUE(f.matches(route("10.0.0.0/8", v1::RouteEvent::WITHDRAW)));
  EXPECT_FALSE(f.matches(route("10.0.0.0/8", v1::RouteEvent::ANNOUNCE)));
  EXPECT_FALSE(f.matches(route("10.0.0.0/16", v1::RouteEvent::WITHDRAW)));
  EXPECT_FALSE(f.matches(route("10.0.0.0/8", v1::RouteEvent::WITHDRAW, 2)));
  // The announcement that matches them all, for contrast.
  auto e = route("10.0.0.0/8");
  add_segment(e, v1::AsPathSegment::AS_SEQUENCE, {65001, 64496});
  auto& a = *e.mutable_route()->mutable_attributes();
  a.set_origin_asn(64496);
  a.add_communities("64999:9");
  a.add_communities("65000:1");
  EXPECT_TRUE(f.matches(e));
  a.set_origin_asn(64497);
  EXPECT_FALSE(f.matches(e));
}

TEST(Filter, BadRequestsNameTheFieldAndTheProblem) {
  const auto prefix = [](const std::string& text) {
    v1::SubscribeRequest request;
    request.set_prefix(text);
    return error_of(request);
  };
  EXPECT_EQ(prefix("10.0.0.0/33"), "prefix \"10.0.0.0/33\": prefix length 33 > 32");
  EXPECT_EQ(prefix("2001:db8::/129"), "prefix \"2001:db8::/129\": prefix length 129 > 128");
  EXPECT_EQ(prefix("10.0.0.0/x"), "prefix \"10.0.0.0/x\": prefix length \"x\" is not a number");
  EXPECT_EQ(prefix("10.0.0.0/"), "prefix \"10.0.0.0/\": prefix length \"\" is not a number");
  EXPECT_EQ(prefix("10.0.0/8"), "prefix \"10.0.0/8\": \"10.0.0\" is not an IP address");
  EXPECT_EQ(prefix("2001:db8::g"), "prefix \"2001:db8::g\": \"2001:db8::g\" is not an IP address");
  EXPECT_EQ(prefix("a\"\n"), "prefix \"a\\\"\\x0a\": \"a\\\"\\x0a\" is not an IP address");

  // The text is read whole: inet_pton would stop at a NUL.
  EXPECT_EQ(prefix(std::string("10.0.0.0\0/8", 11)),
            "prefix \"10.0.0.0\\x00/8\": \"10.0.0.0\\x00\" is not an IP address");

  v1::SubscribeRequest r;
  r.add_peer_addresses("192.0.2.7");
  r.add_peer_addresses("192.0.2.300");
  EXPECT_EQ(error_of(r), "peer_addresses \"192.0.2.300\": not an IP address");
  r.set_peer_addresses(1, std::string("192.0.2.8\0", 10));
  EXPECT_EQ(error_of(r), "peer_addresses \"192.0.2.8\\x00\": not an IP address");

  const auto regex = [](const std::string& text) {
    v1::SubscribeRequest request;
    request.set_as_path_regex(text);
    return error_of(request);
  };
  EXPECT_EQ(regex("(").rfind("as_path_regex \"(\": ", 0), 0U) << regex("(");
  EXPECT_GT(regex("(").size(), std::string("as_path_regex \"(\": ").size());
  // Repetitions copy what they repeat, so they multiply; a pattern too large expanded is refused.
  const std::string too_large = "\": more than 2000 atoms with its repetitions expanded";
  EXPECT_EQ(regex("a{1,32767}"), "as_path_regex \"a{1,32767}" + too_large);
  EXPECT_EQ(regex("(1{1,50}){1,50}"), "as_path_regex \"(1{1,50}){1,50}" + too_large);
  EXPECT_EQ(regex("6" + std::string(40, '+')),
            "as_path_regex \"6" + std::string(40, '+') + too_large);
  EXPECT_EQ(regex("1{1,1000}2{1,1000}3"), "as_path_regex \"1{1,1000}2{1,1000}3" + too_large);
  EXPECT_EQ(regex("(1{1,40}){1,40}"), "");
  EXPECT_EQ(regex("1{1,999}2{1,999}"), "");
  std::string many;
  for (int i = 0; i < 100; ++i) {
    many += "[0-9]+ ";
  }
  EXPECT_EQ(regex(many), "");
  EXPECT_EQ(regex(std::string("^1\0|", 4)), "as_path_regex \"^1\\x00|\": contains a NUL character");
  EXPECT_EQ(regex("(1+)\\1"), "as_path_regex \"(1+)\\\\1\": back-references are not supported");
  EXPECT_EQ(regex(std::string(1025, '1')).rfind("as_path_regex \"1111", 0), 0U);
  EXPECT_NE(regex(std::string(1025, '1')).find("...\": longer than 1024 characters"),
            std::string::npos);
  // Counts a path regex needs, and braces that are no count, are fine.
  EXPECT_EQ(regex("^([0-9]+ ){0,31}64496$"), "");
  EXPECT_EQ(regex("[{][0-9]+,[0-9]+[}]"), "");
  EXPECT_EQ(regex("[[:digit:]{]{2}"), "");

  const auto community = [](const std::string& text) {
    v1::SubscribeRequest request;
    request.set_community(text);
    return error_of(request);
  };
  const std::string expected = "expected ASN:VALUE, or GLOBAL:DATA1:DATA2 for a large community";
  EXPECT_EQ(community("65000"), "community \"65000\": " + expected);
  EXPECT_EQ(community("65000:"), "community \"65000:\": " + expected);
  EXPECT_EQ(community("65000:-1"), "community \"65000:-1\": " + expected);
  EXPECT_EQ(community("1:2:3:4"), "community \"1:2:3:4\": " + expected);
  EXPECT_EQ(community("no-export"), "community \"no-export\": " + expected);
  EXPECT_EQ(community("70000:1"), "community \"70000:1\": 70000 > 65535");
  EXPECT_EQ(community("1:4294967296:1"), "community \"1:4294967296:1\": 4294967296 > 4294967295");

  r.Clear();
  r.set_more_specific(true);
  EXPECT_EQ(error_of(r), "more_specific: set without a prefix");
  r.Clear();
  r.set_less_specific(true);
  EXPECT_EQ(error_of(r), "less_specific: set without a prefix");
}

}  // namespace
}  // namespace bgpscribe::exporters::events
