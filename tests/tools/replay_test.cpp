// `bgpscribe replay`: the --scale rewrite, UPDATE packing, and end-to-end replays of real MRT
// samples into a speaker-library Process on loopback, checked against the MRT decoded
// independently (typed attribute values, not the replay's own canonical bytes) and against the
// --record file.
//
// BGPSCRIBE_REPLAY_BENCH=1 enables the throughput measurement (docs/replay.md).
#include <gtest/gtest.h>

#include <unistd.h>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "codec/bgp/as_path.hpp"
#include "codec/bgp/attribute_types.hpp"
#include "codec/bgp/text.hpp"
#include "codec/bgp/update.hpp"
#include "codec/mrt/bgp4mp.hpp"
#include "codec/mrt/file.hpp"
#include "codec/mrt/table_dump.hpp"
#include "speaker/fsm.hpp"
#include "speaker/peer.hpp"
#include "speaker/peer_config.hpp"
#include "speaker/process.hpp"
#include "speaker/update.hpp"
#include "tests/support/bgp_bytes.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"
#include "tools/replay.hpp"
#include "tools/replay_packer.hpp"
#include "tools/replay_scale.hpp"

namespace bgpscribe::tools {
namespace {

namespace bgp = codec::bgp;
namespace mrt = codec::mrt;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using speaker::Direction;
using speaker::DynamicPeers;
using speaker::Peer;
using speaker::PeerConfig;
using speaker::Process;
using speaker::RawMessage;
using speaker::State;
using speaker::Update;

constexpr auto* pfx = &tests::prefix;

std::string shared_mrt(const char* relative) {
  return std::string(BGPSCRIBE_SHARED_DATA) + "/mrt/" + relative;
}

#define REQUIRE_SHARED(path)                                                               \
  if (!std::filesystem::exists(path)) {                                                    \
    GTEST_SKIP() << "shared MRT data absent (" << (path) << "): see DESIGN.md, Real data"; \
  }

// ---- Scale rewrite ----------------------------------------------------------------------------

std::vector<bgp::Prefix> sample_prefixes() {
  std::vector<bgp::Prefix> v;
  // A spread of real-looking IPv4 and IPv6 prefixes of several lengths, some duplicated.
  for (std::uint32_t i = 0; i < 3000; ++i) {
    const std::uint32_t a = 0x01000000U + i * 0x00010100U;  // 1.0.0.0/24, 1.1.1.0/24, ...
    bgp::Prefix p{bgp::IpAddress::v4(a & 0xFFFFFF00U), 24};
    v.push_back(p);
    if (i % 10 == 0) {
      v.push_back({bgp::IpAddress::v4(a & 0xFFFF0000U), 16});
    }
    if (i % 7 == 0) {
      v.push_back({bgp::IpAddress::v4(a & 0xFFFFFC00U), 22});
    }
  }
  v.push_back(pfx("10.1.2.0/24"));  // outside the domain: kept, never a copy target
  for (std::uint32_t i = 0; i < 500; ++i) {
    char text[64];
    std::snprintf(text, sizeof text, "2001:%x:%x::/48", 0x100 + i, i * 7);
    v.push_back(pfx(text));
    std::snprintf(text, sizeof text, "2a0%x:%x::/32", i % 10, i);
    v.push_back(pfx(text));
    std::snprintf(text, sizeof text, "2001:db8:%x:%x::%x/128", i, i * 3, i + 1);
    v.push_back(pfx(text));
  }
  v.push_back(v.front());  // a duplicate input
  return v;
}

std::vector<std::optional<bgp::Prefix>> expand(const std::vector<bgp::Prefix>& in,
                                               std::uint32_t n) {
  ScaleMap map;
  for (const auto& p : in) {
    map.add(p);
  }
  map.freeze();
  std::vector<std::optional<bgp::Prefix>> out;
  for (const auto& p : in) {
    const auto rank = map.rank(p);
    for (std::uint32_t k = 0; k < n; ++k) {
      out.push_back(map.copy(p, rank, k));
    }
  }
  return out;
}

TEST(ReplayScale, CopiesAreDistinctKeepLengthAndStayInUnicastSpace) {
  auto in = sample_prefixes();
  constexpr std::uint32_t kN = 40;
  const auto out = expand(in, kN);
  std::set<bgp::Prefix> distinct_in(in.begin(), in.end());
  ASSERT_EQ(out.size(), in.size() * kN);
  std::set<bgp::Prefix> seen;
  std::size_t made = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const bgp::Prefix& original = in[i / kN];
    const std::uint32_t k = i % kN;
    ASSERT_TRUE(out[i].has_value()) << original.to_string() << " copy " << k;
    const bgp::Prefix& p = *out[i];
    EXPECT_EQ(p.length, original.length);
    EXPECT_EQ(p.address.family, original.address.family);
    if (k == 0) {
      EXPECT_EQ(p, original);
    } else {
      EXPECT_EQ(distinct_in.count(p), 0U) << p.to_string() << " is an input prefix";
      if (p.address.is_v4()) {
        const auto first = p.address.bytes[0];
        EXPECT_TRUE(first >= 1 && first <= 223 && first != 10 && first != 127) << p.to_string();
      } else if (p.length >= 3) {
        EXPECT_EQ(p.address.bytes[0] & 0xE0, 0x20) << p.to_string();  // 2000::/3
      }
      // Host bits stay clear.
      EXPECT_EQ(*bgp::Prefix::parse(p.to_string()), p);
    }
    if (i / kN == in.size() - 1) {
      continue;  // the duplicate input repeats the first prefix's copies
    }
    EXPECT_TRUE(seen.insert(p).second) << "duplicate " << p.to_string();
    ++made;
  }
  EXPECT_EQ(made, (in.size() - 1) * kN);
}

TEST(ReplayScale, IsDeterministicAndIndependentOfInputOrder) {
  auto in = sample_prefixes();
  const auto a = expand(in, 7);
  const auto b = expand(in, 7);
  EXPECT_EQ(a, b);
  // The same prefix gets the same copies whatever the order (every peer agrees).
  std::vector<bgp::Prefix> reversed(in.rbegin(), in.rend());
  const auto c = expand(reversed, 7);
  for (std::size_t i = 0; i < in.size(); ++i) {
    const std::size_t j = in.size() - 1 - i;
    for (std::uint32_t k = 0; k < 7; ++k) {
      EXPECT_EQ(a[i * 7 + k], c[j * 7 + k]);
    }
  }
}

TEST(ReplayScale, ReportsCopiesWithoutRoom) {
  // 221 /8s exist in the domain: three inputs cannot get 100 copies each.
  std::vector<bgp::Prefix> in{pfx("3.0.0.0/8"), pfx("4.0.0.0/8"), pfx("6.0.0.0/8")};
  const auto out = expand(in, 100);
  std::set<bgp::Prefix> seen;
  std::size_t missing = 0;
  for (const auto& p : out) {
    if (!p) {
      ++missing;
      continue;
    }
    EXPECT_TRUE(seen.insert(*p).second);
  }
  EXPECT_EQ(seen.size(), 221U);  // every /8 of the domain, once
  EXPECT_EQ(missing, 300U - 221U);
}

// ---- Packing ----------------------------------------------------------------------------------

AttributeSet ipv4_set(std::uint32_t asn) {
  AttributeSet s;
  s.family = bgp::kIpv4Unicast;
  bgp::AttributeBuilder b;
  b.origin(bgp::Origin::Igp).as_path({{bgp::AsSegmentType::AsSequence, {asn, 3356, 15169}}});
  b.next_hop(0xC0000201).local_pref(100).med(5);
  codec::wire::Writer w;
  b.encode(w);
  s.attributes = w.buffer();
  s.has_next_hop_attribute = true;
  return s;
}

struct Captured {
  std::vector<std::vector<std::uint8_t>> messages;
  std::vector<bool> add_path;
};

Packer capture(Captured& c) {
  return Packer([&c](std::span<const std::uint8_t> m, bgp::AfiSafi, bool add_path) {
    c.messages.emplace_back(m.begin(), m.end());
    c.add_path.push_back(add_path);
  });
}

TEST(ReplayPacker, RoutesSharingAttributesShareUpdatesUpToTheMaximumSize) {
  Captured c;
  Packer packer = capture(c);
  PackContext ctx;
  ctx.source = bgp::IpAddress::v4(0x7F000002);
  ctx.strip_ibgp_attributes = true;
  const AttributeSet a = ipv4_set(64496);
  const AttributeSet b = ipv4_set(64497);
  ASSERT_TRUE(packer.begin_announce(a, ctx));
  std::vector<bgp::Prefix> sent;
  for (std::uint32_t i = 0; i < 2000; ++i) {
    sent.push_back({bgp::IpAddress::v4(0x0B000000U + (i << 8)), 24});
    packer.add(sent.back(), 0);
  }
  ASSERT_TRUE(packer.begin_announce(b, ctx));  // flushes the run of `a`
  packer.add(pfx("192.0.2.0/24"), 0);
  packer.flush();

  // 2000 /24s at 4 bytes each: 4096-byte messages hold at most (4096 - 23 - attributes) / 4.
  ASSERT_GE(c.messages.size(), 3U);
  bgp::ParseContext pc;
  std::vector<bgp::Prefix> got;
  for (std::size_t i = 0; i < c.messages.size(); ++i) {
    const auto& m = c.messages[i];
    EXPECT_LE(m.size(), 4096U);
    auto u = bgp::parse_update(m, pc);
    ASSERT_TRUE(u) << u.error().message;
    EXPECT_EQ(u->reaction(), codec::Reaction::None);
    EXPECT_FALSE(u->attributes.has(bgp::AttributeType::LocalPref));  // eBGP: stripped
    EXPECT_EQ(u->attributes.med, 5U);
    const std::uint32_t first_as = u->attributes.as_path.to_owned().front().asns.front();
    for (const auto& n : u->nlri) {
      (first_as == 64496 ? got : sent).push_back(n.prefix());
    }
    if (i + 2 < c.messages.size()) {
      EXPECT_GT(m.size(), 4096U - 4U) << "message " << i << " is not full";
    }
  }
  EXPECT_EQ(got, std::vector<bgp::Prefix>(sent.begin(), sent.begin() + 2000));
  // The last message carries `b` alone.
  auto last = bgp::parse_update(c.messages.back(), pc);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->nlri.count(), 1U);
  EXPECT_EQ(last->attributes.as_path.to_owned().front().asns.front(), 64497U);
}

