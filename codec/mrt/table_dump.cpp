#include "codec/mrt/table_dump.hpp"

#include "codec/bgp/as_path.hpp"
#include "codec/bgp/attribute_types.hpp"
#include "codec/mrt/detail.hpp"

namespace bgpscribe::codec::mrt {
namespace {

void put_attribute_header(std::vector<std::uint8_t>& out, std::uint8_t flags, std::uint8_t type,
                          std::size_t length) {
  if (length > 255) {
    flags |= bgp::attr_flag::kExtendedLength;
  } else {
    flags &= static_cast<std::uint8_t>(~bgp::attr_flag::kExtendedLength);
  }
  out.push_back(flags);
  out.push_back(type);
  if (length > 255) {
    out.push_back(static_cast<std::uint8_t>(length >> 8));
  }
  out.push_back(static_cast<std::uint8_t>(length));
}

void put_u32_be(std::vector<std::uint8_t>& out, std::uint32_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 24));
  out.push_back(static_cast<std::uint8_t>(v >> 16));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

bool is_ipv6_table_dump(TableDumpSubtype s) {
  return s == TableDumpSubtype::AfiIpv6 || s == TableDumpSubtype::AfiIpv6As4;
}

// RFC 4271 section 4.3 prefix: ceil(bits / 8) octets after the length octet.
std::size_t prefix_octets(std::uint8_t bits) {
  return (std::size_t{bits} + 7) / 8;
}

// Size of the one NLRI of a RIB_GENERIC record, length octet(s) included (RFC 6396 section
// 4.3.3 says "in the format of the AFI/SAFI"): EVPN is type + length octets (RFC 7432 section
// 7), flow spec has a 1- or 2-octet length (RFC 8955 section 4), everything else a bit length.
Result<std::size_t> generic_nlri_size(bgp::AfiSafi family, const wire::Reader& r) {
  if (r.remaining() < 1) {
    return r.truncated("RIB_GENERIC NLRI missing");
  }
  if (family.safi == bgp::Safi::Evpn) {
    if (r.remaining() < 2) {
      return r.truncated("RIB_GENERIC EVPN NLRI truncated");
    }
    return 2 + std::size_t{r.peek_u8(1)};
  }
  if (family.safi == bgp::Safi::FlowSpec || family.safi == bgp::Safi::FlowSpecVpn) {
    const std::uint8_t first = r.peek_u8();
    if (first >= 0xF0) {
      if (r.remaining() < 2) {
        return r.truncated("RIB_GENERIC flow spec NLRI truncated");
      }
      return 2 + ((std::size_t{first} & 0x0F) << 8 | r.peek_u8(1));
    }
    return 1 + std::size_t{first};
  }
  return 1 + prefix_octets(r.peek_u8());
}

Result<Rib> parse_rib_entries(const Record& record, bool path_ids);

}  // namespace

// --- TABLE_DUMP ---------------------------------------------------------------------------------

bool operator==(const TableDumpEntry& a, const TableDumpEntry& b) {
  return a.subtype == b.subtype && a.view_number == b.view_number &&
         a.sequence_number == b.sequence_number && a.prefix == b.prefix &&
         a.prefix_length == b.prefix_length && a.status == b.status &&
         a.originated_time == b.originated_time && a.peer_ip == b.peer_ip &&
         a.peer_as == b.peer_as && bytes_equal(a.attributes, b.attributes);
}

// RFC 6396 section 4.2.
Result<TableDumpEntry> parse_table_dump(const Record& record) {
  std::size_t pos = 0;
  auto e = parse_table_dump_entry(record, pos);
  if (!e) {
    return e;
  }
  if (pos != record.body.size()) {
    return fail(ErrorKind::BadLength, static_cast<std::uint32_t>(record.body_offset() + pos),
                "bytes after the TABLE_DUMP attributes");
  }
  return e;
}

