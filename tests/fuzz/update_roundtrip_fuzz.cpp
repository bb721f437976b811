// Round-trip fuzz target for codec/bgp/update.hpp and the AttributeBuilder: parse an UPDATE,
// rebuild it through AttributeBuilder::from_block + UpdateMessage, parse again and compare; and
// for clean UPDATEs also rebuild every attribute from its typed value and compare the values.
//
// Input layout as update_fuzz: a whole message starting with the marker is parsed with its
// length field patched (4-octet AS, no ADD-PATH, then 2-octet AS with ADD-PATH); otherwise the
// first octet selects the context (bit 0: 4-octet AS, bit 1: ADD-PATH IPv4 unicast, bit 2:
// ADD-PATH IPv6 unicast, bit 3: eBGP, bit 4: iBGP, bit 5: ADD-PATH on every family) and the rest
// is the UPDATE body.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "codec/bgp/as_path.hpp"
#include "codec/bgp/attributes.hpp"
#include "codec/bgp/nlri.hpp"
#include "codec/bgp/update.hpp"
#include "codec/wire/writer.hpp"

namespace {

using bgpscribe::codec::Reaction;
using bgpscribe::codec::bgp::AttributeBuilder;
using bgpscribe::codec::bgp::AttributeType;
using bgpscribe::codec::bgp::ParseContext;
using bgpscribe::codec::bgp::PathAttributes;
using bgpscribe::codec::bgp::Update;
using bgpscribe::codec::bgp::UpdateMessage;
namespace bgp = bgpscribe::codec::bgp;
namespace wire = bgpscribe::codec::wire;

void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "update_roundtrip_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

bool same_bytes(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) {
      return false;
    }
  }
  return true;
}

std::vector<UpdateMessage::Route> routes(const bgp::NlriBlock& block) {
  std::vector<UpdateMessage::Route> out;
  for (const auto& n : block) {
    out.push_back({n.raw_prefix(), n.path_id});
  }
  return out;
}

bool same_nlri(const bgp::NlriBlock& a, const bgp::NlriBlock& b) {
  if (a.family() != b.family() || a.count() != b.count() || !same_bytes(a.bytes(), b.bytes())) {
    return false;
  }
  auto i = a.begin();
  auto j = b.begin();
  for (; i != a.end() && j != b.end(); ++i, ++j) {
    if (i->path_id != j->path_id || !(i->raw_prefix() == j->raw_prefix())) {
      return false;
    }
  }
  return i == a.end() && j == b.end();
}

// The typed values of two views agree (for every attribute both kept).
bool same_values(const PathAttributes& a, const PathAttributes& b) {
  using T = AttributeType;
  if (a.present != b.present) {
    return false;
  }
  bool same = true;
  auto check = [&](bool c) { same = same && c; };
  if (a.has(T::Origin)) {
    check(a.origin_raw == b.origin_raw);
  }
  if (a.has(T::AsPath)) {
    check(a.as_path.to_owned() == b.as_path.to_owned());
  }
  if (a.has(T::As4Path)) {
    check(a.as4_path.to_owned() == b.as4_path.to_owned());
  }
  if (a.has(T::NextHop)) {
    check(a.next_hop == b.next_hop);
  }
  if (a.has(T::MultiExitDisc)) {
    check(a.med == b.med);
  }
  if (a.has(T::LocalPref)) {
    check(a.local_pref == b.local_pref);
  }
  if (a.has(T::Aggregator)) {
    check(a.aggregator.asn == b.aggregator.asn && a.aggregator.address == b.aggregator.address);
  }
  if (a.has(T::As4Aggregator)) {
    check(a.as4_aggregator.asn == b.as4_aggregator.asn &&
          a.as4_aggregator.address == b.as4_aggregator.address);
  }
  check(same_bytes(a.communities, b.communities));
  check(same_bytes(a.extended_communities, b.extended_communities));
  check(same_bytes(a.large_communities, b.large_communities));
  check(same_bytes(a.ipv6_extended_communities, b.ipv6_extended_communities));
  check(same_bytes(a.cluster_list, b.cluster_list));
  if (a.has(T::OriginatorId)) {
    check(a.originator_id == b.originator_id);
  }
  if (a.has(T::Aigp)) {
    check(a.aigp == b.aigp);
  }
  if (a.has(T::Otc)) {
    check(a.otc == b.otc);
  }
  if (a.has(T::MpReachNlri)) {
    check(a.mp_reach.family == b.mp_reach.family);
    check(same_bytes(a.mp_reach.next_hop.raw, b.mp_reach.next_hop.raw));
    check(a.mp_reach.next_hop.global == b.mp_reach.next_hop.global);
    check(same_nlri(a.mp_reach.nlri, b.mp_reach.nlri));
  }
  if (a.has(T::MpUnreachNlri)) {
    check(a.mp_unreach.family == b.mp_unreach.family);
    check(same_nlri(a.mp_unreach.withdrawn, b.mp_unreach.withdrawn));
  }
  return same;
}