TEST(ReplayPacker, Ipv6WithdrawalsAndAddPathAndExtendedMessages) {
  Captured c;
  Packer packer = capture(c);
  PackContext ctx;
  ctx.source = bgp::IpAddress::v4(0x7F000002);
  ctx.add_path_ipv6 = true;
  ctx.max_size = 65535;
  AttributeSet s;
  s.family = bgp::kIpv6Unicast;
  {
    bgp::AttributeBuilder b;
    b.origin(bgp::Origin::Igp).as_path({{bgp::AsSegmentType::AsSequence, {64496}}});
    b.large_communities(std::vector<std::array<std::uint32_t, 3>>{{64496, 1, 2}});
    codec::wire::Writer w;
    b.encode(w);
    s.attributes = w.buffer();
  }
  ASSERT_TRUE(packer.begin_announce(s, ctx));
  for (std::uint32_t i = 0; i < 10000; ++i) {
    bgp::Prefix p = pfx("2001:db8::/48");
    p.address.bytes[4] = static_cast<std::uint8_t>(i >> 8);
    p.address.bytes[5] = static_cast<std::uint8_t>(i);
    packer.add(p, i + 1);
  }
  ASSERT_TRUE(packer.begin_withdraw(bgp::kIpv6Unicast, ctx));
  packer.add(pfx("2001:db8:1::/48"), 7);
  ASSERT_TRUE(packer.begin_withdraw(bgp::kIpv4Unicast, ctx));
  packer.add(pfx("192.0.2.0/24"), 9);
  packer.flush();

  bgp::ParseContext pc;
  pc.extended_message = true;
  pc.set_add_path(bgp::kIpv6Unicast, true);
  std::size_t announced = 0;
  for (std::size_t i = 0; i + 2 < c.messages.size(); ++i) {
    auto u = bgp::parse_update(c.messages[i], pc);
    ASSERT_TRUE(u) << u.error().message;
    EXPECT_TRUE(c.add_path[i]);
    const auto& mp = u->attributes.mp_reach;
    EXPECT_EQ(mp.family, bgp::kIpv6Unicast);
    EXPECT_EQ(mp.next_hop.global, *bgp::IpAddress::parse("::ffff:127.0.0.2"));  // synthesized
    for (const auto& n : mp.nlri) {
      EXPECT_EQ(n.path_id, announced + 1);
      ++announced;
    }
    EXPECT_EQ(u->attributes.large_communities.size(), 12U);
  }
  EXPECT_EQ(announced, 10000U);
  EXPECT_EQ(c.messages.size(), 4U);  // 10000 * 11 bytes: two 65535-byte messages, then withdrawals
  auto w6 = bgp::parse_update(c.messages[2], pc);
  ASSERT_TRUE(w6);
  ASSERT_EQ(w6->attributes.mp_unreach.withdrawn.count(), 1U);
  EXPECT_EQ(w6->attributes.mp_unreach.withdrawn.begin()->path_id, 7U);
  auto w4 = bgp::parse_update(c.messages[3], pc);
  ASSERT_TRUE(w4);
  ASSERT_EQ(w4->withdrawn.count(), 1U);
  EXPECT_FALSE(c.add_path[3]);
  EXPECT_EQ(w4->withdrawn.begin()->prefix(), pfx("192.0.2.0/24"));
}