// RFC 6396 section 4.2: View(2) Sequence(2) Prefix(4|16) Length(1) Status(1) Originated(4)
// Peer IP(4|16) Peer AS(2|4) Attribute Length(2) Attributes.
Result<TableDumpEntry> parse_table_dump_entry(const Record& record, std::size_t& pos) {
  TableDumpEntry e;
  e.subtype = static_cast<TableDumpSubtype>(record.header.subtype);
  if (record.header.type != Type::TableDump || record.header.subtype < 1 ||
      record.header.subtype > 4) {
    return fail(ErrorKind::Unsupported, 6, "not a TABLE_DUMP record of a known AFI");
  }
  const bgp::Afi afi = is_ipv6_table_dump(e.subtype) ? bgp::Afi::Ipv6 : bgp::Afi::Ipv4;
  if (pos > record.body.size()) {
    return fail(ErrorKind::Truncated, static_cast<std::uint32_t>(record.bytes.size()),
                "TABLE_DUMP entry past the record");
  }
  wire::Reader r(record.body.subspan(pos), static_cast<std::uint32_t>(record.body_offset() + pos));
  auto view = r.u16();
  if (!view) {
    return fail(view.error());
  }
  e.view_number = *view;
  auto seq = r.u16();
  if (!seq) {
    return fail(seq.error());
  }
  e.sequence_number = *seq;
  auto prefix = detail::read_ip(r, afi);
  if (!prefix) {
    return fail(prefix.error());
  }
  e.prefix = *prefix;
  const std::uint32_t length_at = r.offset();
  auto len = r.u8();
  if (!len) {
    return fail(len.error());
  }
  if (*len > (afi == bgp::Afi::Ipv4 ? 32 : 128)) {
    return fail(ErrorKind::BadValue, length_at, "TABLE_DUMP prefix length too long");
  }
  e.prefix_length = *len;
  auto status = r.u8();
  if (!status) {
    return fail(status.error());
  }
  e.status = *status;
  auto originated = r.u32();
  if (!originated) {
    return fail(originated.error());
  }
  e.originated_time = *originated;
  auto peer_ip = detail::read_ip(r, afi);
  if (!peer_ip) {
    return fail(peer_ip.error());
  }
  e.peer_ip = *peer_ip;
  auto peer_as = detail::read_as(r, e.as4());
  if (!peer_as) {
    return fail(peer_as.error());
  }
  e.peer_as = *peer_as;
  auto attr_len = r.u16();
  if (!attr_len) {
    return fail(attr_len.error());
  }
  auto attrs = r.bytes(*attr_len);
  if (!attrs) {
    return fail(ErrorKind::BadLength, attrs.error().offset - 2,
                "TABLE_DUMP attribute length exceeds the record");
  }
  e.attributes = *attrs;
  pos = record.body.size() - r.remaining();
  return e;
}

// RFC 6396 section 4.2.
Status encode(const TableDumpEntry& e, std::uint32_t timestamp, wire::Writer& w) {
  const bgp::Afi afi = is_ipv6_table_dump(e.subtype) ? bgp::Afi::Ipv6 : bgp::Afi::Ipv4;
  if (e.prefix.family != afi || e.peer_ip.family != afi) {
    return fail(ErrorKind::BadValue, 0, "TABLE_DUMP address family disagrees with subtype");
  }
  if (!e.as4() && e.peer_as > 0xFFFF) {
    return fail(ErrorKind::BadValue, 0, "TABLE_DUMP peer AS needs the AS4 subtype");
  }
  if (e.attributes.size() > 0xFFFF) {
    return fail(ErrorKind::TooLarge, 0, "TABLE_DUMP attributes longer than 65535");
  }
  const std::size_t start =
      begin_record(Type::TableDump, static_cast<std::uint16_t>(e.subtype), {timestamp}, w);
  w.u16(e.view_number);
  w.u16(e.sequence_number);
  detail::write_ip(e.prefix, w);
  w.u8(e.prefix_length);
  w.u8(e.status);
  w.u32(e.originated_time);
  detail::write_ip(e.peer_ip, w);
  if (e.as4()) {
    w.u32(e.peer_as);
  } else {
    w.u16(static_cast<std::uint16_t>(e.peer_as));
  }
  w.u16(static_cast<std::uint16_t>(e.attributes.size()));
  w.bytes(e.attributes);
  return finish_record(start, w);
}

// --- PEER_INDEX_TABLE ---------------------------------------------------------------------------

