// Max-prefix counting and its decision (speaker/max_prefix.hpp), driven with decoded UPDATEs:
// no sockets, no clock. Each case names its rule and the RFC section it follows.
#include "speaker/max_prefix.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "codec/bgp/notification_codes.hpp"
#include "codec/wire/writer.hpp"

namespace bgpscribe::speaker {
namespace {

namespace bgp = codec::bgp;

// "10.0.0.0/24" with path id 0, or a path id for ADD-PATH.
struct Route {
  const char* address;
  std::uint8_t length;
  std::uint32_t path_id = 0;
};

enum class Attrs : std::uint8_t {
  Valid,            // ORIGIN, AS_PATH, NEXT_HOP
  TreatAsWithdraw,  // ORIGIN 3 (RFC 7606 section 7.1)
  Discard,          // ATOMIC_AGGREGATE of length 1 (RFC 7606 section 7.6)
};

struct Spec {
  std::vector<Route> withdrawn{};  // IPv4 unicast Withdrawn Routes field
  std::vector<Route> nlri{};       // IPv4 unicast NLRI field
  bgp::AfiSafi unreach_family = bgp::kIpv6Unicast;
  std::vector<Route> unreach{};  // MP_UNREACH_NLRI (when not empty)
  bgp::AfiSafi reach_family = bgp::kIpv6Unicast;
  std::vector<Route> reach{};  // MP_REACH_NLRI (when not empty)
  Attrs attrs = Attrs::Valid;
  bool add_path = false;  // path ids on every family (RFC 7911)
};

bgp::Prefix prefix(const Route& r) {
  // Not Prefix::parse: the address is kept as written, host bits included.
  return bgp::Prefix{bgp::IpAddress::parse(r.address).value(), r.length};
}

// An UPDATE's bytes and its decoded view (which points into the bytes).
struct Decoded {
  std::vector<std::uint8_t> bytes;
  bgp::Update update;
};

std::unique_ptr<Decoded> decode(const Spec& s) {
  bgp::UpdateMessage m;
  m.add_path = s.add_path;
  for (const auto& r : s.withdrawn) {
    m.withdrawn.push_back({prefix(r), r.path_id});
  }
  for (const auto& r : s.nlri) {
    m.nlri.push_back({prefix(r), r.path_id});
  }
  auto mp = [&](const std::vector<Route>& routes, std::vector<bgp::Prefix>& prefixes,
                std::vector<std::uint32_t>& ids) {
    for (const auto& r : routes) {
      prefixes.push_back(prefix(r));
      ids.push_back(r.path_id);
    }
    if (!s.add_path) {
      ids.clear();
    }
  };
  std::vector<bgp::Prefix> unreach;
  std::vector<std::uint32_t> unreach_ids;
  mp(s.unreach, unreach, unreach_ids);
  if (!unreach.empty()) {
    m.attributes.mp_unreach(s.unreach_family, unreach, unreach_ids);
  }
  const bool announces = !s.nlri.empty() || !s.reach.empty();
  if (announces) {
    if (s.attrs == Attrs::TreatAsWithdraw) {
      const std::array<std::uint8_t, 1> origin{3};  // not IGP, EGP or INCOMPLETE
      m.attributes.raw(bgp::attr_flag::kTransitive, 1, origin);
    } else {
      m.attributes.origin(bgp::Origin::Igp);
    }
    m.attributes.as_path(bgp::AsPath{});
    if (!s.nlri.empty()) {
      m.attributes.next_hop(0xc0000201);  // 192.0.2.1
    }
    if (s.attrs == Attrs::Discard) {
      const std::array<std::uint8_t, 1> one{0};  // ATOMIC_AGGREGATE has no value
      m.attributes.raw(bgp::attr_flag::kTransitive, 6, one);
    }
  }
  std::vector<bgp::Prefix> reach;
  std::vector<std::uint32_t> reach_ids;
  mp(s.reach, reach, reach_ids);
  if (!reach.empty()) {
    const auto nh =
        bgp::IpAddress::parse(s.reach_family.afi == bgp::Afi::Ipv6 ? "2001:db8::1" : "192.0.2.1")
            .value();
    m.attributes.mp_reach(s.reach_family, nh.span(), reach, reach_ids);
  }
  codec::wire::Writer w;
  EXPECT_TRUE(m.encode(w));
  auto d = std::make_unique<Decoded>();
  d->bytes.assign(w.bytes().begin(), w.bytes().end());
  bgp::ParseContext ctx;
  ctx.set_add_path_all(s.add_path);
  EXPECT_TRUE(bgp::parse_update_into(d->bytes, ctx, d->update));
  return d;
}

// One UPDATE of a case and what the counter holds and decides after it.
struct Step {
  Spec update;
  std::size_t count;
  bool tear_down = false;
  bgp::AfiSafi family{};  // the family in the NOTIFICATION when tear_down
};

struct Case {
  const char* rule;
  std::uint32_t limit;
  std::vector<Step> steps;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"RFC 4271 section 4.3: each route of the NLRI field is held",
       10,
       {{Spec{.nlri = {{"10.0.0.0", 24}, {"10.0.1.0", 24}}}, 2}}},
      {"RFC 4760 section 3: MP_REACH_NLRI routes are held too",
       10,
       {{Spec{.reach = {{"2001:db8::", 32}, {"2001:db8:1::", 48}}}, 2}}},
      {"RFC 4271 section 3.1: a route announced again replaces the one held (counted once)",
       10,
       {{Spec{.nlri = {{"10.0.0.0", 24}}}, 1}, {Spec{.nlri = {{"10.0.0.0", 24}}}, 1}}},
      {"RFC 4271 section 4.3: the Withdrawn Routes field ends a held route",
       10,
       {{Spec{.nlri = {{"10.0.0.0", 24}, {"10.0.1.0", 24}}}, 2},
        {Spec{.withdrawn = {{"10.0.0.0", 24}}}, 1}}},
      {"RFC 4760 section 4: MP_UNREACH_NLRI ends a held route",
       10,
       {{Spec{.reach = {{"2001:db8::", 32}}}, 1}, {Spec{.unreach = {{"2001:db8::", 32}}}, 0}}},
      {"RFC 4271 section 4.3: withdrawing a route not held changes nothing",
       10,
       {{Spec{.nlri = {{"10.0.0.0", 24}}}, 1},
        {Spec{.withdrawn = {{"10.9.0.0", 16}}, .unreach = {{"2001:db8::", 32}}}, 1}}},
      {"RFC 4271 section 4.3: a prefix withdrawn and announced in one UPDATE is held",
       10,
       {{Spec{.withdrawn = {{"10.0.0.0", 24}}, .nlri = {{"10.0.0.0", 24}}}, 1}}},
      {"RFC 4760 section 2: the same prefix in another family is another route",
       10,
       {{Spec{.nlri = {{"10.0.0.0", 24}},
              .reach_family = bgp::kIpv4Multicast,
              .reach = {{"10.0.0.0", 24}}},
         2}}},
      {"RFC 7911 section 3: ADD-PATH path ids make distinct routes",
       10,
       {{Spec{.nlri = {{"10.0.0.0", 24, 1}, {"10.0.0.0", 24, 2}},
              .reach = {{"2001:db8::", 32, 1}, {"2001:db8::", 32, 7}},
              .add_path = true},
         4},
        {Spec{.withdrawn = {{"10.0.0.0", 24, 2}}, .add_path = true}, 3}}},
      {"RFC 7911 section 3: a withdrawal ends only the route of its path id",
       10,
       {{Spec{.nlri = {{"10.0.0.0", 24, 1}}, .add_path = true}, 1},
        {Spec{.withdrawn = {{"10.0.0.0", 24, 9}}, .add_path = true}, 1}}},
      {"RFC 4271 section 4.3: host bits do not make another route (the prefix is masked)",
       10,
       {{Spec{.nlri = {{"10.0.0.0", 7}}}, 1}, {Spec{.nlri = {{"11.0.0.0", 7}}}, 1}}},
      {"RFC 7606 section 2: treat-as-withdraw withdraws the routes the UPDATE announces",
       10,
       {{Spec{.nlri = {{"10.0.0.0", 24}, {"10.0.1.0", 24}}, .reach = {{"2001:db8::", 32}}}, 3},
        {Spec{.nlri = {{"10.0.0.0", 24}, {"10.0.9.0", 24}},
              .reach = {{"2001:db8::", 32}},
              .attrs = Attrs::TreatAsWithdraw},
         1}}},
      {"RFC 7606 section 2: attribute discard keeps the routes",
       10,
       {{Spec{.nlri = {{"10.0.0.0", 24}}, .attrs = Attrs::Discard}, 1}}},
      {"RFC 4486 section 4: at the limit the session stays",
       2,
       {{Spec{.nlri = {{"10.0.0.0", 24}, {"10.0.1.0", 24}}}, 2}}},
      {"RFC 4486 section 4: one route past the limit tears the session down",
       2,
       {{Spec{.nlri = {{"10.0.0.0", 24}, {"10.0.1.0", 24}}}, 2},
        {Spec{.nlri = {{"10.0.2.0", 24}}}, 3, true, bgp::kIpv4Unicast}}},
      {"RFC 4486 section 4: the limit is over every family together",
       2,
       {{Spec{.nlri = {{"10.0.0.0", 24}}}, 1},
        {Spec{.reach = {{"2001:db8::", 32}}}, 2},
        {Spec{.reach = {{"2001:db8:1::", 48}}}, 3, true, bgp::kIpv6Unicast}}},
      {"RFC 4486 section 4: the NOTIFICATION names the family of the UPDATE's last route "
       "(MP_REACH_NLRI after the NLRI field), even when only the other family added one",
       1,
       {{Spec{.reach = {{"2001:db8::", 32}}}, 1},
        {Spec{.nlri = {{"10.0.0.0", 24}}, .reach = {{"2001:db8::", 32}}}, 2, true,
         bgp::kIpv6Unicast}}},
      {"RFC 4486 section 4: an UPDATE that adds nothing never tears down",
       1,
       {{Spec{.nlri = {{"10.0.0.0", 24}, {"10.0.1.0", 24}}}, 2, true, bgp::kIpv4Unicast},
        {Spec{.nlri = {{"10.0.0.0", 24}}}, 2},
        {Spec{.withdrawn = {{"10.0.1.0", 24}}}, 1}}},
      {"RFC 4486 section 4: a withdrawal in the same UPDATE makes room first",
       1,
       {{Spec{.nlri = {{"10.0.0.0", 24}}}, 1},
        {Spec{.withdrawn = {{"10.0.0.0", 24}}, .nlri = {{"10.0.1.0", 24}}}, 1}}},
      {"RFC 4486 section 4: treat-as-withdraw adds nothing, so never tears down",
       1,
       {{Spec{.nlri = {{"10.0.0.0", 24}}}, 1},
        {Spec{.nlri = {{"10.0.1.0", 24}}, .attrs = Attrs::TreatAsWithdraw}, 1}}},
      {"limit 0: no limit, nothing counted",
       0,
       {{Spec{.nlri = {{"10.0.0.0", 24}, {"10.0.1.0", 24}}}, 0}}},
  };
  return all;
}