TEST(ReplayPacker, TwoOctetSessionsGetAsTransAndAs4Path) {
  Captured c;
  Packer packer = capture(c);
  PackContext ctx;
  ctx.four_octet_as = false;
  const AttributeSet s = ipv4_set(4200000001U);
  ASSERT_TRUE(packer.begin_announce(s, ctx));
  packer.add(pfx("198.51.100.0/24"), 0);
  packer.flush();
  ASSERT_EQ(c.messages.size(), 1U);
  bgp::ParseContext pc;
  pc.four_octet_as = false;
  auto u = bgp::parse_update(c.messages[0], pc);
  ASSERT_TRUE(u);
  EXPECT_EQ(bgp::to_string(bgp::merge_as4_path(u->attributes.as_path, u->attributes.as4_path)),
            "4200000001 3356 15169");
  EXPECT_EQ(bgp::to_string(u->attributes.as_path.to_owned()), "23456 3356 15169");
}

// --diversify's attribute rewrite: the AS joins a leading AS_SEQUENCE or starts one, leading
// confederation segments go, and the next hop is the context's for both families.
TEST(ReplayPacker, DiversifyPrependsTheAsAndReplacesTheNextHop) {
  auto prepended = [](const bgp::AsPath& path) {
    codec::wire::Writer w;
    bgp::encode_as_path(w, path, 4);
    std::vector<std::uint8_t> out;
    prepend_as_path(w.bytes(), 4200100001U, out);
    auto view = bgp::AsPathView::parse(codec::wire::Reader(out), 4);
    EXPECT_TRUE(view);
    return view ? bgp::to_string(view->to_owned()) : std::string("invalid");
  };
  using T = bgp::AsSegmentType;
  EXPECT_EQ(prepended({}), "4200100001");
  EXPECT_EQ(prepended({{T::AsSequence, {3356, 15169}}}), "4200100001 3356 15169");
  EXPECT_EQ(prepended({{T::AsSet, {1, 2}}}), "4200100001 {1,2}");
  EXPECT_EQ(prepended({{T::AsConfedSequence, {64512}}, {T::AsSequence, {3356}}}),
            "4200100001 3356");
  bgp::AsPath full{{T::AsSequence, std::vector<std::uint32_t>(255, 3356)}};
  codec::wire::Writer w;
  bgp::encode_as_path(w, full, 4);
  std::vector<std::uint8_t> out;
  prepend_as_path(w.bytes(), 64496, out);
  ASSERT_EQ(out.size(), w.size() + 6);  // a new segment: type, count, AS
  EXPECT_EQ(out[0], 2);
  EXPECT_EQ(out[1], 1);
  EXPECT_EQ(out[6], 2);
  EXPECT_EQ(out[7], 255);

  Captured c;
  Packer packer = capture(c);
  PackContext ctx;
  ctx.source = bgp::IpAddress::v4(0x7F000002);
  ctx.strip_ibgp_attributes = true;
  ctx.prepend_as = diversify_as(4);
  ctx.own_next_hop = true;
  std::copy_n(diversify_next_hop_v4(4).bytes.begin(), 4, ctx.next_hop_v4.begin());
  ctx.next_hop_v6 = diversify_next_hop_v6(4).bytes;
  ASSERT_TRUE(packer.begin_announce(ipv4_set(64496), ctx));
  packer.add(pfx("198.51.100.0/24"), 0);
  AttributeSet v6;
  v6.family = bgp::kIpv6Unicast;
  v6.attributes = ipv4_set(64496).attributes;  // its NEXT_HOP is not sent for IPv6
  v6.next_hop = std::vector<std::uint8_t>(16, 0x20);
  ASSERT_TRUE(packer.begin_announce(v6, ctx));
  packer.add(pfx("2001:db8:1::/48"), 0);
  packer.flush();
  ASSERT_EQ(c.messages.size(), 2U);
  bgp::ParseContext pc;
  auto u4 = bgp::parse_update(c.messages[0], pc);
  ASSERT_TRUE(u4);
  EXPECT_EQ(u4->reaction(), codec::Reaction::None);
  EXPECT_EQ(bgp::to_string(u4->attributes.as_path.to_owned()), "4200100005 64496 3356 15169");
  EXPECT_EQ(bgp::IpAddress::v4(u4->attributes.next_hop).to_string(), "198.18.0.5");
  auto u6 = bgp::parse_update(c.messages[1], pc);
  ASSERT_TRUE(u6);
  EXPECT_EQ(u6->reaction(), codec::Reaction::None);
  EXPECT_EQ(u6->attributes.mp_reach.next_hop.global.to_string(), "2001:db8::c612:5");
  EXPECT_EQ(u6->attributes.mp_reach.next_hop.raw.size(), 16U);
}

// ---- End to end -------------------------------------------------------------------------------

// The attributes of a route as typed values, decoded by the codec: what must survive the replay.
std::string summary(const bgp::PathAttributes& pa, bgp::AfiSafi family) {
  std::string s = "origin=" + std::to_string(static_cast<int>(pa.origin));
  const bgp::AsPath path = pa.as_path.as_size() == 2 && pa.has(bgp::AttributeType::As4Path)
                               ? bgp::merge_as4_path(pa.as_path, pa.as4_path)
                               : pa.as_path.to_owned();
  s += " path=" + bgp::to_string(path);
  if (family == bgp::kIpv4Unicast) {
    s += " nh=" + bgp::IpAddress::v4(pa.next_hop).to_string();
  } else if (pa.mp_reach.next_hop.valid) {
    s += " nh=" + pa.mp_reach.next_hop.global.to_string();
  }
  if (pa.has(bgp::AttributeType::MultiExitDisc)) {
    s += " med=" + std::to_string(pa.med);
  }
  if (pa.has(bgp::AttributeType::AtomicAggregate)) {
    s += " atomic";
  }
  if (pa.has(bgp::AttributeType::Aggregator)) {
    bgp::Aggregator a = pa.aggregator;
    if (a.asn == bgp::kAsTrans && pa.has(bgp::AttributeType::As4Aggregator)) {
      a = pa.as4_aggregator;
    }
    s += " agg=" + std::to_string(a.asn) + "/" + bgp::IpAddress::v4(a.address).to_string();
  }
  for (std::size_t i = 0; i < pa.communities.size() / 4; ++i) {
    s += " c=" + std::to_string(bgp::community_at(pa.communities, i));
  }
  s += " ext=" + std::to_string(pa.extended_communities.size());
  s += " large=" + std::to_string(pa.large_communities.size());
  return s;
}

struct RouteKey {
  bgp::Prefix prefix;
  std::uint32_t path_id = 0;
  friend auto operator<=>(const RouteKey&, const RouteKey&) = default;
};
using Rib = std::map<RouteKey, std::string>;