Peer Peer::make(std::uint32_t bgp_id, const bgp::IpAddress& ip, std::uint32_t as) {
  Peer p;
  p.bgp_id = bgp_id;
  p.ip = ip;
  p.as = as;
  p.peer_type = static_cast<std::uint8_t>((ip.is_v4() ? 0 : kIpv6) | (as > 0xFFFF ? kAs4 : 0));
  return p;
}

// RFC 6396 section 4.3.1: Collector BGP ID(4) View Name Length(2) View Name Peer Count(2), then
// per peer: Peer Type(1) Peer BGP ID(4) Peer IP(4|16) Peer AS(2|4).
Result<PeerIndexTable> parse_peer_index_table(const Record& record) {
  if (record.header.type != Type::TableDumpV2 ||
      record.header.subtype != static_cast<std::uint16_t>(TableDumpV2Subtype::PeerIndexTable)) {
    return fail(ErrorKind::Unsupported, 4, "not a PEER_INDEX_TABLE record");
  }
  wire::Reader r(record.body, record.body_offset());
  PeerIndexTable t;
  auto id = r.u32();
  if (!id) {
    return fail(id.error());
  }
  t.collector_bgp_id = *id;
  auto name_len = r.u16();
  if (!name_len) {
    return fail(name_len.error());
  }
  auto name = r.bytes(*name_len);
  if (!name) {
    return fail(ErrorKind::BadLength, name.error().offset - 2,
                "PEER_INDEX_TABLE view name length exceeds the record");
  }
  t.view_name.assign(name->begin(), name->end());
  auto count = r.u16();
  if (!count) {
    return fail(count.error());
  }
  // Each peer takes at least 11 octets; refuse counts the record cannot hold before reserving.
  if (std::size_t{*count} * 11 > r.remaining()) {
    return fail(ErrorKind::BadLength, r.offset() - 2,
                "PEER_INDEX_TABLE peer count exceeds the record");
  }
  t.peers.reserve(*count);
  for (std::uint16_t i = 0; i < *count; ++i) {
    Peer p;
    auto type = r.u8();
    if (!type) {
      return fail(type.error());
    }
    p.peer_type = *type;
    auto bgp_id = r.u32();
    if (!bgp_id) {
      return fail(bgp_id.error());
    }
    p.bgp_id = *bgp_id;
    auto ip = detail::read_ip(r, p.is_ipv6() ? bgp::Afi::Ipv6 : bgp::Afi::Ipv4);
    if (!ip) {
      return fail(ip.error());
    }
    p.ip = *ip;
    auto as = detail::read_as(r, p.is_as4());
    if (!as) {
      return fail(as.error());
    }
    p.as = *as;
    t.peers.push_back(p);
  }
  BGPSCRIBE_TRY(r.expect_end("bytes after the PEER_INDEX_TABLE peers"));
  return t;
}

// RFC 6396 section 4.3.1.
Status encode(const PeerIndexTable& t, std::uint32_t timestamp, wire::Writer& w) {
  if (t.view_name.size() > 0xFFFF || t.peers.size() > 0xFFFF) {
    return fail(ErrorKind::TooLarge, 0, "PEER_INDEX_TABLE view name or peer count too large");
  }
  for (const Peer& p : t.peers) {
    if (p.ip.is_v4() == p.is_ipv6()) {
      return fail(ErrorKind::BadValue, 0, "PEER_INDEX_TABLE peer type disagrees with its IP");
    }
    if (!p.is_as4() && p.as > 0xFFFF) {
      return fail(ErrorKind::BadValue, 0, "PEER_INDEX_TABLE peer AS needs the AS4 flag");
    }
  }
  const std::size_t start =
      begin_record(Type::TableDumpV2,
                   static_cast<std::uint16_t>(TableDumpV2Subtype::PeerIndexTable), {timestamp}, w);
  w.u32(t.collector_bgp_id);
  w.u16(static_cast<std::uint16_t>(t.view_name.size()));
  for (char c : t.view_name) {
    w.u8(static_cast<std::uint8_t>(c));
  }
  w.u16(static_cast<std::uint16_t>(t.peers.size()));
  for (const Peer& p : t.peers) {
    w.u8(p.peer_type);
    w.u32(p.bgp_id);
    detail::write_ip(p.ip, w);
    if (p.is_as4()) {
      w.u32(p.as);
    } else {
      w.u16(static_cast<std::uint16_t>(p.as));
    }
  }
  return finish_record(start, w);
}

