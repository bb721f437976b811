// Fuzz target for codec/bgp/update.hpp: parse_update and parse_update_body under many
// ParseContexts, then walks everything the view exposes and checks its invariants.
//
// Input layout: a whole BGP message (starting with the 16-octet marker, as the bgp-message
// seeds do) is parsed as it is and, with its length field patched to its size, under eight
// contexts (2/4-octet AS x ADD-PATH off/on x eBGP/iBGP). Any other input is one selector octet
// (bit 0: 4-octet AS, bit 1: ADD-PATH IPv4 unicast, bit 2: ADD-PATH IPv6 unicast, bit 3: eBGP,
// bit 4: iBGP, bit 5: ADD-PATH on IPv4/IPv6 multicast, bit 6: ADD-PATH on every family) and an
// UPDATE body, parsed directly and wrapped in a header. Buffers are sized exactly so that any
// over-read trips ASan.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "codec/bgp/as_path.hpp"
#include "codec/bgp/attributes.hpp"
#include "codec/bgp/nlri.hpp"
#include "codec/bgp/text.hpp"
#include "codec/bgp/update.hpp"
#include "codec/wire/result.hpp"

namespace {

using bgpscribe::codec::Reaction;
using bgpscribe::codec::bgp::Afi;
using bgpscribe::codec::bgp::AsPathView;
using bgpscribe::codec::bgp::AttributeType;
using bgpscribe::codec::bgp::NlriBlock;
using bgpscribe::codec::bgp::ParseContext;
using bgpscribe::codec::bgp::PathAttributes;
using bgpscribe::codec::bgp::Update;
namespace bgp = bgpscribe::codec::bgp;
namespace wire = bgpscribe::codec::wire;

// Not assert(): fuzz builds define NDEBUG, and a broken invariant must crash there too.
void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "update_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

// Keeps values alive so the walk is not optimised away.
volatile std::uint64_t g_sink = 0;

bool inside(std::span<const std::uint8_t> part, std::span<const std::uint8_t> whole) {
  if (part.empty()) {
    return true;
  }
  const auto* b = whole.data();
  const auto* p = part.data();
  return p >= b && p + part.size() <= b + whole.size();
}

ParseContext context_from(std::uint8_t sel) {
  ParseContext ctx;
  ctx.four_octet_as = (sel & 0x01) != 0;
  ctx.set_add_path(bgp::kIpv4Unicast, (sel & 0x02) != 0);
  ctx.set_add_path(bgp::kIpv6Unicast, (sel & 0x04) != 0);
  ctx.ebgp = (sel & 0x08) != 0;
  ctx.ibgp = !ctx.ebgp && (sel & 0x10) != 0;
  if ((sel & 0x20) != 0) {
    ctx.set_add_path(bgp::kIpv4Multicast, true);
    ctx.set_add_path(bgp::kIpv6Multicast, true);
  }
  ctx.set_add_path_all((sel & 0x40) != 0);
  return ctx;
}

void walk_nlri(const NlriBlock& block, std::span<const std::uint8_t> message) {
  require(inside(block.bytes(), message), "NLRI bytes inside the message");
  std::size_t n = 0;
  for (const auto& e : block) {
    require(e.length <= bgp::max_prefix_length(e.afi), "prefix length within the family");
    require(e.afi == block.family().afi, "entry family is the block's");
    require(block.add_path() || e.path_id == 0, "no path id without ADD-PATH");
    const bgp::Prefix masked = e.prefix();
    const bgp::Prefix raw = e.raw_prefix();
    require(masked.length == raw.length, "masking keeps the length");
    require(e.host_bits_set() == !(masked == raw), "host bits iff masking changes the prefix");
    g_sink = g_sink + masked.address.bytes[0] + e.path_id;
    ++n;
    require(n <= block.bytes().size(), "no more entries than bytes");
  }
  require(n == block.count(), "iteration yields count() entries");
  require(block.decoded() || block.count() == 0, "raw families have no decoded entries");
}

void walk_as_path(const AsPathView& path) {
  std::size_t segments = 0;
  path.for_each_segment([&](const AsPathView::Segment& s) {
    for (std::size_t i = 0; i < s.count; ++i) {
      g_sink = g_sink + s.asn(i);
    }
    ++segments;
  });
  const bgp::AsPath owned = path.to_owned();
  require(owned.size() == segments, "to_owned() has every segment");
  g_sink = g_sink + path.path_length() + path.origin_as() + bgp::to_string(owned).size();
}

void walk_attributes(const PathAttributes& a, const ParseContext& ctx,
                     std::span<const std::uint8_t> message) {
  require(inside(a.block, message), "attribute block inside the message");
  require((a.present & ~a.seen).none(), "every present type was seen");
  require(a.diagnostics.ok() == (a.diagnostics.reaction == Reaction::None),
          "no errors iff no reaction");
  if (!a.diagnostics.ok()) {
    require(a.diagnostics.strongest.reaction == a.diagnostics.reaction,
            "strongest error carries the reaction");
    require(a.diagnostics.first.reaction <= a.diagnostics.reaction, "first is not stronger");
    g_sink = g_sink + a.diagnostics.first.offset + a.diagnostics.strongest.code;
    require(bgpscribe::codec::to_string(a.diagnostics.reaction) != nullptr, "reaction name");
  }
  bgp::RawAttributeIterator it(a.block, a.block_offset);
  bgp::RawAttribute raw;
  std::size_t count = 0;
  std::size_t framed = 0;
  while (it.next(raw)) {
    require(inside(raw.value, a.block), "attribute value inside the block");
    require(a.seen[raw.type], "every framed attribute was seen");
    framed += (raw.extended_length() ? 4 : 3) + raw.value.size();
    ++count;
  }
  require(framed <= a.block.size(), "framed attributes fit the block");
  require(a.unknown_count() <= count, "unknown attributes are framed attributes");
  // Encoding the raw copy gives the framed bytes back.
  const auto copy = bgp::AttributeBuilder::from_block(a.block);
  wire::Writer w;
  copy.encode(w);
  require(w.size() == framed && copy.encoded_size() == framed, "from_block re-encodes");
  for (std::size_t i = 0; i < framed; ++i) {
    require(w.bytes()[i] == a.block[i], "from_block bytes equal the block");
  }

  if (a.has(AttributeType::AsPath)) {
    require(a.as_path.as_size() == (ctx.four_octet_as ? 4 : 2), "AS_PATH width");
    walk_as_path(a.as_path);
  }
  if (a.has(AttributeType::As4Path)) {
    walk_as_path(a.as4_path);
    const bgp::AsPath merged = bgp::merge_as4_path(a.as_path, a.as4_path);
    g_sink = g_sink + merged.size();
  }
  if (a.has(AttributeType::Communities)) {
    require(a.communities.size() % 4 == 0 && !a.communities.empty(), "communities length");
    for (std::size_t i = 0; i < a.communities.size() / 4; ++i) {
      g_sink = g_sink + bgp::community_at(a.communities, i);
    }
  }
  if (a.has(AttributeType::ExtendedCommunities)) {
    require(a.extended_communities.size() % 8 == 0, "extended communities length");
  }
  if (a.has(AttributeType::LargeCommunities)) {
    require(a.large_communities.size() % 12 == 0, "large communities length");
  }
  if (a.has(AttributeType::ClusterList)) {
    require(a.cluster_list.size() % 4 == 0, "cluster list length");
  }
  if (a.has(AttributeType::Ipv6ExtendedCommunities)) {
    require(a.ipv6_extended_communities.size() % 20 == 0, "IPv6 extended communities length");
  }
  if (a.has(AttributeType::Origin)) {
    require(a.origin_raw <= 2, "ORIGIN value");
  }
  if (ctx.four_octet_as) {
    require(!a.has(AttributeType::As4Path) && !a.has(AttributeType::As4Aggregator),
            "AS4 attributes never kept on 4-octet sessions");
  }
  if (ctx.ebgp) {
    require(!a.has(AttributeType::LocalPref) && !a.has(AttributeType::OriginatorId) &&
                !a.has(AttributeType::ClusterList),
            "iBGP-only attributes never kept from eBGP");
  }
  g_sink = g_sink + a.next_hop + a.med + a.local_pref + a.aggregator.asn + a.originator_id +
           a.aigp + a.otc + a.as4_aggregator.address;
  if (a.has(AttributeType::MpReachNlri)) {
    const auto& nh = a.mp_reach.next_hop;
    require(inside(nh.raw, message), "next hop inside the message");
    if (bgp::is_plain_prefix_family(a.mp_reach.family)) {
      require(nh.valid, "a kept plain-family MP_REACH has a valid next hop");
    }
    g_sink = g_sink + nh.global.to_string().size() + nh.rd;
    if (nh.has_link_local) {
      g_sink = g_sink + nh.link_local.to_string().size();
    }
    require(a.mp_reach.nlri.family() == a.mp_reach.family, "MP_REACH NLRI family");
    walk_nlri(a.mp_reach.nlri, message);
  }
  if (a.has(AttributeType::MpUnreachNlri)) {
    require(a.mp_unreach.withdrawn.family() == a.mp_unreach.family, "MP_UNREACH NLRI family");
    walk_nlri(a.mp_unreach.withdrawn, message);
  }
}

void walk(const Update& u, const ParseContext& ctx, std::span<const std::uint8_t> message) {
  require(u.reaction() != Reaction::SessionReset, "a parsed UPDATE never needs a reset");
  require(u.withdrawn.family() == bgp::kIpv4Unicast && u.nlri.family() == bgp::kIpv4Unicast,
          "NLRI fields are IPv4 unicast");
  require(u.withdrawn.add_path() == ctx.add_path(bgp::kIpv4Unicast), "withdrawn ADD-PATH");
  walk_nlri(u.withdrawn, message);
  walk_nlri(u.nlri, message);
  walk_attributes(u.attributes, ctx, message);
  if (u.end_of_rib) {
    require(u.withdrawn.empty() && u.nlri.empty(), "End-of-RIB has no NLRI");
    require(!u.has_announcements(), "End-of-RIB announces nothing");
  }
  g_sink = g_sink + static_cast<std::uint16_t>(u.end_of_rib_family.afi);
}

bool same_block(const NlriBlock& a, const NlriBlock& b) {
  return a.family() == b.family() && a.add_path() == b.add_path() && a.count() == b.count() &&
         a.offset() == b.offset() && a.bytes().data() == b.bytes().data() &&
         a.bytes().size() == b.bytes().size();
}

// One view reused for every parse_update_into call of the process, as a session would.
Update& reused() {
  static Update u;
  return u;
}

void check(std::span<const std::uint8_t> message, const ParseContext& ctx) {
  auto u = bgp::parse_update(message, ctx);
  // The in-place form, into a view that still holds an earlier message, agrees with it.
  Update& into = reused();
  const auto st = bgp::parse_update_into(message, ctx, into);
  require(st.has_value() == u.has_value(), "parse_update_into agrees with parse_update");
  if (!u) {
    require(st.error().offset == u.error().offset && st.error().code == u.error().code &&
                st.error().subcode == u.error().subcode,
            "parse_update_into fails the same way");
    require(u.error().offset <= message.size(), "error offset inside the message");
    require(u.error().reaction == Reaction::SessionReset, "a failed parse resets");
    into = Update{};  // a failed parse may leave the view half-filled
    return;
  }
  require(same_block(into.withdrawn, u->withdrawn) && same_block(into.nlri, u->nlri),
          "reused view has the same NLRI");
  require(into.end_of_rib == u->end_of_rib && into.end_of_rib_family == u->end_of_rib_family,
          "reused view has the same End-of-RIB");
  require(into.attributes.present == u->attributes.present &&
              into.attributes.seen == u->attributes.seen &&
              into.diagnostics().error_count == u->diagnostics().error_count &&
              into.reaction() == u->reaction(),
          "reused view has the same attributes");
  walk(into, ctx, message);
  walk(*u, ctx, message);
  // The body parser agrees with the whole-message parser.
  auto body = bgp::parse_update_body(message.subspan(19), ctx, 19);
  require(body.has_value(), "body parses like the message");
  require(body->diagnostics().error_count == u->diagnostics().error_count, "same diagnostics");
}

// A message of exactly the right size: marker, length, type UPDATE, body.
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

bool starts_with_marker(std::span<const std::uint8_t> input) {
  if (input.size() < 19) {
    return false;
  }
  for (std::size_t i = 0; i < 16; ++i) {
    if (input[i] != 0xFF) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  if (input.empty()) {
    return 0;
  }
  if (starts_with_marker(input)) {
    check(input, context_from(0x01));
    if (input.size() > 65535) {
      return 0;
    }
    const std::vector<std::uint8_t> m = wrap(input.subspan(19));
    for (std::uint8_t sel : {0x00, 0x01, 0x02, 0x03, 0x08, 0x09, 0x16, 0x17}) {
      check(m, context_from(sel));
    }
    return 0;
  }
  const ParseContext ctx = context_from(input[0]);
  const auto body_in = input.subspan(1);
  const std::vector<std::uint8_t> body(body_in.begin(), body_in.end());
  auto direct = bgp::parse_update_body(body, ctx, 19);
  if (direct) {
    walk(*direct, ctx, body);
  }
  if (body.size() <= 65535 - 19) {
    check(wrap(body), ctx);
  }
  return 0;
}