// The final routes per MRT peer ("ip ASn"), read independently from the file.
std::map<std::string, Rib> expected_ribs(const std::string& path, bool add_path, bool v6) {
  std::map<std::string, Rib> out;
  mrt::FileReader reader;
  EXPECT_TRUE(reader.open(path));
  mrt::FileRecord rec;
  std::vector<std::string> table;
  bgp::PathAttributes pa;
  auto name = [](const bgp::IpAddress& ip, std::uint32_t as) {
    return ip.to_string() + " AS" + std::to_string(as);
  };
  auto wanted = [&](bgp::AfiSafi f) {
    return f == bgp::kIpv4Unicast || (v6 && f == bgp::kIpv6Unicast);
  };
  while (reader.next(rec)) {
    const auto& r = rec.record;
    if (r.header.type == mrt::Type::TableDumpV2) {
      if (r.header.subtype == 1) {
        auto t = mrt::parse_peer_index_table(r);
        table.clear();
        for (const auto& p : t->peers) {
          table.push_back(name(p.ip, p.as));
        }
        continue;
      }
      auto rib = mrt::parse_rib(r);
      if (!rib || !rib->prefix() || !wanted(rib->family)) {
        continue;
      }
      std::set<std::uint16_t> done;
      for (const auto& e : *rib) {
        if (!add_path && !done.insert(e.peer_index).second) {
          continue;
        }
        bgp::AttributeOptions ao;
        ao.mrt_rib = true;
        ao.rib_family = rib->family;
        bgp::parse_attributes_into(codec::wire::Reader(e.attributes), mrt::parse_context_for(r), ao,
                                   pa);
        if (pa.diagnostics.reaction >= codec::Reaction::TreatAsWithdraw ||
            !pa.has(bgp::AttributeType::Origin) || !pa.has(bgp::AttributeType::AsPath)) {
          continue;  // nothing a receiver would keep
        }
        out[table[e.peer_index]][{*rib->prefix(), add_path ? e.path_id : 0}] =
            summary(pa, rib->family);
      }
    } else if (r.header.type == mrt::Type::TableDump) {
      auto e = mrt::parse_table_dump(r);
      const bgp::AfiSafi f = e->prefix.is_v4() ? bgp::kIpv4Unicast : bgp::kIpv6Unicast;
      if (!wanted(f)) {
        continue;
      }
      bgp::AttributeOptions ao;
      ao.mrt_rib = true;
      ao.rib_family = f;
      bgp::parse_attributes_into(codec::wire::Reader(e->attributes), mrt::parse_context_for(r), ao,
                                 pa);
      if (pa.diagnostics.reaction >= codec::Reaction::TreatAsWithdraw ||
          !pa.has(bgp::AttributeType::Origin) || !pa.has(bgp::AttributeType::AsPath)) {
        continue;
      }
      auto p = *bgp::Prefix::parse(e->prefix.to_string() + "/" + std::to_string(e->prefix_length));
      out[name(e->peer_ip, e->peer_as)][{p, 0}] = summary(pa, f);
    } else if (r.header.type == mrt::Type::Bgp4mp || r.header.type == mrt::Type::Bgp4mpEt) {
      const auto sub = static_cast<mrt::Bgp4mpSubtype>(r.header.subtype);
      if (!mrt::is_message(sub) || mrt::is_local(sub)) {
        continue;
      }
      auto m = mrt::parse_bgp4mp_message(r);
      auto u = bgp::parse_update(m->message, mrt::parse_context_for(r));
      if (!u || u->end_of_rib || u->reaction() > codec::Reaction::TreatAsWithdraw) {
        continue;
      }
      const bool as_withdraw = u->reaction() == codec::Reaction::TreatAsWithdraw;
      Rib& rib = out[name(m->peer.peer_ip, m->peer.peer_as)];
      for (const auto* block : {&u->withdrawn, &u->attributes.mp_unreach.withdrawn}) {
        for (const auto& n : *block) {
          if (wanted(block->family())) {
            rib.erase({n.prefix(), add_path ? n.path_id : 0});
          }
        }
      }
      for (const auto* block : {&u->nlri, &u->attributes.mp_reach.nlri}) {
        for (const auto& n : *block) {
          if (!wanted(block->family())) {
            continue;
          }
          if (as_withdraw) {
            rib.erase({n.prefix(), add_path ? n.path_id : 0});
          } else {
            rib[{n.prefix(), add_path ? n.path_id : 0}] = summary(u->attributes, block->family());
          }
        }
      }
    }
  }
  return out;
}

// A speaker-library Process that accepts replay sessions from 127.0.0.0/8 on its own thread and
// keeps, per source address, the routes held and the UPDATE bytes received.
class Sink {
 public:
  explicit Sink(bool add_path, bool keep = true, std::uint16_t port = 0) : keep_(keep) {
    port_ = process_.listen(*bgp::IpAddress::parse("127.0.0.1"), port);
    DynamicPeers d;
    d.range = pfx("127.0.0.0/8");
    // Hundreds of replay sessions connect at once (--clone): none may wait for a pending place.
    d.max_pending = d.max_peers;
    d.peer_template.local_as = 65000;
    d.peer_template.local_id = 0x0A000001;
    d.peer_template.families = {bgp::kIpv4Unicast, bgp::kIpv6Unicast};
    if (add_path) {
      d.peer_template.add_path_receive = {bgp::kIpv4Unicast, bgp::kIpv6Unicast};
    }
    d.on_new_peer = [this](Peer& p) {
      p.on_update([this](Peer& peer, const Update& u) { update(peer, u); })
          .on_raw([this](Peer& peer, const RawMessage& m) {
            if (keep_ && m.direction == Direction::Received && m.type == bgp::MessageType::Update) {
              raw_[peer.config().peer_address.to_string()].emplace_back(m.bytes.begin(),
                                                                        m.bytes.end());
            }
          })
          .on_end_of_rib([this](Peer&, bgp::AfiSafi) { ++end_of_ribs_; })
          .on_state_change([this](Peer&, State from, State to, std::string_view) {
            if (to == State::Established) {
              ++open_;
              ++established_;
            } else if (from == State::Established) {
              --open_;
            }
          });
    };
    process_.add_dynamic_peers(d);
    thread_ = std::thread([this] { process_.run(); });
  }
  ~Sink() { stop(); }
  void stop() {
    if (thread_.joinable()) {
      asio::post(process_.io(), [this] { process_.stop(); });
      thread_.join();
    }
  }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  // Cease / Administrative Shutdown with `text` to every session, as a collector going down
  // cleanly does.
  void cease(const std::string& text) {
    asio::post(process_.io(), [this, text] {
      for (Peer* p : process_.peers()) {
        p->stop(text);
      }
    });
  }
  // Waits until every session of the Process is closed (the replay sent Cease), at most `d`.
  void wait_closed(std::chrono::milliseconds d) {
    tests::wait_until([this] { return open_.load() <= 0 && established_.load() != 0; }, d);
  }