// --- RIB records --------------------------------------------------------------------------------

bool operator==(const RibEntry& a, const RibEntry& b) {
  return a.peer_index == b.peer_index && a.originated_time == b.originated_time &&
         a.path_id == b.path_id && bytes_equal(a.attributes, b.attributes);
}

RibEntryIterator::RibEntryIterator(Bytes entries, bool add_path, std::size_t pos)
    : entries_(entries), add_path_(add_path), pos_(pos) {
  load();
}

// The entries were validated by parse_rib (or built by encode_rib_entries), so the loads below
// stay in bounds.
void RibEntryIterator::load() {
  if (pos_ >= entries_.size()) {
    return;
  }
  // Peer index, originated time, [path identifier,] attribute length: one check for them all.
  std::size_t len = 0;
  std::size_t at = pos_;
  if (add_path_) {
    const auto fixed = wire::fixed_span<12>(entries_, at);
    current_.peer_index = wire::load_u16(fixed, 0);
    current_.originated_time = wire::load_u32(fixed, 2);
    current_.path_id = wire::load_u32(fixed, 6);
    len = wire::load_u16(fixed, 10);
    at += 12;
  } else {
    const auto fixed = wire::fixed_span<8>(entries_, at);
    current_.peer_index = wire::load_u16(fixed, 0);
    current_.originated_time = wire::load_u32(fixed, 2);
    current_.path_id = 0;
    len = wire::load_u16(fixed, 6);
    at += 8;
  }
  current_.attributes = entries_.subspan(at, len);
  next_ = at + len;
}

RibEntryIterator& RibEntryIterator::operator++() {
  pos_ = next_;
  load();
  return *this;
}

bgp::AfiSafi family_of(TableDumpV2Subtype subtype) {
  switch (subtype) {
    case TableDumpV2Subtype::RibIpv4Unicast:
    case TableDumpV2Subtype::RibIpv4UnicastAddpath:
      return bgp::kIpv4Unicast;
    case TableDumpV2Subtype::RibIpv4Multicast:
    case TableDumpV2Subtype::RibIpv4MulticastAddpath:
      return bgp::kIpv4Multicast;
    case TableDumpV2Subtype::RibIpv6Unicast:
    case TableDumpV2Subtype::RibIpv6UnicastAddpath:
      return bgp::kIpv6Unicast;
    case TableDumpV2Subtype::RibIpv6Multicast:
    case TableDumpV2Subtype::RibIpv6MulticastAddpath:
      return bgp::kIpv6Multicast;
    default:
      return bgp::kIpv4Unicast;
  }
}

std::optional<bgp::Prefix> Rib::prefix() const {
  if (!bgp::is_plain_prefix_family(family) || nlri.empty()) {
    return std::nullopt;
  }
  const std::uint8_t bits = nlri[0];
  const std::size_t max = family.afi == bgp::Afi::Ipv4 ? 32 : 128;
  if (bits > max || nlri.size() != 1 + prefix_octets(bits)) {
    return std::nullopt;
  }
  bgp::Prefix p;
  p.address.family = family.afi;
  p.length = bits;
  for (std::size_t i = 1; i < nlri.size(); ++i) {
    p.address.bytes[i - 1] = nlri[i];
  }
  // Mask host bits rather than reject them (PROTOCOLS.md section 4.1: real data has them).
  if (bits % 8 != 0) {
    const std::size_t last = bits / 8;
    p.address.bytes[last] =
        static_cast<std::uint8_t>(p.address.bytes[last] & (0xFF << (8 - bits % 8)));
  }
  return p;
}

bool operator==(const Rib& a, const Rib& b) {
  return a.subtype == b.subtype && a.sequence_number == b.sequence_number && a.family == b.family &&
         bytes_equal(a.nlri, b.nlri) && a.entry_count == b.entry_count &&
         bytes_equal(a.entries, b.entries) && a.path_ids_inferred == b.path_ids_inferred;
}

Result<Rib> parse_rib(const Record& record) {
  return parse_rib_entries(record, false);
}

Result<Rib> parse_rib_with_path_ids(const Record& record) {
  return parse_rib_entries(record, true);
}