TEST(MaxPrefix, EveryRuleInOrder) {
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.rule);
    MaxPrefixCounter counter(c.limit);
    EXPECT_EQ(counter.enabled(), c.limit != 0);
    for (std::size_t i = 0; i < c.steps.size(); ++i) {
      SCOPED_TRACE("UPDATE " + std::to_string(i + 1));
      const Step& step = c.steps[i];
      const auto d = decode(step.update);
      if (step.update.attrs == Attrs::TreatAsWithdraw) {
        ASSERT_EQ(d->update.reaction(), codec::Reaction::TreatAsWithdraw);
      } else if (step.update.attrs == Attrs::Discard) {
        ASSERT_EQ(d->update.reaction(), codec::Reaction::AttributeDiscard);
      } else {
        ASSERT_EQ(d->update.reaction(), codec::Reaction::None);
      }
      const MaxPrefixDecision decision = counter.account(d->update);
      EXPECT_EQ(counter.count(), step.count);
      if (!step.tear_down) {
        EXPECT_EQ(decision.action, MaxPrefixDecision::Action::None);
        continue;
      }
      ASSERT_EQ(decision.action, MaxPrefixDecision::Action::TearDown);
      EXPECT_EQ(decision.family, step.family);
      // RFC 4486 section 4: Cease / Maximum Number of Prefixes Reached; the data is AFI (2),
      // SAFI (1) and the limit (4).
      EXPECT_EQ(decision.notification.code, bgp::error_code::kCease);
      EXPECT_EQ(decision.notification.subcode, bgp::cease_subcode::kMaxPrefixesReached);
      EXPECT_EQ(bgp::max_prefixes(decision.notification), (bgp::MaxPrefixes{step.family, c.limit}));
    }
  }
}