  std::map<std::string, Rib> ribs;                                     // read after stop()
  std::map<std::string, std::vector<std::vector<std::uint8_t>>> raw_;  // read after stop()
  std::atomic<std::uint64_t> prefixes{0};
  std::atomic<std::int64_t> first_update_ns{0};
  std::atomic<std::int64_t> last_update_ns{0};
  std::atomic<int> end_of_ribs_{0};
  std::atomic<int> open_{0};
  std::atomic<int> established_{0};

 private:
  void update(Peer& peer, const Update& u) {
    const auto& v = u.view();
    prefixes.fetch_add(v.nlri.count() + v.attributes.mp_reach.nlri.count(),
                       std::memory_order_relaxed);
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    if (first_update_ns.load(std::memory_order_relaxed) == 0) {
      first_update_ns.store(now, std::memory_order_relaxed);
    }
    last_update_ns.store(now, std::memory_order_relaxed);
    if (!keep_) {
      return;
    }
    Rib& rib = ribs[peer.config().peer_address.to_string()];
    for (const auto& r : u.withdrawn()) {
      rib.erase({r.prefix, r.path_id});
    }
    for (const auto& r : u.announced()) {
      rib[{r.prefix, r.path_id}] = summary(v.attributes, r.family);
    }
  }

  bool keep_;
  Process process_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

// Replays `file` into a Sink and checks, per session, that the routes held at the end equal the
// MRT peer's, and that the --record file holds exactly the UPDATEs the sink received.
void replay_and_compare(const std::string& file, ReplayOptions options, std::size_t min_routes) {
  const bool v6 =
      std::find(options.families.begin(), options.families.end(), "ipv6") != options.families.end();
  Sink sink(options.add_path);
  options.files = {file};
  options.port = sink.port();
  options.hold = 1;  // --hold 0 can reset the connection before the sink has read it all (note)
  options.quiet = true;
  const tests::TempDir tmp("bgpscribe-replay-test");
  options.record = (tmp / "record.mrt").string();
  ReplayResult result;
  const int status = run_replay(options, &result);
  sink.wait_closed(5s);
  sink.stop();
  ASSERT_EQ(status, 0);

  const auto expected = expected_ribs(file, options.add_path, v6);
  std::size_t routes = 0;
  ASSERT_FALSE(result.sessions.empty());
  for (const auto& s : result.sessions) {
    SCOPED_TRACE(s.source + " replaying " + s.mrt_peer);
    EXPECT_TRUE(s.ok);
    const auto e = expected.find(s.mrt_peer);
    ASSERT_NE(e, expected.end());
    const auto& got = sink.ribs[s.source];
    EXPECT_EQ(got.size(), e->second.size());
    std::size_t shown = 0;
    for (const auto& [key, attrs] : e->second) {
      const auto g = got.find(key);
      if (g == got.end() || g->second != attrs) {
        if (++shown < 5) {
          ADD_FAILURE() << key.prefix.to_string() << " path id " << key.path_id << ": expected "
                        << attrs << ", got " << (g == got.end() ? "nothing" : g->second);
        }
      }
    }
    EXPECT_EQ(shown, 0U);
    EXPECT_EQ(s.held, got.size()) << "routes held, as replay counts them";
    routes += got.size();
  }
  EXPECT_GE(routes, min_routes);
  EXPECT_EQ(sink.end_of_ribs_.load(), static_cast<int>(result.sessions.size() * (v6 ? 2 : 1)));

  // The record: per session, the UPDATEs exactly as the sink received them, as BGP4MP records
  // with peer = the session's source address and AS.
  std::map<std::string, std::vector<std::vector<std::uint8_t>>> recorded;
  mrt::FileReader reader;
  ASSERT_TRUE(reader.open(options.record));
  mrt::FileRecord rec;
  std::map<std::string, std::uint32_t> as_of;
  for (const auto& s : result.sessions) {
    as_of[s.source] = s.as;
  }
  while (reader.next(rec)) {
    auto m = mrt::parse_bgp4mp_message(rec.record);
    ASSERT_TRUE(m);
    EXPECT_TRUE(m->as4());
    EXPECT_EQ(m->peer.local_as, 65000U);
    EXPECT_EQ(m->peer.peer_as, as_of[m->peer.peer_ip.to_string()]);
    recorded[m->peer.peer_ip.to_string()].emplace_back(m->message.begin(), m->message.end());
  }
  EXPECT_EQ(reader.error(), nullptr);
  ASSERT_EQ(recorded.size(), sink.raw_.size());
  for (const auto& [source, messages] : sink.raw_) {
    SCOPED_TRACE(source);
    const auto& r = recorded[source];
    ASSERT_EQ(r.size(), messages.size());
    for (std::size_t i = 0; i < r.size(); ++i) {
      ASSERT_TRUE(r[i] == messages[i]) << "UPDATE " << i << " differs";
    }
  }
}

TEST(ReplayEndToEnd, OpenBgpdRibWithIpv4AndIpv6) {
  const auto file = shared_mrt("mrtparse/samples/openbgpd_rib_table-v2");
  REQUIRE_SHARED(file);
  ReplayOptions o;
  replay_and_compare(file, o, 3);
}

TEST(ReplayEndToEnd, RouteViewsRibHeadTopPeersCloned) {
  const auto file = shared_mrt("pyasn/data/rib.20140523.0600_firstMB.bz2");
  REQUIRE_SHARED(file);
  ReplayOptions o;
  o.peers = 3;
  o.clone = 2;
  replay_and_compare(file, o, 6 * 8000);
}

TEST(ReplayEndToEnd, AddPathRibKeepsPathIds) {
  const auto file = shared_mrt("bgpdump/test_data/bview.ipv4_unicast_add_path.gz");
  REQUIRE_SHARED(file);
  ReplayOptions o;
  o.add_path = true;
  replay_and_compare(file, o, 1);
}

TEST(ReplayEndToEnd, Bgp4mpAddPathUpdates) {
  const auto file = shared_mrt("mrtparse/samples/bird-mrtdump_bgp");
  REQUIRE_SHARED(file);
  ReplayOptions o;
  o.add_path = true;
  replay_and_compare(file, o, 1);
}

TEST(ReplayEndToEnd, RisUpdateFileWithTwoOctetAndAs4Records) {
  const auto file =
      shared_mrt("bgpkit-parser/tests/fixtures/ripe/rrc15/2010.02/updates.20100227.1600.gz");
  REQUIRE_SHARED(file);
  ReplayOptions o;
  o.peers = 4;
  replay_and_compare(file, o, 10);
}

TEST(ReplayEndToEnd, LegacyTableDumpIpv4Only) {
  const auto file = shared_mrt("bgpdump/test_data/bview.20020722.2337.gz");
  REQUIRE_SHARED(file);
  ReplayOptions o;
  o.peers = 2;
  o.families = {"ipv4"};
  replay_and_compare(file, o, 1000);
}

TEST(ReplayEndToEnd, ScaleMultipliesEveryPeersRoutes) {
  const auto file = shared_mrt("mrtparse/samples/openbgpd_rib_table-v2");
  REQUIRE_SHARED(file);
  Sink sink(false);
  ReplayOptions o;
  o.files = {file};
  o.port = sink.port();
  o.hold = 1;  // see replay_and_compare
  o.scale = 50;
  ReplayResult result;
  ASSERT_EQ(run_replay(o, &result), 0);
  sink.wait_closed(5s);
  sink.stop();
  std::size_t routes = 0;
  for (const auto& s : result.sessions) {
    EXPECT_EQ(s.scale_skipped, 0U);
    routes += sink.ribs[s.source].size();
    EXPECT_EQ(sink.ribs[s.source].size(), s.prefixes);
  }
  EXPECT_EQ(routes, result.prefixes);
  EXPECT_GT(routes, 0U);
  EXPECT_EQ(result.prefixes % 50, 0U);
}

// The route of `expected` (a summary) as diversified session `session` sends it: its AS in front
// of the path, its own next hop.
std::string diversified(const std::string& expected, std::uint32_t session, bool v6) {
  std::string out = expected;
  const auto path = out.find(" path=") + 6;
  const auto nh = out.find(" nh=");
  const std::string as = std::to_string(diversify_as(session));
  out.insert(path, nh == path ? as : as + " ");
  const auto at = out.find(" nh=") + 4;
  const auto end = out.find(' ', at);
  out.replace(at, end - at,
              (v6 ? diversify_next_hop_v6(session) : diversify_next_hop_v4(session)).to_string());
  return out;
}

// --clone 3 --diversify: every session sends the MRT peer's routes less its own ~1 % (exactly
// those diversify_leaves_out names), each with its AS in front and its next hop, so no two
// sessions share an attribute set; the count of routes held is replay's; the same run twice
// sends the same bytes.
TEST(ReplayEndToEnd, DiversifiedClonesShareNoAttributeSet) {
  const auto file = shared_mrt("pyasn/data/rib.20140523.0600_firstMB.bz2");
  REQUIRE_SHARED(file);
  const auto expected = expected_ribs(file, false, true);
  std::map<std::string, std::vector<std::vector<std::uint8_t>>> first_run;
  for (int run = 0; run < 2; ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    Sink sink(false);
    ReplayOptions o;
    o.files = {file};
    o.port = sink.port();
    o.peers = 1;
    o.clone = 3;
    o.diversify = true;
    o.ipv6_from_ipv4 = 20;
    o.hold = 1;  // see replay_and_compare
    o.quiet = true;
    ReplayResult result;
    ASSERT_EQ(run_replay(o, &result), 0);
    sink.wait_closed(5s);
    sink.stop();
    ASSERT_EQ(result.sessions.size(), 3U);
    if (run == 1) {
      EXPECT_TRUE(sink.raw_ == first_run) << "the second run sent other UPDATEs";
      break;
    }
    first_run = sink.raw_;
    std::vector<std::set<std::string>> sets(3);
    for (std::uint32_t i = 0; i < 3; ++i) {
      const auto& s = result.sessions[i];
      SCOPED_TRACE(s.source);
      EXPECT_EQ(s.as, diversify_as(i));
      const Rib& want = expected.at(s.mrt_peer);
      const Rib& got = sink.ribs[s.source];
      std::size_t v4 = 0;
      std::size_t left_out = 0;
      std::size_t wrong = 0;
      for (const auto& [key, attrs] : want) {
        if (!key.prefix.address.is_v4()) {
          continue;
        }
        ++v4;
        const auto g = got.find(key);
        if (diversify_leaves_out(i, key.prefix)) {
          ++left_out;
          EXPECT_TRUE(g == got.end()) << key.prefix.to_string() << " was not left out";
        } else if (g == got.end() || g->second != diversified(attrs, i, false)) {
          if (++wrong < 5) {
            ADD_FAILURE() << key.prefix.to_string() << ": expected " << diversified(attrs, i, false)
                          << ", got " << (g == got.end() ? "nothing" : g->second);
          }
        }
      }
      EXPECT_EQ(wrong, 0U);
      // The documented share, 10 per mille: about 90 of the peer's 9,000 IPv4 prefixes.
      EXPECT_GT(left_out * 1000, v4 * 6) << left_out << " of " << v4;
      EXPECT_LT(left_out * 1000, v4 * 14) << left_out << " of " << v4;
      // Announcements left out, IPv4 and derived IPv6.
      EXPECT_EQ(s.prefixes - s.ipv6_prefixes + left_out, v4);
      EXPECT_GT(s.left_out, left_out);
      EXPECT_EQ(s.held, got.size());
      EXPECT_EQ(s.prefixes, got.size());
      for (const auto& [key, attrs] : got) {
        EXPECT_FALSE(diversify_leaves_out(i, key.prefix)) << key.prefix.to_string();
        sets[i].insert(attrs);
        const auto nh = attrs.find(" nh=") + 4;
        EXPECT_EQ(attrs.substr(nh, attrs.find(' ', nh) - nh),
                  (key.prefix.address.is_v4() ? diversify_next_hop_v4(i) : diversify_next_hop_v6(i))
                      .to_string());
      }
    }
    for (std::size_t a = 0; a < 3; ++a) {
      for (std::size_t b = a + 1; b < 3; ++b) {
        std::vector<std::string> shared;
        std::set_intersection(sets[a].begin(), sets[a].end(), sets[b].begin(), sets[b].end(),
                              std::back_inserter(shared));
        EXPECT_TRUE(shared.empty()) << "sessions " << a << " and " << b << " share "
                                    << shared.size() << " attribute sets, e.g. " << shared[0];
      }
    }
  }
}

// --diversify on update files: withdrawals of left-out prefixes are not sent either, and the
// routes held at the end are what replay counts.
TEST(ReplayEndToEnd, DiversifiedUpdateFileHoldsWhatReplayCounts) {
  const auto file =
      shared_mrt("bgpkit-parser/tests/fixtures/ripe/rrc15/2010.02/updates.20100227.1600.gz");
  REQUIRE_SHARED(file);
  Sink sink(false);
  ReplayOptions o;
  o.files = {file};
  o.port = sink.port();
  o.peers = 4;
  o.clone = 2;
  o.diversify = true;
  o.hold = 1;  // see replay_and_compare
  o.quiet = true;
  ReplayResult result;
  ASSERT_EQ(run_replay(o, &result), 0);
  sink.wait_closed(5s);
  sink.stop();
  const auto expected = expected_ribs(file, false, true);
  ASSERT_EQ(result.sessions.size(), 8U);
  for (std::uint32_t i = 0; i < 8; ++i) {
    const auto& s = result.sessions[i];
    SCOPED_TRACE(s.source);
    const Rib& got = sink.ribs[s.source];
    std::size_t want = 0;
    for (const auto& [key, attrs] : expected.at(s.mrt_peer)) {
      want += diversify_leaves_out(i, key.prefix) ? 0 : 1;
    }
    EXPECT_EQ(got.size(), want);
    EXPECT_EQ(s.held, got.size());
  }
}

// The 2015 full table (89.7 k UPDATEs of about 6.4 prefixes, one peer): a diversified clone keeps
// the recorded packing, less the left-out prefixes, and leaves out about 1 %.
TEST(ReplayEndToEnd, DiversifiedRealTableKeepsItsPacking) {
  const auto file = shared_mrt("bgpdump/test_data/updates.et-header.2015.gz");
  REQUIRE_SHARED(file);
  Sink sink(false, false);
  ReplayOptions o;
  o.files = {file};
  o.port = sink.port();
  o.clone = 2;
  o.diversify = true;
  o.hold = 1;  // see replay_and_compare
  o.quiet = true;
  ReplayResult result;
  ASSERT_EQ(run_replay(o, &result), 0);
  sink.wait_closed(10s);
  sink.stop();
  ASSERT_EQ(result.sessions.size(), 2U);
  EXPECT_EQ(sink.prefixes.load(), result.prefixes);
  for (const auto& s : result.sessions) {
    SCOPED_TRACE(s.source);
    const std::uint64_t announced = s.prefixes + s.left_out;
    EXPECT_GT(announced, 570000U);
    EXPECT_GT(s.left_out * 1000, announced * 9);
    EXPECT_LT(s.left_out * 1000, announced * 11);
    const double per_update =
        static_cast<double>(s.prefixes + s.withdrawals) / static_cast<double>(s.messages);
    EXPECT_GT(per_update, 5.5);
    EXPECT_LT(per_update, 7.0);
    EXPECT_LE(s.held, s.prefixes);
    EXPECT_GT(s.held, s.prefixes * 9 / 10);
  }
}

// --ipv6-from-ipv4 P: each session's IPv6 routes are the derived forms of about P % of its IPv4
// routes, with the same attributes and the IPv4 next hop mapped into 2001:db8::/96; every peer
// derives the same prefixes; with --scale the derived routes are scaled like the others.
TEST(ReplayEndToEnd, Ipv6FromIpv4DerivesTheSameShareOnEveryPeer) {
  const auto file = shared_mrt("pyasn/data/rib.20140523.0600_firstMB.bz2");
  REQUIRE_SHARED(file);
  EXPECT_EQ(ipv6_from_ipv4(pfx("192.0.2.0/24")), pfx("3ffe:c000:200::/40"));
  EXPECT_EQ(ipv6_from_ipv4(pfx("1.2.3.4/32")), pfx("3ffe:102:304::/48"));
  Sink sink(false);
  ReplayOptions o;
  o.files = {file};
  o.port = sink.port();
  o.peers = 3;
  o.hold = 1;  // see replay_and_compare
  o.quiet = true;
  o.ipv6_from_ipv4 = 20;
  ReplayResult result;
  ASSERT_EQ(run_replay(o, &result), 0);
  sink.wait_closed(5s);
  sink.stop();
  ASSERT_EQ(result.sessions.size(), 3U);
  std::map<bgp::Prefix, int> derived_by;  // IPv4 prefix -> sessions that derived it
  std::map<bgp::Prefix, int> held_by;     // IPv4 prefix -> sessions that hold it
  for (const auto& s : result.sessions) {
    SCOPED_TRACE(s.source);
    const Rib& rib = sink.ribs[s.source];
    std::map<bgp::Prefix, std::string> v4;
    std::size_t v6 = 0;
    for (const auto& [key, attrs] : rib) {
      if (key.prefix.address.is_v4()) {
        v4[key.prefix] = attrs;
        ++held_by[key.prefix];
      }
    }
    for (const auto& [key, attrs] : rib) {
      if (key.prefix.address.is_v4()) {
        continue;
      }
      ++v6;
      // 3ffe:AABB:CCDD::/(L+16) comes from AA.BB.CC.DD/L.
      ASSERT_EQ(key.prefix.address.bytes[0], 0x3F);
      ASSERT_EQ(key.prefix.address.bytes[1], 0xFE);
      ASSERT_GE(key.prefix.length, 16);
      std::array<std::uint8_t, 4> a{};
      std::copy_n(key.prefix.address.bytes.begin() + 2, 4, a.begin());
      const bgp::Prefix from{bgp::IpAddress::v4(a),
                             static_cast<std::uint8_t>(key.prefix.length - 16)};
      const auto it = v4.find(from);
      ASSERT_NE(it, v4.end()) << key.prefix.to_string() << " has no IPv4 origin in the session";
      // Same attributes; the next hop is the IPv4 one, mapped.
      const auto nh = it->second.find(" nh=");
      const auto nh_end = it->second.find(' ', nh + 4);
      std::string want = it->second;
      const auto v4_nh = bgp::IpAddress::parse(it->second.substr(nh + 4, nh_end - nh - 4));
      ASSERT_TRUE(v4_nh);
      std::array<std::uint8_t, 16> mapped{0x20, 0x01, 0x0D, 0xB8};
      std::copy_n(v4_nh->bytes.begin(), 4, mapped.begin() + 12);
      want.replace(nh + 4, nh_end - nh - 4, bgp::IpAddress::v6(mapped).to_string());
      EXPECT_EQ(attrs, want) << key.prefix.to_string();
      ++derived_by[from];
    }
    EXPECT_GT(v6, v4.size() * 15 / 100);
    EXPECT_LT(v6, v4.size() * 25 / 100);
  }
  // A prefix every session holds is derived by all of them or by none.
  std::size_t common = 0;
  for (const auto& [prefix, n] : held_by) {
    if (n == 3) {
      ++common;
      const auto d = derived_by.find(prefix);
      EXPECT_TRUE(d == derived_by.end() || d->second == 3) << prefix.to_string();
    }
  }
  EXPECT_GT(common, 1000U);

  // With --scale every route, derived ones included, gets its copies.
  Sink scaled(false, false);
  o.port = scaled.port();
  o.peers = 1;
  o.scale = 4;
  ReplayResult r4;
  ASSERT_EQ(run_replay(o, &r4), 0);
  scaled.wait_closed(5s);
  scaled.stop();
  ASSERT_EQ(r4.sessions.size(), 1U);
  EXPECT_EQ(r4.sessions[0].prefixes + r4.sessions[0].scale_skipped,
            4 * result.sessions[0].prefixes);
  EXPECT_EQ(scaled.prefixes.load(), r4.sessions[0].prefixes);
}

TEST(ReplayEndToEnd, UnreachableCollectorFailsWithinTheConnectTimeout) {
  ReplayOptions o;
  o.files = {shared_mrt("mrtparse/samples/openbgpd_rib_table-v2")};
  REQUIRE_SHARED(o.files[0]);
  o.port = 1;  // nothing listens there
  o.connect_timeout = 1.5;
  const auto start = std::chrono::steady_clock::now();
  ::testing::internal::CaptureStderr();
  const int status = run_replay(o);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(status, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 6s);
  EXPECT_NE(err.find("127.0.0.1 port 1 did not come up within 1.5 s"), std::string::npos) << err;
  EXPECT_NE(err.find("refused"), std::string::npos) << err;
}

// A collector that goes away while replay holds the sessions (--hold): replay must say which
// session went down and why, stop at once (nothing is left to hold) and exit 1, as
// docs/replay.md says. `end` ends the sink: a Cease, or the whole Process closed as when the
// collector is killed.
void replay_then_lose_the_collector(const std::function<void(std::unique_ptr<Sink>&)>& end,
                                    const std::vector<std::string>& expected) {
  ReplayOptions o;
  o.files = {shared_mrt("mrtparse/samples/openbgpd_rib_table-v2")};
  o.peers = 2;
  o.hold = 8;
  o.quiet = true;
  auto sink = std::make_unique<Sink>(false, false);
  o.port = sink->port();
  ::testing::internal::CaptureStderr();
  std::atomic<int> status{-1};
  std::thread replay([&] { status = run_replay(o); });
  // Both sessions sent their End-of-RIB for both families: replay is in --hold once its send
  // queues are empty, which they are by the time the sink has read the last message.
  tests::wait_until([&] { return sink->end_of_ribs_.load() >= 4; }, 10s);
  const bool all_sent = sink->end_of_ribs_.load() == 4;
  std::this_thread::sleep_for(300ms);
  const auto lost = std::chrono::steady_clock::now();
  end(sink);
  replay.join();
  const auto took = std::chrono::steady_clock::now() - lost;
  const std::string err = ::testing::internal::GetCapturedStderr();
  sink.reset();
  ASSERT_TRUE(all_sent) << err;
  EXPECT_EQ(status.load(), 1) << err;
  EXPECT_LT(took, 5s) << "replay waited out --hold with no session left";
  for (const auto& e : expected) {
    EXPECT_NE(err.find(e), std::string::npos) << "no '" << e << "' in:\n" << err;
  }
}

TEST(ReplayEndToEnd, CeaseFromTheCollectorDuringHoldIsReportedAndFails) {
  REQUIRE_SHARED(shared_mrt("mrtparse/samples/openbgpd_rib_table-v2"));
  replay_then_lose_the_collector(
      [](auto& sink) { sink->cease("maintenance"); },
      {"session 127.0.0.2 -> 127.0.0.1 port ", "session 127.0.0.3 -> 127.0.0.1 port ",
       "went down during --hold", "Cease / Administrative Shutdown (6/2)", "maintenance"});
}

TEST(ReplayEndToEnd, CollectorKilledDuringHoldIsReportedAndFails) {
  REQUIRE_SHARED(shared_mrt("mrtparse/samples/openbgpd_rib_table-v2"));
  // Destroying the sink's Process closes every socket without a NOTIFICATION, as the kernel
  // does for a killed collector.
  replay_then_lose_the_collector(
      [](auto& sink) { sink.reset(); },
      {"session 127.0.0.2 -> 127.0.0.1 port ", "session 127.0.0.3 -> 127.0.0.1 port ",
       "went down during --hold", "connection "});
}

// Throughput: BGPSCRIBE_REPLAY_BENCH=1 replays the RouteViews head (--peers P --scale N) into a
// sink that only counts, and prints the prefixes per second of the replay.
TEST(ReplayBench, PrefixesPerSecond) {
  const char* on = std::getenv("BGPSCRIBE_REPLAY_BENCH");
  if (on == nullptr || *on == '\0' || *on == '0') {
    GTEST_SKIP() << "set BGPSCRIBE_REPLAY_BENCH=1 to measure";
  }
  const auto file = shared_mrt("pyasn/data/rib.20140523.0600_firstMB.bz2");
  REQUIRE_SHARED(file);
  Sink sink(false, false);
  ReplayOptions o;
  o.files = {file};
  o.port = sink.port();
  o.hold = 1;  // see replay_and_compare
  o.quiet = true;
  o.stats = true;
  o.peers = std::getenv("BENCH_PEERS") != nullptr ? std::stoul(std::getenv("BENCH_PEERS")) : 4;
  o.scale = std::getenv("BENCH_SCALE") != nullptr ? std::stoul(std::getenv("BENCH_SCALE")) : 110;
  o.clone = std::getenv("BENCH_CLONE") != nullptr ? std::stoul(std::getenv("BENCH_CLONE")) : 1;
  ReplayResult result;
  ASSERT_EQ(run_replay(o, &result), 0);
  sink.wait_closed(10s);
  sink.stop();
  EXPECT_EQ(sink.prefixes.load(), result.prefixes);
  const double received =
      static_cast<double>(sink.last_update_ns.load() - sink.first_update_ns.load()) / 1e9;
  std::printf(
      "replay: %llu prefixes in %.3f s = %.0f prefixes/s sent (%zu sessions, %llu messages); "
      "the sink had them all %.3f s after the first: %.0f prefixes/s end to end\n",
      static_cast<unsigned long long>(result.prefixes), result.seconds,
      static_cast<double>(result.prefixes) / result.seconds, result.sessions.size(),
      static_cast<unsigned long long>(result.messages), received,
      static_cast<double>(result.prefixes) / received);
}

// A counting sink for measuring the `bgpscribe replay` command itself:
// BGPSCRIBE_REPLAY_SINK_PORT=P listens on 127.0.0.1:P until the sessions that came up have
// closed (at most 120 s) and prints what it received.
TEST(ReplayBench, SinkForTheCommand) {
  const char* port = std::getenv("BGPSCRIBE_REPLAY_SINK_PORT");
  if (port == nullptr || *port == '\0') {
    GTEST_SKIP() << "set BGPSCRIBE_REPLAY_SINK_PORT=PORT to run a sink for bgpscribe replay";
  }
  Sink sink(false, false, static_cast<std::uint16_t>(std::stoul(port)));
  std::printf("sink: listening on 127.0.0.1:%u\n", static_cast<unsigned>(sink.port()));
  std::fflush(stdout);
  sink.wait_closed(120s);
  sink.stop();
  const double received =
      static_cast<double>(sink.last_update_ns.load() - sink.first_update_ns.load()) / 1e9;
  std::printf(
      "sink: %llu prefixes from %d sessions in %.3f s (first to last UPDATE): %.0f "
      "prefixes/s\n",
      static_cast<unsigned long long>(sink.prefixes.load()), sink.established_.load(), received,
      static_cast<double>(sink.prefixes.load()) / received);
}

}  // namespace
}  // namespace bgpscribe::tools