// Every attribute of a clean view rebuilt from its typed value (unknown and untyped ones raw),
// in the order of the block.
AttributeBuilder typed_rebuild(const PathAttributes& a, const ParseContext& ctx) {
  using T = AttributeType;
  AttributeBuilder b;
  const std::uint8_t as_size = ctx.four_octet_as ? 4 : 2;
  bgp::RawAttributeIterator it(a.block, a.block_offset);
  bgp::RawAttribute raw;
  while (it.next(raw)) {
    const auto t = static_cast<T>(raw.type);
    const bool present = a.present[raw.type];
    if (!present) {
      b.raw(raw.flags, raw.type, raw.value);
      continue;
    }
    switch (t) {
      case T::Origin:
        b.origin(a.origin);
        break;
      case T::AsPath:
        b.as_path(a.as_path.to_owned(), as_size);
        break;
      case T::As4Path:
        b.as4_path(a.as4_path.to_owned());
        break;
      case T::NextHop:
        b.next_hop(a.next_hop);
        break;
      case T::MultiExitDisc:
        b.med(a.med);
        break;
      case T::LocalPref:
        b.local_pref(a.local_pref);
        break;
      case T::AtomicAggregate:
        b.atomic_aggregate();
        break;
      case T::Aggregator:
        b.aggregator(a.aggregator, as_size);
        break;
      case T::As4Aggregator:
        b.as4_aggregator(a.as4_aggregator);
        break;
      case T::Communities: {
        std::vector<std::uint32_t> v;
        for (std::size_t i = 0; i < a.communities.size() / 4; ++i) {
          v.push_back(bgp::community_at(a.communities, i));
        }
        b.communities(v);
        break;
      }
      case T::ExtendedCommunities: {
        std::vector<std::uint64_t> v;
        for (std::size_t i = 0; i < a.extended_communities.size(); i += 8) {
          v.push_back((std::uint64_t{wire::load_u32(a.extended_communities, i)} << 32) |
                      wire::load_u32(a.extended_communities, i + 4));
        }
        b.extended_communities(v);
        break;
      }
      case T::LargeCommunities: {
        std::vector<std::array<std::uint32_t, 3>> v;
        for (std::size_t i = 0; i < a.large_communities.size(); i += 12) {
          v.push_back({wire::load_u32(a.large_communities, i),
                       wire::load_u32(a.large_communities, i + 4),
                       wire::load_u32(a.large_communities, i + 8)});
        }
        b.large_communities(v);
        break;
      }
      case T::OriginatorId:
        b.originator_id(a.originator_id);
        break;
      case T::ClusterList: {
        std::vector<std::uint32_t> v;
        for (std::size_t i = 0; i < a.cluster_list.size(); i += 4) {
          v.push_back(wire::load_u32(a.cluster_list, i));
        }
        b.cluster_list(v);
        break;
      }
      case T::Aigp:
        b.aigp(a.aigp);
        break;
      case T::Otc:
        b.otc(a.otc);
        break;
      case T::MpReachNlri:
        if (a.mp_reach.nlri.decoded()) {
          std::vector<bgp::Prefix> prefixes;
          std::vector<std::uint32_t> ids;
          for (const auto& n : a.mp_reach.nlri) {
            prefixes.push_back(n.raw_prefix());
            ids.push_back(n.path_id);
          }
          const bool add_path = ctx.add_path(a.mp_reach.family) && !prefixes.empty();
          b.mp_reach(
              a.mp_reach.family, a.mp_reach.next_hop.raw, prefixes,
              add_path ? std::span<const std::uint32_t>(ids) : std::span<const std::uint32_t>());
        } else {
          b.raw(raw.flags, raw.type, raw.value);
        }
        break;
      case T::MpUnreachNlri:
        if (a.mp_unreach.withdrawn.decoded()) {
          std::vector<bgp::Prefix> prefixes;
          std::vector<std::uint32_t> ids;
          for (const auto& n : a.mp_unreach.withdrawn) {
            prefixes.push_back(n.raw_prefix());
            ids.push_back(n.path_id);
          }
          const bool add_path = ctx.add_path(a.mp_unreach.family) && !prefixes.empty();
          b.mp_unreach(
              a.mp_unreach.family, prefixes,
              add_path ? std::span<const std::uint32_t>(ids) : std::span<const std::uint32_t>());
        } else {
          b.raw(raw.flags, raw.type, raw.value);
        }
        break;
      default:
        b.raw(raw.flags, raw.type, raw.value);
        break;
    }
  }
  return b;
}