TEST(MaxPrefix, NotificationDataIsAfiSafiAndLimit) {
  // RFC 4486 section 4, byte by byte.
  MaxPrefixCounter counter(1);
  const auto d =
      decode(Spec{.reach = {{"2001:db8::", 32}, {"2001:db8:1::", 48}}});  // two IPv6 routes
  const auto decision = counter.account(d->update);
  ASSERT_EQ(decision.action, MaxPrefixDecision::Action::TearDown);
  const std::vector<std::uint8_t> want{
      0x00, 0x02,             // AFI: IPv6
      0x01,                   // SAFI: unicast
      0x00, 0x00, 0x00, 0x01  // the limit: 1
  };
  EXPECT_EQ(decision.notification.data, want);
}

TEST(MaxPrefix, EncodedNlriOfOtherFamiliesAreNotCounted) {
  // RFC 4760 section 3: MP_REACH_NLRI for VPN-IPv4 (AFI 1, SAFI 128). The codec decodes only
  // plain prefixes; other families' NLRI are not routes the counter can key, so they are not
  // counted (as before the counter had a unit of its own).
  const std::vector<std::uint8_t> value{
      0x00, 0x01,                                                    // AFI: IPv4
      0x80,                                                          // SAFI: MPLS-labeled VPN
      0x0c,                                                          // next hop length: 12
      0,    0,    0,    0,    0,    0,    0,    0,    192, 0, 2, 1,  // next hop: RD 0, 192.0.2.1
      0x00,                                                          // reserved
      112,                                             // NLRI length in bits: 24 + 64 + 24
      0x00, 0x01, 0x01,                                // label 16, bottom of stack
      0x00, 0x00, 0xfd, 0xe8, 0x00, 0x00, 0x00, 0x01,  // RD 65000:1
      10,   1,    2                                    // prefix 10.1.2.0/24
  };
  bgp::UpdateMessage m;
  m.attributes.origin(bgp::Origin::Igp).as_path(bgp::AsPath{});
  m.attributes.raw(bgp::attr_flag::kOptional, 14, value);
  codec::wire::Writer w;
  ASSERT_TRUE(m.encode(w));
  const std::vector<std::uint8_t> bytes(w.bytes().begin(), w.bytes().end());
  bgp::Update u;
  ASSERT_TRUE(bgp::parse_update_into(bytes, bgp::ParseContext{}, u));
  ASSERT_FALSE(u.attributes.mp_reach.nlri.empty());
  MaxPrefixCounter counter(1);
  EXPECT_EQ(counter.account(u).action, MaxPrefixDecision::Action::None);
  EXPECT_EQ(counter.count(), 0U);
}

