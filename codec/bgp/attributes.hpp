// Path attributes (RFC 4271 4.3 and 5, RFC 4760, RFC 6793, RFC 7606 and the attribute RFCs
// listed in PROTOCOLS.md 3.2): decoded once into a view of typed values, with every RFC 7606
// error classified.
//
// PathAttributes never owns bytes: variable-length values are spans into the message, and
// unknown attributes are found again by iterating the raw block. Parsing never fails as a
// whole; each malformed attribute is recorded in Diagnostics with its NOTIFICATION code,
// subcode, reaction and offset, and is left out of the typed view when its reaction says so.
// AttributeBuilder is the separate owning side that encodes attributes.
#pragma once

#include <array>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "codec/bgp/afi_safi.hpp"
#include "codec/bgp/as_path.hpp"
#include "codec/bgp/attribute_types.hpp"
#include "codec/bgp/ip.hpp"
#include "codec/bgp/nlri.hpp"
#include "codec/bgp/parse_context.hpp"
#include "codec/wire/reader.hpp"
#include "codec/wire/writer.hpp"

namespace bgpscribe::codec::bgp {

// One attribute TLV as found in the block (RFC 4271 4.3).
struct RawAttribute {
  std::uint8_t flags = 0;
  std::uint8_t type = 0;
  std::span<const std::uint8_t> value{};
  std::uint32_t offset = 0;  // offset of the flags octet
  [[nodiscard]] bool optional() const { return (flags & attr_flag::kOptional) != 0; }
  [[nodiscard]] bool transitive() const { return (flags & attr_flag::kTransitive) != 0; }
  [[nodiscard]] bool partial() const { return (flags & attr_flag::kPartial) != 0; }
  [[nodiscard]] bool extended_length() const { return (flags & attr_flag::kExtendedLength) != 0; }
};

// Iterates attribute TLVs of a block whose framing was validated (stops at the first TLV that
// does not fit, so it is safe on any bytes).
class RawAttributeIterator {
 public:
  RawAttributeIterator(std::span<const std::uint8_t> block, std::uint32_t base_offset)
      : block_(block), base_(base_offset) {}
  // Fills `out` with the next TLV; false at the end or at a TLV that does not fit.
  bool next(RawAttribute& out);

 private:
  std::span<const std::uint8_t> block_;
  std::uint32_t base_;
  std::size_t pos_ = 0;
};

struct Aggregator {
  std::uint32_t asn = 0;
  std::uint32_t address = 0;  // IPv4, host order
};

// MP_REACH_NLRI next hop in every form of RFC 4760 / RFC 8950 / RFC 4364 / RFC 4659.
struct MpNextHop {
  std::span<const std::uint8_t> raw{};  // the next-hop field as received
  bool valid = false;                   // length matched a known form
  IpAddress global{};
  bool has_link_local = false;
  IpAddress link_local{};
  bool has_rd = false;  // VPN forms carry a route distinguisher (normally zero)
  std::uint64_t rd = 0;
};

// RFC 4760 3 (and the RFC 6396 4.3.4 abbreviated form inside TABLE_DUMP_V2 entries).
struct MpReach {
  AfiSafi family{};
  MpNextHop next_hop{};
  NlriBlock nlri{};
  bool abbreviated = false;  // MRT RIB form: next hop only, family from the RIB record
};

// RFC 4760 4.
struct MpUnreach {
  AfiSafi family{};
  NlriBlock withdrawn{};
};

// Every problem met while decoding one attribute block.
struct Diagnostics {
  Reaction reaction = Reaction::None;  // the strongest of all errors
  std::uint16_t error_count = 0;
  Error first{};      // the first error recorded
  Error strongest{};  // an error with the strongest reaction (for the NOTIFICATION)

  void add(const Error& e);
  [[nodiscard]] bool ok() const { return error_count == 0; }
};

// Where an attribute block comes from: decides ASN width defaults and the MP_REACH form.
struct AttributeOptions {
  // TABLE_DUMP_V2 RIB entry (RFC 6396 4.3.4): MP_REACH may be abbreviated, and its family is
  // the RIB record's.
  bool mrt_rib = false;
  AfiSafi rib_family{};
};

// The decoded view of one attribute block.
struct PathAttributes {
  std::span<const std::uint8_t> block{};  // all attribute bytes, for raw iteration
  std::uint32_t block_offset = 0;
  std::bitset<256> present;  // types decoded into this view (first occurrence, not discarded)
  std::bitset<256> seen;     // every type met in the block, valid or not

  Origin origin = Origin::Incomplete;
  std::uint8_t origin_raw = 0;
  AsPathView as_path{};
  AsPathView as4_path{};
  std::uint32_t next_hop = 0;         // IPv4, host order
  std::uint32_t next_hop_offset = 0;  // of the NEXT_HOP attribute's header, for errors
  std::uint32_t med = 0;
  std::uint32_t local_pref = 0;
  Aggregator aggregator{};
  Aggregator as4_aggregator{};
  std::span<const std::uint8_t> communities{};                // n * 4
  std::span<const std::uint8_t> extended_communities{};       // n * 8
  std::span<const std::uint8_t> ipv6_extended_communities{};  // n * 20
  std::span<const std::uint8_t> large_communities{};          // n * 12
  std::uint32_t originator_id = 0;
  std::span<const std::uint8_t> cluster_list{};  // n * 4
  std::uint64_t aigp = 0;
  std::uint32_t otc = 0;
  MpReach mp_reach{};
  MpUnreach mp_unreach{};
  Diagnostics diagnostics{};