void round_trip(std::span<const std::uint8_t> message, const ParseContext& ctx) {
  auto first = bgp::parse_update(message, ctx);
  if (!first) {
    return;
  }
  const Update& u = *first;
  const bool add_path = ctx.add_path(bgp::kIpv4Unicast);

  // 1. Raw rebuild: the framed attributes are copied, so the bytes come back (less any
  // attribute bytes that could not be framed, which only a treat-as-withdraw error allows).
  UpdateMessage m;
  m.add_path = add_path;
  m.withdrawn = routes(u.withdrawn);
  m.attributes = AttributeBuilder::from_block(u.attributes.block);
  m.nlri = routes(u.nlri);
  wire::Writer w;
  require(m.encode(w, 65535).has_value(), "a parsed UPDATE re-encodes");
  const bool framed = m.attributes.encoded_size() == u.attributes.block.size();
  if (framed) {
    require(same_bytes(w.bytes(), message), "raw rebuild gives the same bytes");
  } else {
    require(u.reaction() >= Reaction::TreatAsWithdraw, "unframed attributes are an error");
    require(w.size() < message.size(), "the rebuild drops only unframed bytes");
  }
  auto second = bgp::parse_update(w.bytes(), ctx);
  require(second.has_value(), "the rebuild parses");
  require(same_nlri(u.withdrawn, second->withdrawn), "withdrawn routes survive");
  require(same_nlri(u.nlri, second->nlri), "NLRI survive");
  if (framed) {
    require(second->end_of_rib == u.end_of_rib, "End-of-RIB survives");
    require(same_values(u.attributes, second->attributes), "attribute values survive");
    require(second->diagnostics().error_count == u.diagnostics().error_count &&
                second->reaction() == u.reaction(),
            "diagnostics survive");
  }

  // 2. Typed rebuild of a clean UPDATE: every value through its builder.
  if (!u.diagnostics().ok()) {
    return;
  }
  UpdateMessage typed = m;
  typed.attributes = typed_rebuild(u.attributes, ctx);
  wire::Writer tw;
  if (!typed.encode(tw, 65535)) {
    return;  // a builder may legitimately grow a value (e.g. AIGP with extra TLVs is smaller)
  }
  auto third = bgp::parse_update(tw.bytes(), ctx);
  require(third.has_value(), "the typed rebuild parses");
  require(third->diagnostics().ok(), "the typed rebuild is clean");
  require(same_values(u.attributes, third->attributes), "typed values survive");
  require(same_nlri(u.nlri, third->nlri) && same_nlri(u.withdrawn, third->withdrawn),
          "typed rebuild keeps the NLRI");
}

ParseContext context_from(std::uint8_t sel) {
  ParseContext ctx;
  ctx.four_octet_as = (sel & 0x01) != 0;
  ctx.set_add_path(bgp::kIpv4Unicast, (sel & 0x02) != 0);
  ctx.set_add_path(bgp::kIpv6Unicast, (sel & 0x04) != 0);
  ctx.ebgp = (sel & 0x08) != 0;
  ctx.ibgp = !ctx.ebgp && (sel & 0x10) != 0;
  ctx.set_add_path_all((sel & 0x20) != 0);
  return ctx;
}

std::vector<std::uint8_t> wrap(std::span<const std::uint8_t> body) {
  std::vector<std::uint8_t> m(19 + body.size());
  for (std::size_t i = 0; i < 16; ++i) {
    m[i] = 0xFF;
  }
  m[16] = static_cast<std::uint8_t>(m.size() >> 8);
  m[17] = static_cast<std::uint8_t>(m.size());
  m[18] = 2;
  for (std::size_t i = 0; i < body.size(); ++i) {
    m[19 + i] = body[i];
  }
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  if (input.empty() || input.size() > 65535) {
    return 0;
  }
  bool marker = input.size() >= 19;
  for (std::size_t i = 0; marker && i < 16; ++i) {
    marker = input[i] == 0xFF;
  }
  if (marker) {
    const std::vector<std::uint8_t> m = wrap(input.subspan(19));
    round_trip(m, context_from(0x01));
    round_trip(m, context_from(0x06));
    return 0;
  }
  if (input.size() - 1 > 65535 - 19) {
    return 0;
  }
  round_trip(wrap(input.subspan(1)), context_from(input[0]));
  return 0;
}
