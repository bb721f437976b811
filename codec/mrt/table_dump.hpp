// TABLE_DUMP (RFC 6396 section 4.2) and TABLE_DUMP_V2 (section 4.3, RFC 8050 section 4) bodies.
//
// Views keep the attribute blocks and NLRI as spans into the record; they are valid as long as
// the record bytes are. PeerIndexTable is the one owning type, because RIB records that follow
// refer to it long after its own record bytes are gone. No I/O, no exceptions; the BGP attributes
// are not decoded here (parse_context_for and mp_reach_abbreviated say how to decode them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "codec/bgp/afi_safi.hpp"
#include "codec/bgp/attributes.hpp"
#include "codec/bgp/ip.hpp"
#include "codec/bgp/parse_context.hpp"
#include "codec/mrt/record.hpp"

namespace bgpscribe::codec::mrt {

// --- TABLE_DUMP (type 12) ---------------------------------------------------------------------

// One (prefix, peer) entry of a legacy RIB dump. Subtypes 3/4 (bgpdump's AS4 variants) carry a
// 4-octet Peer AS and 4-octet AS_PATHs.
struct TableDumpEntry {
  TableDumpSubtype subtype = TableDumpSubtype::AfiIpv4;
  std::uint16_t view_number = 0;
  std::uint16_t sequence_number = 0;
  bgp::IpAddress prefix;  // as on the wire (host bits are not masked, so it re-encodes)
  std::uint8_t prefix_length = 0;
  std::uint8_t status = 1;
  std::uint32_t originated_time = 0;
  bgp::IpAddress peer_ip;
  std::uint32_t peer_as = 0;
  Bytes attributes;

  [[nodiscard]] bool as4() const {
    return subtype == TableDumpSubtype::AfiIpv4As4 || subtype == TableDumpSubtype::AfiIpv6As4;
  }
  friend bool operator==(const TableDumpEntry& a, const TableDumpEntry& b);
};

// RFC 6396 section 4.2: a record of exactly one entry.
Result<TableDumpEntry> parse_table_dump(const Record& record);
// RFC 6396 section 4.2 has one entry per record, but some writers put several in one record
// (bgpdump reads the first and ignores the rest). Parses the entry at `pos` (an offset into
// record.body) and moves `pos` past it; errors leave `pos` unchanged.
Result<TableDumpEntry> parse_table_dump_entry(const Record& record, std::size_t& pos);
Status encode(const TableDumpEntry& entry, std::uint32_t timestamp, wire::Writer& w);

// --- TABLE_DUMP_V2 PEER_INDEX_TABLE -------------------------------------------------------------

struct Peer {
  static constexpr std::uint8_t kIpv6 = 0x01;  // Peer IP is 16 octets
  static constexpr std::uint8_t kAs4 = 0x02;   // Peer AS is 4 octets

  std::uint8_t peer_type = 0;  // raw flags, kept so that a table re-encodes unchanged
  std::uint32_t bgp_id = 0;
  bgp::IpAddress ip;
  std::uint32_t as = 0;

  // Flags set from the values: IPv6 from the address, AS4 when the AS needs it.
  static Peer make(std::uint32_t bgp_id, const bgp::IpAddress& ip, std::uint32_t as);
  [[nodiscard]] bool is_ipv6() const { return (peer_type & kIpv6) != 0; }
  [[nodiscard]] bool is_as4() const { return (peer_type & kAs4) != 0; }
  friend bool operator==(const Peer&, const Peer&) = default;
};

// Owning: RIB records refer to peers by index long after this record's bytes are reused.
struct PeerIndexTable {
  std::uint32_t collector_bgp_id = 0;
  std::string view_name;
  std::vector<Peer> peers;
  friend bool operator==(const PeerIndexTable&, const PeerIndexTable&) = default;
};

// RFC 6396 section 4.3.1.
Result<PeerIndexTable> parse_peer_index_table(const Record& record);
Status encode(const PeerIndexTable& table, std::uint32_t timestamp, wire::Writer& w);

// --- TABLE_DUMP_V2 RIB records ------------------------------------------------------------------

struct RibEntry {
  std::uint16_t peer_index = 0;
  std::uint32_t originated_time = 0;
  std::uint32_t path_id = 0;  // *_ADDPATH subtypes only (RFC 8050 section 4), else 0
  Bytes attributes;           // BGP path attributes: 4-octet AS_PATH, abbreviated MP_REACH
  friend bool operator==(const RibEntry& a, const RibEntry& b);
};

// Iterates the RIB entries that parse_rib validated; never fails, never allocates.
class RibEntryIterator {
 public:
  using iterator_category = std::forward_iterator_tag;
  using value_type = RibEntry;
  using difference_type = std::ptrdiff_t;
  using pointer = const RibEntry*;
  using reference = const RibEntry&;