namespace {

// RFC 6396 sections 4.3.2 and 4.3.3, RFC 8050 section 4.
Result<Rib> parse_rib_entries(const Record& record, bool path_ids) {
  const auto subtype = static_cast<TableDumpV2Subtype>(record.header.subtype);
  if (record.header.type != Type::TableDumpV2 || !is_rib(subtype)) {
    return fail(ErrorKind::Unsupported, 6, "not a TABLE_DUMP_V2 RIB record");
  }
  Rib rib;
  rib.subtype = subtype;
  rib.path_ids_inferred = path_ids && !is_add_path(subtype);
  wire::Reader r(record.body, record.body_offset());
  auto seq = r.u32();
  if (!seq) {
    return fail(seq.error());
  }
  rib.sequence_number = *seq;
  std::size_t nlri_size = 0;
  const std::uint32_t nlri_at = r.offset() + (is_generic(subtype) ? 3 : 0);
  if (is_generic(subtype)) {
    auto afi = r.u16();
    if (!afi) {
      return fail(afi.error());
    }
    auto safi = r.u8();
    if (!safi) {
      return fail(safi.error());
    }
    rib.family = {static_cast<bgp::Afi>(*afi), static_cast<bgp::Safi>(*safi)};
    auto size = generic_nlri_size(rib.family, r);
    if (!size) {
      return fail(size.error());
    }
    nlri_size = *size;
  } else {
    rib.family = family_of(subtype);
    if (r.remaining() < 1) {
      return r.truncated("RIB prefix length missing");
    }
    const std::uint8_t bits = r.peek_u8();
    if (bits > (rib.family.afi == bgp::Afi::Ipv4 ? 32 : 128)) {
      return fail(ErrorKind::BadValue, nlri_at, "RIB prefix length too long");
    }
    nlri_size = 1 + prefix_octets(bits);
  }
  auto nlri = r.bytes(nlri_size);
  if (!nlri) {
    return fail(ErrorKind::Truncated, nlri_at, "RIB prefix runs past the record");
  }
  rib.nlri = *nlri;
  auto count = r.u16();
  if (!count) {
    return fail(count.error());
  }
  rib.entry_count = *count;
  const std::size_t entries_begin = r.position();
  const bool add_path = rib.add_path();
  for (std::uint16_t i = 0; i < *count; ++i) {
    // Peer Index(2) Originated Time(4) [Path Identifier(4)] Attribute Length(2).
    BGPSCRIBE_TRY(r.skip(add_path ? 10 : 6));
    const std::uint32_t len_at = r.offset();
    auto len = r.u16();
    if (!len) {
      return fail(len.error());
    }
    if (r.remaining() < *len) {
      return fail(ErrorKind::BadLength, len_at, "RIB entry attribute length exceeds the record");
    }
    BGPSCRIBE_TRY(r.skip(*len));
  }
  rib.entries = r.whole().subspan(entries_begin, r.position() - entries_begin);
  BGPSCRIBE_TRY(r.expect_end("bytes after the RIB entries"));
  return rib;
}

}  // namespace

// RFC 6396 sections 4.3.2 and 4.3.3, RFC 8050 section 4.
Status encode(const Rib& rib, std::uint32_t timestamp, wire::Writer& w) {
  if (!is_rib(rib.subtype)) {
    return fail(ErrorKind::BadValue, 0, "not a RIB subtype");
  }
  const std::size_t start =
      begin_record(Type::TableDumpV2, static_cast<std::uint16_t>(rib.subtype), {timestamp}, w);
  w.u32(rib.sequence_number);
  if (is_generic(rib.subtype)) {
    w.u16(static_cast<std::uint16_t>(rib.family.afi));
    w.u8(static_cast<std::uint8_t>(rib.family.safi));
  }
  w.bytes(rib.nlri);
  w.u16(rib.entry_count);
  w.bytes(rib.entries);
  return finish_record(start, w);
}