  [[nodiscard]] bool has(AttributeType t) const { return present[static_cast<std::uint8_t>(t)]; }
  // Number of attributes whose type the codec does not decode (kept raw).
  [[nodiscard]] std::size_t unknown_count() const;
};

bool is_known_attribute(std::uint8_t type);
// Whether the decoded views (`dump --json`, the Protobuf events) spell out attributes of `type`
// in fields of their own; the others they show raw, as "other attributes".
bool has_decoded_view(std::uint8_t type);

// RFC 6793 4.2.3, the values a 2-octet session's UPDATE really carries: AS_PATH merged with
// AS4_PATH, and AS4_AGGREGATOR in place of an AS_TRANS aggregator (nullopt without
// AGGREGATOR). On a 4-octet session (`four_octet_as`), AS_PATH and AGGREGATOR as they are.
AsPath effective_as_path(const PathAttributes& a, bool four_octet_as);
std::optional<Aggregator> effective_aggregator(const PathAttributes& a, bool four_octet_as);

// Decodes an attribute block (RFC 4271 4.3; RFC 7606 3-7 for the reactions). `r` covers
// exactly the block and is consumed. Never fails: see Diagnostics.
PathAttributes parse_attributes(wire::Reader r, const ParseContext& ctx,
                                const AttributeOptions& options = {});
// The same, decoding into `out` (reset first): the hot-path form that avoids copying the view.
void parse_attributes_into(wire::Reader r, const ParseContext& ctx, const AttributeOptions& options,
                           PathAttributes& out);

// Decodes an MP_REACH next-hop field for a family (RFC 4760 3, RFC 8950 3, RFC 4364/4659).
MpNextHop decode_next_hop(AfiSafi family, std::span<const std::uint8_t> raw);

// Community helpers: value i of a validated list.
inline std::uint32_t community_at(std::span<const std::uint8_t> list, std::size_t i) {
  return wire::load_u32(list, i * 4);
}

// Owning attribute list that encodes in order (RFC 4271 4.3). Values are typed on the way in;
// the list keeps each attribute's flags so raw attributes re-encode unchanged.
class AttributeBuilder {
 public:
  struct Item {
    std::uint8_t flags = 0;
    std::uint8_t type = 0;
    std::vector<std::uint8_t> value;
    friend bool operator==(const Item&, const Item&) = default;
  };

  AttributeBuilder& origin(Origin o);
  AttributeBuilder& as_path(const AsPath& path, std::uint8_t as_size = 4);
  AttributeBuilder& as4_path(const AsPath& path);
  AttributeBuilder& next_hop(std::uint32_t ipv4_host_order);
  AttributeBuilder& med(std::uint32_t v);
  AttributeBuilder& local_pref(std::uint32_t v);
  AttributeBuilder& atomic_aggregate();
  AttributeBuilder& aggregator(const Aggregator& a, std::uint8_t as_size = 4);
  AttributeBuilder& as4_aggregator(const Aggregator& a);
  AttributeBuilder& communities(std::span<const std::uint32_t> values);
  AttributeBuilder& extended_communities(std::span<const std::uint64_t> values);
  AttributeBuilder& large_communities(std::span<const std::array<std::uint32_t, 3>> values);
  AttributeBuilder& originator_id(std::uint32_t id);
  AttributeBuilder& cluster_list(std::span<const std::uint32_t> ids);
  AttributeBuilder& aigp(std::uint64_t metric);
  AttributeBuilder& otc(std::uint32_t asn);
  // RFC 4760 3: full MP_REACH with NLRI; next hops of 4, 16 or 32 (global + link-local) bytes.
  AttributeBuilder& mp_reach(AfiSafi family, std::span<const std::uint8_t> next_hop,
                             std::span<const Prefix> prefixes,
                             std::span<const std::uint32_t> path_ids = {});
  // RFC 6396 4.3.4: abbreviated MP_REACH for TABLE_DUMP_V2 entries.
  AttributeBuilder& mp_reach_abbreviated(std::span<const std::uint8_t> next_hop);
  AttributeBuilder& mp_unreach(AfiSafi family, std::span<const Prefix> prefixes,
                               std::span<const std::uint32_t> path_ids = {});
  // Any attribute as raw flags/type/value (unknown ones, or exact copies).
  AttributeBuilder& raw(std::uint8_t flags, std::uint8_t type, std::span<const std::uint8_t> value);

  // Copies every attribute of a parsed block unchanged (flags included).
  static AttributeBuilder from_block(std::span<const std::uint8_t> block);

  [[nodiscard]] const std::vector<Item>& items() const { return items_; }
  // Bytes the encoded block will take.
  [[nodiscard]] std::size_t encoded_size() const;
  // Writes every attribute; the extended-length flag is set where the value needs it (and
  // kept where the original had it).
  void encode(wire::Writer& w) const;

 private:
  AttributeBuilder& add(std::uint8_t flags, AttributeType type, std::vector<std::uint8_t> value);
  std::vector<Item> items_;
};

}  // namespace bgpscribe::codec::bgp