  RibEntryIterator() = default;
  RibEntryIterator(Bytes entries, bool add_path, std::size_t pos);
  const RibEntry& operator*() const { return current_; }
  const RibEntry* operator->() const { return &current_; }
  RibEntryIterator& operator++();
  RibEntryIterator operator++(int) {
    RibEntryIterator copy = *this;
    ++*this;
    return copy;
  }
  friend bool operator==(const RibEntryIterator& a, const RibEntryIterator& b) {
    return a.pos_ == b.pos_;
  }

 private:
  void load();
  Bytes entries_;
  bool add_path_ = false;
  std::size_t pos_ = 0;
  std::size_t next_ = 0;
  RibEntry current_;
};

// RIB_IPV4_UNICAST ... RIB_GENERIC_ADDPATH: one prefix and the routes every peer has for it.
struct Rib {
  TableDumpV2Subtype subtype = TableDumpV2Subtype::RibIpv4Unicast;
  std::uint32_t sequence_number = 0;
  bgp::AfiSafi family;  // implied by the subtype, or the AFI/SAFI of RIB_GENERIC
  // The prefix as NLRI: length octet (bits) then its octets; for RIB_GENERIC one NLRI in the
  // family's own encoding (RFC 6396 section 4.3.3).
  Bytes nlri;
  std::uint16_t entry_count = 0;
  Bytes entries;  // entry_count encoded RIB entries (see encode_rib_entries)
  // The entries carry path identifiers although the subtype is not an _ADDPATH one (see
  // parse_rib_with_path_ids).
  bool path_ids_inferred = false;

  [[nodiscard]] bool add_path() const { return is_add_path(subtype) || path_ids_inferred; }
  // The prefix, for plain IPv4/IPv6 unicast/multicast NLRI; nullopt for other families.
  [[nodiscard]] std::optional<bgp::Prefix> prefix() const;
  [[nodiscard]] RibEntryIterator begin() const { return {entries, add_path(), 0}; }
  [[nodiscard]] RibEntryIterator end() const { return {entries, add_path(), entries.size()}; }
  friend bool operator==(const Rib& a, const Rib& b);
};

// RFC 6396 sections 4.3.2-4.3.4, RFC 8050 section 4: checks every entry once.
Result<Rib> parse_rib(const Record& record);
// The same, reading RFC 8050 path identifiers in every entry whatever the subtype says: for
// writers that put ADD-PATH entries under the plain subtypes (see check.hpp).
Result<Rib> parse_rib_with_path_ids(const Record& record);
// RFC 6396 section 4.3.2-4.3.3: writes rib.nlri and rib.entries as they are.
Status encode(const Rib& rib, std::uint32_t timestamp, wire::Writer& w);
// RFC 6396 section 4.3.4 / RFC 8050 section 4: the entry block of a Rib, built from values.
Status encode_rib_entries(std::span<const RibEntry> entries, bool add_path, wire::Writer& w);
// RFC 4271 section 4.3: a prefix as length octet plus ceil(length / 8) octets.
void encode_prefix_nlri(const bgp::Prefix& prefix, wire::Writer& w);
// Builds a whole RIB_IPV4/IPV6_UNICAST/MULTICAST(_ADDPATH) record from values; the family must
// agree with the subtype.
Status encode_rib(TableDumpV2Subtype subtype, std::uint32_t sequence_number,
                  const bgp::Prefix& prefix, std::span<const RibEntry> entries,
                  std::uint32_t timestamp, wire::Writer& w);

// The TABLE_DUMP_V2 form of an UPDATE's attributes (RFC 6396 section 4.3.4): MP_UNREACH_NLRI
// dropped, MP_REACH_NLRI reduced to next-hop length and next hop, AS_PATH and AGGREGATOR
// widened to 4-octet ASNs on 2-octet sessions (AS4_PATH stays as received). Appends to `out`.
// The canonical form of an attribute set for RIB dumps, the collector's Adj-RIB-In and the
// SQL archive's attribute ids.
void rib_entry_attributes(const bgp::PathAttributes& attributes, const bgp::ParseContext& context,
                          std::vector<std::uint8_t>& out);

// The family a non-generic RIB subtype implies (RFC 6396 section 4.3.2).
bgp::AfiSafi family_of(TableDumpV2Subtype subtype);

}  // namespace bgpscribe::codec::mrt