TEST(MaxPrefix, ClearForgetsEveryRoute) {
  // Peer clears the count when a session comes up or goes down: RFC 4271 section 8.2.2 deletes
  // the routes of a session that ends.
  MaxPrefixCounter counter(2);
  const auto two = decode(Spec{.nlri = {{"10.0.0.0", 24}, {"10.0.1.0", 24}}});
  EXPECT_EQ(counter.account(two->update).action, MaxPrefixDecision::Action::None);
  counter.clear();
  EXPECT_EQ(counter.count(), 0U);
  EXPECT_EQ(counter.account(two->update).action, MaxPrefixDecision::Action::None);
  EXPECT_EQ(counter.count(), 2U);
}

TEST(MaxPrefix, EndOfRibCountsNothing) {
  // RFC 4724 section 2: End-of-RIB is an UPDATE without routes.
  MaxPrefixCounter counter(1);
  for (const auto f : {bgp::kIpv4Unicast, bgp::kIpv6Unicast}) {
    codec::wire::Writer w;
    ASSERT_TRUE(bgp::UpdateMessage::end_of_rib(f).encode(w));
    const std::vector<std::uint8_t> bytes(w.bytes().begin(), w.bytes().end());
    bgp::Update u;
    ASSERT_TRUE(bgp::parse_update_into(bytes, bgp::ParseContext{}, u));
    ASSERT_TRUE(u.end_of_rib);
    EXPECT_EQ(counter.account(u).action, MaxPrefixDecision::Action::None);
  }
  EXPECT_EQ(counter.count(), 0U);
}

}  // namespace
}  // namespace bgpscribe::speaker