// RFC 6396 section 4.3.4, RFC 8050 section 4.
Status encode_rib_entries(std::span<const RibEntry> entries, bool add_path, wire::Writer& w) {
  for (const RibEntry& e : entries) {
    if (e.attributes.size() > 0xFFFF) {
      return fail(ErrorKind::TooLarge, 0, "RIB entry attributes longer than 65535");
    }
    w.u16(e.peer_index);
    w.u32(e.originated_time);
    if (add_path) {
      w.u32(e.path_id);
    }
    w.u16(static_cast<std::uint16_t>(e.attributes.size()));
    w.bytes(e.attributes);
  }
  return {};
}

void encode_prefix_nlri(const bgp::Prefix& prefix, wire::Writer& w) {
  w.u8(prefix.length);
  w.bytes(prefix.address.span().first(prefix_octets(prefix.length)));
}

// RFC 6396 section 4.3.2, RFC 8050 section 4.
Status encode_rib(TableDumpV2Subtype subtype, std::uint32_t sequence_number,
                  const bgp::Prefix& prefix, std::span<const RibEntry> entries,
                  std::uint32_t timestamp, wire::Writer& w) {
  if (!is_rib(subtype) || is_generic(subtype) || family_of(subtype).afi != prefix.family()) {
    return fail(ErrorKind::BadValue, 0, "RIB subtype disagrees with the prefix family");
  }
  if (prefix.length > (prefix.family() == bgp::Afi::Ipv4 ? 32 : 128)) {
    return fail(ErrorKind::BadValue, 0, "RIB prefix length too long");
  }
  if (entries.size() > 0xFFFF) {
    return fail(ErrorKind::TooLarge, 0, "more than 65535 RIB entries");
  }
  const std::size_t start =
      begin_record(Type::TableDumpV2, static_cast<std::uint16_t>(subtype), {timestamp}, w);
  w.u32(sequence_number);
  encode_prefix_nlri(prefix, w);
  w.u16(static_cast<std::uint16_t>(entries.size()));
  BGPSCRIBE_TRY(encode_rib_entries(entries, is_add_path(subtype), w));
  return finish_record(start, w);
}

void rib_entry_attributes(const bgp::PathAttributes& attributes, const bgp::ParseContext& context,
                          std::vector<std::uint8_t>& out) {
  bgp::RawAttributeIterator it(attributes.block, attributes.block_offset);
  bgp::RawAttribute a;
  while (it.next(a)) {
    const auto type = static_cast<bgp::AttributeType>(a.type);
    if (type == bgp::AttributeType::MpUnreachNlri) {
      continue;
    }
    if (type == bgp::AttributeType::MpReachNlri) {
      // RFC 6396 section 4.3.4: next-hop length and next hop only.
      const auto nh = attributes.mp_reach.next_hop.raw;
      if (nh.size() > 255) {
        continue;
      }
      put_attribute_header(out, a.flags, a.type, nh.size() + 1);
      out.push_back(static_cast<std::uint8_t>(nh.size()));
      out.insert(out.end(), nh.begin(), nh.end());
      continue;
    }
    if (!context.four_octet_as && type == bgp::AttributeType::AsPath) {
      // TABLE_DUMP_V2 always carries 4-octet AS_PATHs (RFC 6396 section 4.3.4).
      std::size_t length = 0;
      bgp::AsPathView::unchecked(a.value, 2)
          .for_each_segment(
              [&](const bgp::AsPathView::Segment& s) { length += 2 + s.count * std::size_t{4}; });
      put_attribute_header(out, a.flags, a.type, length);
      bgp::AsPathView::unchecked(a.value, 2)
          .for_each_segment([&](const bgp::AsPathView::Segment& s) {
            out.push_back(static_cast<std::uint8_t>(s.type));
            out.push_back(s.count);
            for (std::size_t i = 0; i < s.count; ++i) {
              put_u32_be(out, s.asn(i));
            }
          });
      continue;
    }
    if (!context.four_octet_as && type == bgp::AttributeType::Aggregator && a.value.size() == 6) {
      put_attribute_header(out, a.flags, a.type, 8);
      put_u32_be(out, (std::uint32_t{a.value[0]} << 8) | a.value[1]);
      out.insert(out.end(), a.value.begin() + 2, a.value.end());
      continue;
    }
    put_attribute_header(out, a.flags, a.type, a.value.size());
    out.insert(out.end(), a.value.begin(), a.value.end());
  }
}

}  // namespace bgpscribe::codec::mrt
