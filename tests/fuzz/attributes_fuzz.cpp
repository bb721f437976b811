// Fuzz target for codec/bgp/attributes.hpp: parse_attributes on any attribute block, in UPDATE
// mode under several ParseContexts and in MRT RIB mode (RFC 6396 4.3.4) with each RIB family.
//
// Input layout: a whole BGP UPDATE (starting with the 16-octet marker, as the bgp-message seeds
// do) has its attribute block cut out by the two length fields and parsed under every mode
// below. Any other input is one selector octet and the attribute block: bits 0-2 pick the mode
// (0: UPDATE; 1-7: MRT RIB entry of IPv4 unicast, IPv4 multicast, IPv6 unicast, IPv6
// multicast, VPNv4, EVPN, IPv4 flowspec), bit 3 a 4-octet AS, bit 4 eBGP, bit 5 iBGP, bit 6
// ADD-PATH on every family. Blocks are copied into exactly sized buffers so that over-reads
// trip ASan; parse_attributes never fails, so every input exercises the whole view.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "codec/bgp/as_path.hpp"
#include "codec/bgp/attributes.hpp"
#include "codec/bgp/text.hpp"
#include "codec/wire/reader.hpp"
#include "codec/wire/result.hpp"

namespace {

using bgpscribe::codec::Reaction;
using bgpscribe::codec::bgp::AfiSafi;
using bgpscribe::codec::bgp::AttributeOptions;
using bgpscribe::codec::bgp::AttributeType;
using bgpscribe::codec::bgp::ParseContext;
using bgpscribe::codec::bgp::PathAttributes;
namespace bgp = bgpscribe::codec::bgp;
namespace wire = bgpscribe::codec::wire;

void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "attributes_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

volatile std::uint64_t g_sink = 0;

constexpr std::array<AfiSafi, 8> kRibFamilies = {
    AfiSafi{},  // unused: UPDATE mode
    bgp::kIpv4Unicast,
    bgp::kIpv4Multicast,
    bgp::kIpv6Unicast,
    bgp::kIpv6Multicast,
    AfiSafi{bgp::Afi::Ipv4, bgp::Safi::MplsVpn},
    AfiSafi{bgp::Afi::L2vpn, bgp::Safi::Evpn},
    AfiSafi{bgp::Afi::Ipv4, bgp::Safi::FlowSpec},
};

bool inside(std::span<const std::uint8_t> part, std::span<const std::uint8_t> whole) {
  if (part.empty()) {
    return true;
  }
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

void walk_nlri(const bgp::NlriBlock& block, std::span<const std::uint8_t> whole) {
  require(inside(block.bytes(), whole), "NLRI inside the block");
  std::size_t n = 0;
  for (const auto& e : block) {
    require(e.length <= bgp::max_prefix_length(e.afi), "prefix length within the family");
    g_sink = g_sink + e.prefix().address.bytes[0] + e.raw_prefix().length + e.path_id;
    ++n;
  }
  require(n == block.count(), "iteration yields count() entries");
}

void walk_as_path(const bgp::AsPathView& path, std::uint8_t as_size) {
  require(path.as_size() == as_size, "AS_PATH width");
  std::size_t asns = 0;
  path.for_each_segment([&](const bgp::AsPathView::Segment& s) {
    require(s.count > 0, "validated segments are not empty");
    for (std::size_t i = 0; i < s.count; ++i) {
      require(s.asn(i) != 0, "validated paths have no AS 0");
      ++asns;
    }
  });
  require(path.path_length() <= asns, "path length counts at most every ASN");
  g_sink = g_sink + path.origin_as() + bgp::to_string(path.to_owned()).size();
}

void check(std::span<const std::uint8_t> block, const ParseContext& ctx,
           const AttributeOptions& options, std::uint32_t base) {
  const PathAttributes a = bgp::parse_attributes(wire::Reader(block, base), ctx, options);
  {
    // The in-place form, into a view reused across inputs, gives the same view.
    static PathAttributes reused;
    bgp::parse_attributes_into(wire::Reader(block, base), ctx, options, reused);
    require(reused.present == a.present && reused.seen == a.seen &&
                reused.diagnostics.error_count == a.diagnostics.error_count &&
                reused.diagnostics.reaction == a.diagnostics.reaction &&
                reused.mp_reach.nlri.count() == a.mp_reach.nlri.count() &&
                reused.mp_unreach.withdrawn.count() == a.mp_unreach.withdrawn.count() &&
                reused.as_path.bytes().size() == a.as_path.bytes().size(),
            "parse_attributes_into agrees with parse_attributes");
  }
  require(a.block.data() == block.data() && a.block.size() == block.size(), "block is the input");
  require(a.block_offset == base, "block offset is the reader's");
  require((a.present & ~a.seen).none(), "every present type was seen");
  const auto& d = a.diagnostics;
  require(d.ok() == (d.reaction == Reaction::None), "no errors iff no reaction");
  if (!d.ok()) {
    require(d.strongest.reaction == d.reaction, "strongest error carries the reaction");
    require(d.first.offset >= base && d.first.offset <= base + block.size(), "first offset");
    require(d.strongest.offset >= base && d.strongest.offset <= base + block.size(),
            "strongest offset");
    require(d.first.code == 3, "attribute errors are UPDATE errors");
  }
  const std::uint8_t as_size = ctx.four_octet_as ? 4 : 2;
  if (a.has(AttributeType::AsPath)) {
    walk_as_path(a.as_path, as_size);
  }
  if (a.has(AttributeType::As4Path)) {
    walk_as_path(a.as4_path, 4);
    g_sink = g_sink + bgp::merge_as4_path(a.as_path, a.as4_path).size();
  }
  if (a.has(AttributeType::Communities)) {
    for (std::size_t i = 0; i < a.communities.size() / 4; ++i) {
      g_sink = g_sink + bgp::community_at(a.communities, i);
    }
  }
  for (auto list : {a.communities, a.extended_communities, a.large_communities, a.cluster_list,
                    a.ipv6_extended_communities}) {
    require(inside(list, block), "value lists inside the block");
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
  if (a.has(AttributeType::MpReachNlri)) {
    const auto& mp = a.mp_reach;
    require(inside(mp.next_hop.raw, block), "next hop inside the block");
    if (mp.abbreviated) {
      require(options.mrt_rib, "abbreviated MP_REACH only in MRT RIB mode");
      require(mp.family == options.rib_family, "abbreviated MP_REACH has the RIB family");
      require(mp.nlri.empty(), "abbreviated MP_REACH has no NLRI");
    } else if (bgp::is_plain_prefix_family(mp.family)) {
      require(mp.next_hop.valid, "a kept plain-family MP_REACH has a valid next hop");
    }
    g_sink = g_sink + mp.next_hop.global.to_string().size() + mp.next_hop.rd;
    walk_nlri(mp.nlri, block);
  }
  if (a.has(AttributeType::MpUnreachNlri)) {
    walk_nlri(a.mp_unreach.withdrawn, block);
  }
  g_sink = g_sink + a.unknown_count() + a.next_hop + a.med + a.local_pref + a.aggregator.asn +
           a.as4_aggregator.asn + a.originator_id + a.aigp + a.otc + a.origin_raw;

  // The raw copy re-encodes the framed attributes unchanged.
  const auto copy = bgp::AttributeBuilder::from_block(a.block);
  wire::Writer w;
  copy.encode(w);
  require(w.size() <= block.size() && w.size() == copy.encoded_size(), "re-encoded size");
  for (std::size_t i = 0; i < w.size(); ++i) {
    require(w.bytes()[i] == block[i], "re-encoded bytes are the block's");
  }
  if (d.ok()) {
    require(w.size() == block.size(), "a clean block re-encodes whole");
    const PathAttributes again = bgp::parse_attributes(wire::Reader(w.bytes(), base), ctx, options);
    require(again.diagnostics.ok() && again.present == a.present, "the copy parses the same");
  }
}

ParseContext context_from(std::uint8_t sel) {
  ParseContext ctx;
  ctx.four_octet_as = (sel & 0x08) != 0;
  ctx.ebgp = (sel & 0x10) != 0;
  ctx.ibgp = !ctx.ebgp && (sel & 0x20) != 0;
  ctx.set_add_path_all((sel & 0x40) != 0);
  return ctx;
}

AttributeOptions options_from(std::uint8_t sel) {
  AttributeOptions o;
  const std::size_t mode = sel & 0x07;
  o.mrt_rib = mode != 0;
  o.rib_family = kRibFamilies[mode];
  return o;
}

void run(std::span<const std::uint8_t> block_in, std::uint8_t sel, std::uint32_t base) {
  const std::vector<std::uint8_t> block(block_in.begin(), block_in.end());
  check(block, context_from(sel), options_from(sel), base);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  if (input.empty()) {
    return 0;
  }
  bool marker = input.size() >= 23;
  for (std::size_t i = 0; marker && i < 16; ++i) {
    marker = input[i] == 0xFF;
  }
  if (marker) {
    // The attribute block of an UPDATE, bounded by its length fields and by the input.
    wire::Reader r(input.subspan(19), 19);
    auto wlen = r.u16();
    if (!wlen || !r.skip(*wlen)) {
      return 0;
    }
    const std::uint32_t base = r.offset() + 2;
    auto alen = r.u16();
    if (!alen) {
      return 0;
    }
    const auto block = r.rest().first(std::min<std::size_t>(*alen, r.remaining()));
    for (std::uint8_t sel = 0; sel < 8; ++sel) {
      run(block, static_cast<std::uint8_t>(sel | 0x08), base);
    }
    run(block, 0x00, base);
    run(block, 0x18, base);
    run(block, 0x28, base);
    return 0;
  }
  run(input.subspan(1), input[0], 0);
  return 0;
}
