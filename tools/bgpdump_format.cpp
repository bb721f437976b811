#include "tools/bgpdump_format.hpp"

#include <algorithm>

#include "codec/bgp/attribute_types.hpp"
#include "codec/bgp/message_types.hpp"
#include "codec/bgp/text.hpp"
#include "codec/mrt/bgp4mp.hpp"
#include "tools/text.hpp"

namespace bgpscribe::tools {

namespace bgp = codec::bgp;
namespace mrt = codec::mrt;
namespace wire = codec::wire;
using codec::Status;

namespace {

// bgpdump stores at most this many prefixes of one NLRI list (its MAX_PREFIXES).
constexpr std::size_t kBgpdumpMaxPrefixes = 8192;

constexpr std::uint32_t kCommunityNoExport = 0xFFFFFF01;
constexpr std::uint32_t kCommunityNoAdvertise = 0xFFFFFF02;
constexpr std::uint32_t kCommunityLocalAs = 0xFFFFFF03;

// Zero-padded reads: bgpdump's stream reader yields zeros past the end of a value.
std::uint32_t read_u32_or_zero(std::span<const std::uint8_t> v, std::size_t at) {
  std::uint32_t x = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    x = (x << 8) | (at + i < v.size() ? v[at + i] : 0U);
  }
  return x;
}

std::uint32_t read_u16_or_zero(std::span<const std::uint8_t> v, std::size_t at) {
  std::uint32_t x = 0;
  for (std::size_t i = 0; i < 2; ++i) {
    x = (x << 8) | (at + i < v.size() ? v[at + i] : 0U);
  }
  return x;
}

const char* describe_origin(int origin) {
  return bgp::origin_name(origin == 0   ? bgp::Origin::Igp
                          : origin == 1 ? bgp::Origin::Egp
                                        : bgp::Origin::Incomplete);
}

// bgpdump's AS path text: the codec's spelling of each segment ("1 2 {3,4} (5 6) [7,8]", which
// bgpdump shares), walked the way bgpdump walks it (its documented exceptions): "! Error !" for
// a bad segment type or overrun, "..." past 8000 characters, and no space after an empty
// segment. Returns bgpdump's count (sequences count their members, sets 1, confederations
// included).
int format_as_path(std::span<const std::uint8_t> data, std::size_t asn_len, Text& out) {
  out.clear();
  int count = 0;
  bool space = false;
  char close = '\0';  // of the segment before
  std::size_t pos = 0;
  while (pos < data.size()) {
    const std::uint8_t seg_type = data[pos];
    if (seg_type < 1 || seg_type > 4 || data.size() - pos < 2) {
      out.clear();
      out.put("! Error !");
      return 0;
    }
    const std::size_t seg_len = data[pos + 1];
    if (pos + 2 + seg_len * asn_len > data.size()) {
      out.clear();
      out.put("! Error !");
      return 0;
    }
    const bgp::AsSegmentMarks marks =
        bgp::as_segment_marks(static_cast<bgp::AsSegmentType>(seg_type));
    if (close != '\0') {
      out.put(close);
    }
    if (space) {
      out.put(' ');
    }
    if (marks.open != '\0') {
      out.put(marks.open);
    }
    space = false;
    count += (seg_type == 2 || seg_type == 3) ? static_cast<int>(seg_len) : 1;
    const wire::BigEndianArray asns(data.subspan(pos + 2, seg_len * asn_len), asn_len);
    for (const std::uint32_t asn : asns) {
      if (space) {
        out.put(marks.separator);
      } else {
        space = true;
      }
      out.u64(asn);
      if (out.size() > 8000 - 100) {
        out.put("...");
        return count;
      }
    }
    close = marks.close;
    pos += 2 + seg_len * asn_len;
  }
  if (close != '\0') {
    out.put(close);
  }
  return count;
}

int as_path_count(std::span<const std::uint8_t> data, std::size_t asn_len) {
  thread_local Text ignored;
  return format_as_path(data, asn_len, ignored);
}

// bgpdump's asn32_merge_paths, including its habit of copying the first AS_PATH segment again
// when one segment is not enough (it never advances to the second). Returns 4-octet path
// bytes. The copy loop is bounded: bgpdump spins forever on an empty first segment.
std::vector<std::uint8_t> merge_paths(std::span<const std::uint8_t> path, int path_count,
                                      std::span<const std::uint8_t> new_path, int new_count) {
  std::vector<std::uint8_t> merged;
  if (path.size() < 2) {
    merged.assign(new_path.begin(), new_path.end());
    return merged;
  }
  const std::uint8_t type = path[0];
  const std::size_t len = path[1];
  const int target = path_count - new_count;
  int count = 0;
  for (int guard = 0; count < target && guard < 1024; ++guard) {
    std::size_t copy_len = len;
    int next = count + ((type == 1 || type == 4) ? 1 : static_cast<int>(len));
    if (!(type == 1 || type == 4) && next > target) {
      copy_len = len - static_cast<std::size_t>(next - target);
    }
    merged.push_back(type);
    merged.push_back(static_cast<std::uint8_t>(copy_len));
    for (std::size_t i = 0; i < copy_len; ++i) {
      const std::uint32_t asn = 2 + i * 2 + 1 < path.size() ? wire::load_u16(path, 2 + i * 2) : 0;
      merged.push_back(0);
      merged.push_back(0);
      merged.push_back(static_cast<std::uint8_t>(asn >> 8));
      merged.push_back(static_cast<std::uint8_t>(asn));
    }
    count = next;
    if (len == 0 && !(type == 1 || type == 4)) {
      break;
    }
  }
  merged.insert(merged.end(), new_path.begin(), new_path.end());
  return merged;
}

// The codec's community text, except that bgpdump names three well-known communities its own
// way (a documented exception: JSON and the SQL archive write "65535:65281").
void append_communities(Text& out, std::span<const std::uint8_t> list) {
  // bgpdump builds " a:b c:d" and prints it from the second character.
  bool first = true;
  for (const std::uint32_t c : wire::BigEndianArray(list, 4)) {
    if (!first) {
      out.put(' ');
    }
    first = false;
    switch (c) {
      case kCommunityNoExport:
        out.put("no-export");
        break;
      case kCommunityNoAdvertise:
        out.put("no-advertise");
        break;
      case kCommunityLocalAs:
        out.put("local-AS");
        break;
      default:
        out.format(bgp::kCommunityTextMax, [c](char* p) { return bgp::format_community(c, p); });
        break;
    }
  }
}

void append_large_communities(Text& out, std::span<const std::uint8_t> list) {
  bool first = true;
  for (std::size_t i = 0; i + 12 <= list.size(); i += 12) {
    if (!first) {
      out.put(' ');
    }
    first = false;
    const auto octets = list.subspan(i, 12);
    out.format(bgp::kLargeCommunityTextMax,
               [octets](char* p) { return bgp::format_large_community(octets, p); });
  }
}

// The prefix text bgpdump prints: the address bytes as stored (host bits kept).
void append_prefix(Text& out, const bgp::Nlri& n) {
  if (n.afi == bgp::Afi::Ipv6) {
    out.ipv6_bgpdump(std::span<const std::uint8_t, 16>(n.bytes));
  } else {
    out.ipv4((std::uint32_t{n.bytes[0]} << 24) | (std::uint32_t{n.bytes[1]} << 16) |
             (std::uint32_t{n.bytes[2]} << 8) | n.bytes[3]);
  }
  out.put('/');
  out.u64(n.length);
}

// The next hop of an MP entry as bgpdump prints it, or false when it prints nothing.
bool append_mp_next_hop(Text& out, const BgpdumpFormatter::Mp& mp) {
  if (mp.next_hop_length == 4) {
    out.ipv4(wire::load_u32(mp.next_hop, 0));
    return true;
  }
  if (mp.next_hop_length == 16 || mp.next_hop_length == 32) {
    out.ipv6_bgpdump(std::span<const std::uint8_t, 16>(mp.next_hop));
    return true;
  }
  return false;
}

}  // namespace

BgpdumpFormatter::BgpdumpFormatter(const BgpdumpOptions& options) : options_(options) {
  scratch_.reserve(256);
  time_.reserve(64);
}

void BgpdumpFormatter::decode_attributes(std::span<const std::uint8_t> block, std::uint8_t asn_len,
                                         bool add_path, bool mrt_rib, bgp::AfiSafi rib_family) {
  Attrs& a = attrs_;
  a.flag = 0;
  a.origin = -1;
  a.has_as_path = false;
  a.as_path.clear();
  a.as_path_count = 0;
  a.next_hop = 0xFFFFFFFF;
  a.med = 0;
  a.local_pref = 0;
  a.aggregator_as = 0;
  a.aggregator_address = 0xFFFFFFFF;
  a.has_new_aggregator = false;
  a.new_aggregator_address = 0xFFFFFFFF;
  a.communities = {};
  a.large_communities = {};
  a.as_path_data = {};
  a.new_as_path_data = {};
  for (auto& row : a.announce) {
    for (auto& mp : row) {
      mp.present = false;
    }
  }
  for (auto& row : a.withdraw) {
    for (auto& mp : row) {
      mp.present = false;
    }
  }
  a.unknown.clear();

  bool have_as_path = false;
  bool have_new_as_path = false;
  bgp::RawAttributeIterator it(block, 0);
  bgp::RawAttribute attr;
  while (it.next(attr)) {
    const int type = attr.type;
    const auto v = attr.value;
    if (type >= 1 && type <= 64) {
      a.flag |= std::uint64_t{1} << (type - 1);
    }
    switch (type) {
      case 14: {  // MP_REACH_NLRI
        // bgpdump: a first octet other than 0 is the RFC 6396 abbreviated form (next hop only),
        // filed under IPv6 unicast whatever the family.
        if (!v.empty() && v[0] != 0) {
          Mp& mp = a.announce[2][1];
          if (!mp.present) {
            mp.present = true;
            mp.next_hop_length = v[0];
            mp.next_hop.fill(0);
            if (v[0] == 4 || v[0] == 16 || v[0] == 32) {
              const std::size_t n = std::min<std::size_t>(v[0] == 4 ? 4 : 16, v.size() - 1);
              std::copy_n(v.begin() + 1, n, mp.next_hop.begin());
            }
            mp.nlri = {};
          }
          (void)mrt_rib;
          (void)rib_family;
          break;
        }
        if (v.size() < 4) {
          break;
        }
        const std::uint32_t afi = wire::load_u16(v, 0);
        const std::uint32_t safi = v[2];
        if (afi < 1 || afi > 2 || safi < 1 || safi > 3) {
          break;  // bgpdump: "unknown protocol", ignored
        }
        Mp& mp = a.announce[afi][safi];
        if (mp.present) {
          break;  // bgpdump: "two MP_NLRI for the same protocol", ignored
        }
        mp.present = true;
        mp.next_hop_length = v[3];
        mp.next_hop.fill(0);
        const std::size_t nh_len = v[3];
        if (nh_len == 4 || nh_len == 16 || nh_len == 32) {
          const std::size_t n = std::min<std::size_t>(nh_len == 4 ? 4 : 16, v.size() - 4);
          std::copy_n(v.begin() + 4, n, mp.next_hop.begin());
        }
        std::size_t pos = 4 + ((nh_len == 4 || nh_len == 16 || nh_len == 32) ? nh_len : 0);
        // Reserved octet (formerly the SNPA count).
        pos += 1;
        if (pos > v.size()) {
          mp.nlri = {};
          break;
        }
        wire::Reader r(v.subspan(pos));
        // SAFI 3 (bgpdump's "unicast and multicast") decodes like unicast.
        const bgp::AfiSafi family{static_cast<bgp::Afi>(afi), bgp::Safi::Unicast};
        mp.nlri = bgp::NlriBlock::parse_lenient(r, family, add_path);
        break;
      }
      case 15: {  // MP_UNREACH_NLRI
        if (v.size() < 3) {
          break;
        }
        const std::uint32_t afi = wire::load_u16(v, 0);
        const std::uint32_t safi = v[2];
        if (afi < 1 || afi > 2 || safi < 1 || safi > 3) {
          break;
        }
        Mp& mp = a.withdraw[afi][safi];
        if (mp.present) {
          break;
        }
        mp.present = true;
        wire::Reader r(v.subspan(3));
        mp.nlri = bgp::NlriBlock::parse_lenient(
            r, bgp::AfiSafi{static_cast<bgp::Afi>(afi), bgp::Safi::Unicast}, add_path);
        break;
      }
      case 1:
        if (a.origin == -1) {
          a.origin = v.empty() ? 0 : v[0];
        }
        break;
      case 2:
        if (!have_as_path) {
          have_as_path = true;
          a.as_path_data = v;
        }
        break;
      case 3:
        if (a.next_hop == 0xFFFFFFFF) {
          a.next_hop = read_u32_or_zero(v, 0);
        }
        break;
      case 4:
        a.med = read_u32_or_zero(v, 0);
        break;
      case 5:
        a.local_pref = read_u32_or_zero(v, 0);
        break;
      case 6:
        break;
      case 7:
        a.aggregator_as = asn_len == 4 ? read_u32_or_zero(v, 0) : read_u16_or_zero(v, 0);
        a.aggregator_address = read_u32_or_zero(v, asn_len);
        break;
      case 8:
        if (a.communities.empty()) {
          a.communities = v;
        }
        break;
      case 32:
        if (a.large_communities.empty()) {
          a.large_communities = v;
        }
        break;
      case 17:
        if (!have_new_as_path) {
          have_new_as_path = true;
          a.new_as_path_data = v;
        }
        break;
      case 18:
        a.has_new_aggregator = true;
        a.new_aggregator_as = read_u32_or_zero(v, 0);
        a.new_aggregator_address = read_u32_or_zero(v, 4);
        break;
      case 9:
      case 10:
        break;
      default:
        a.unknown.push_back(attr);
        break;
    }
  }

  // bgpdump's process_asn32_trans: merge AS4_PATH / AS4_AGGREGATOR on 2-octet sessions only.
  std::span<const std::uint8_t> path = a.as_path_data;
  std::size_t path_asn_len = asn_len;
  std::vector<std::uint8_t> merged;
  if (asn_len == 2) {
    if (have_as_path) {
      a.as_path_count = as_path_count(path, asn_len);
    }
    bool merge = true;
    if (a.has(7) && a.has(18)) {
      if (a.aggregator_as != bgp::kAsTrans) {
        merge = false;
      } else {
        a.aggregator_as = a.new_aggregator_as;
        a.aggregator_address = a.new_aggregator_address;
      }
    }
    if (merge && a.has(17) && have_as_path) {
      const int new_count = as_path_count(a.new_as_path_data, 4);
      if (a.as_path_count >= new_count) {
        merged = merge_paths(path, a.as_path_count, a.new_as_path_data, new_count);
        path = merged;
        path_asn_len = 4;
      }
    }
  }
  if (have_as_path) {
    a.has_as_path = true;
    format_as_path(path, path_asn_len, a.as_path);
  }
}

void BgpdumpFormatter::time_text(std::int64_t seconds, std::int64_t microseconds, bool extended) {
  time_.clear();
  if (options_.human_time) {
    append_bgpdump_time(time_, seconds);
  } else {
    append_i64(time_, seconds);
  }
  if (extended) {
    time_.push_back('.');
    char buf[24];
    std::size_t n = bgp::format_u64(static_cast<std::uint64_t>(microseconds), buf);
    for (std::size_t i = n; i < 6; ++i) {
      time_.push_back('0');
    }
    time_.append(buf, n);
  }
}

void BgpdumpFormatter::append_address(Text& out, const bgp::IpAddress& ip) const {
  if (ip.family == bgp::Afi::Ipv6) {
    out.ipv6_bgpdump(std::span<const std::uint8_t, 16>(ip.bytes));
  } else {
    out.ipv4(ip.v4_host_order());
  }
}

void BgpdumpFormatter::line_start(const char* format, const char* kind, Text& out) const {
  out.put(format);
  out.put('|');
  if (options_.packet_index) {
    out.u64(record_index_);
    out.put('|');
  }
  out.put(time_);
  out.put('|');
  out.put(kind);
  out.put('|');
}

// "communities|[large|]AG|aggregator|[unknown|]\n" after the MED column.
void BgpdumpFormatter::attribute_tail(Text& out) const {
  const Attrs& a = attrs_;
  if (a.has(8)) {
    append_communities(out, a.communities);
  }
  out.put('|');
  if (options_.large_communities) {
    if (a.has(32)) {
      append_large_communities(out, a.large_communities);
    }
    out.put('|');
  }
  out.put(a.has(6) ? "AG|" : "NAG|");
  if (a.aggregator_address != 0xFFFFFFFF) {
    out.u64(a.aggregator_as);
    out.put(' ');
    out.ipv4(a.aggregator_address);
  }
  out.put('|');
  if (options_.unknown_attributes) {
    bool first = true;
    for (const auto& u : a.unknown) {
      if (!first) {
        out.put(' ');
      }
      first = false;
      out.hex(std::span<const std::uint8_t>(&u.type, 1));
      out.put(':');
      out.hex(std::span<const std::uint8_t>(&u.flags, 1));
      out.put(':');
      out.hex(u.value);
    }
    out.put('|');
  }
  out.put('\n');
}

// "LOCAL_PREF|MED|" then the attribute tail: the end of every RIB line and NLRI-field
// announcement (missing LOCAL_PREF and MED print 0).
void BgpdumpFormatter::preference_and_tail(Text& out) const {
  const Attrs& a = attrs_;
  out.u64(a.has(5) ? a.local_pref : 0);
  out.put('|');
  out.u64(a.has(4) ? a.med : 0);
  out.put('|');
  attribute_tail(out);
}

Status BgpdumpFormatter::format(const mrt::Record& record, std::string& out) {
  scratch_text_.clear();
  auto s = format(record, scratch_text_);
  out += scratch_text_.view();
  return s;
}

Status BgpdumpFormatter::format(const mrt::Record& record, Text& out) {
  const auto& h = record.header;
  time_text(h.timestamp, h.microseconds, h.extended_time());
  const std::size_t mark = out.size();
  record_index_ = packet_index_;
  check_ = mrt::check_record(record, peers_.get(), update_);
  if (check_.verdict == mrt::Verdict::Malformed) {
    return fail(check_.problem);
  }
  if (check_.verdict == mrt::Verdict::Unsupported && h.type != mrt::Type::Bgp) {
    return {};  // bgpdump prints nothing (type 5 goes on: bgpdump counts every subtype for -p)
  }
  Status s;
  switch (h.type) {
    case mrt::Type::TableDump:
      s = table_dump(record, out);
      break;
    case mrt::Type::TableDumpV2:
      s = table_dump_v2(record, out);
      break;
    case mrt::Type::Bgp4mp:
    case mrt::Type::Bgp4mpEt:
      s = bgp4mp(record, out);
      break;
    case mrt::Type::Bgp:
      s = legacy_bgp(record, out);
      break;
    default:
      break;  // bgpdump prints nothing for other types
  }
  if (!s) {
    out.truncate(mark);
  }
  return s;
}

Status BgpdumpFormatter::table_dump(const mrt::Record& record, Text& out) {
  // bgpdump prints the first entry of a record that holds several; we print them all.
  std::uint32_t shown = check_.entries;
  if (options_.strict && shown > 1) {
    shown = 1;
    if (check_.verdict == mrt::Verdict::Clean) {
      check_.verdict = mrt::Verdict::Warning;
      check_.problem = codec::Error{codec::ErrorKind::Unsupported,
                                    0,
                                    0,
                                    codec::Reaction::None,
                                    0,
                                    "several TABLE_DUMP entries in one record: "
                                    "--strict-bgpdump prints the first, as bgpdump does"};
    }
  }
  ++packet_index_;
  std::size_t pos = 0;
  for (std::uint32_t i = 0; i < shown; ++i) {
    auto entry = mrt::parse_table_dump_entry(record, pos);
    if (!entry) {
      return fail(entry.error());
    }
    table_dump_entry(record, *entry, out);
  }
  return {};
}

void BgpdumpFormatter::table_dump_entry(const mrt::Record& /*record*/, const mrt::TableDumpEntry& e,
                                        Text& out) {
  const mrt::TableDumpEntry* entry = &e;
  const bool v6 = entry->subtype == mrt::TableDumpSubtype::AfiIpv6 ||
                  entry->subtype == mrt::TableDumpSubtype::AfiIpv6As4;
  decode_attributes(entry->attributes, entry->as4() ? 4 : 2, false, true,
                    v6 ? bgp::kIpv6Unicast : bgp::kIpv4Unicast);
  if (options_.change_time) {
    time_text(entry->originated_time, 0, false);  // else format() set the record's time
  }
  line_start("TABLE_DUMP", "B", out);
  // bgpdump formats the IPv6 text only for subtype 2; its AS4 IPv6 subtype (4) prints the
  // first four octets as IPv4.
  const bool v6_text = entry->subtype == mrt::TableDumpSubtype::AfiIpv6;
  auto address = [&](const bgp::IpAddress& ip) {
    if (v6_text) {
      out.ipv6_bgpdump(std::span<const std::uint8_t, 16>(ip.bytes));
    } else {
      out.ipv4(ip.v4_host_order());
    }
  };
  address(entry->peer_ip);
  out.put('|');
  out.u64(entry->peer_as);
  out.put('|');
  address(entry->prefix);
  out.put('/');
  out.u64(entry->prefix_length);
  out.put('|');
  const Attrs& a = attrs_;
  out.put(a.as_path.view());
  out.put('|');
  out.put(describe_origin(a.origin));
  if (options_.human_time) {
    out.put('\n');
    return;
  }
  out.put('|');
  if (a.has(14) && a.announce[2][1].present) {
    out.ipv6_bgpdump(std::span<const std::uint8_t, 16>(a.announce[2][1].next_hop));
  } else {
    out.ipv4(a.next_hop);
  }
  out.put('|');
  preference_and_tail(out);
}

void BgpdumpFormatter::set_peer_table(std::shared_ptr<const mrt::PeerIndexTable> table) {
  peers_ = std::move(table);
  peer_text_.clear();
  if (!peers_) {
    return;
  }
  for (const auto& peer : peers_->peers) {
    Text t;
    append_address(t, peer.ip);
    t.put('|');
    t.u64(peer.as);
    t.put('|');
    peer_text_.emplace_back(t.view());
  }
}

Status BgpdumpFormatter::table_dump_v2(const mrt::Record& record, Text& out) {
  const auto subtype = static_cast<mrt::TableDumpV2Subtype>(record.header.subtype);
  if (subtype == mrt::TableDumpV2Subtype::PeerIndexTable) {
    auto table = mrt::parse_peer_index_table(record);
    if (!table) {
      return fail(table.error());
    }
    set_peer_table(std::make_shared<const mrt::PeerIndexTable>(std::move(*table)));
    return {};  // bgpdump does not count it as a parsed record
  }
  if (subtype == mrt::TableDumpV2Subtype::GeoPeerTable) {
    return {};
  }
  auto rib =
      check_.add_path_inferred ? mrt::parse_rib_with_path_ids(record) : mrt::parse_rib(record);
  if (!rib) {
    return fail(rib.error());
  }
  const auto family = rib->family;
  const bool plain = bgp::is_plain_prefix_family(family);
  const bool bgpdump_prints = family.safi == bgp::Safi::Unicast &&
                              subtype != mrt::TableDumpV2Subtype::RibGeneric &&
                              subtype != mrt::TableDumpV2Subtype::RibGenericAddpath;
  if (!plain || (options_.strict && !bgpdump_prints)) {
    return {};
  }
  if (rib->entry_count > 0 && !peers_) {
    return fail(codec::ErrorKind::BadValue, 0, "RIB record before any PEER_INDEX_TABLE");
  }
  auto prefix = rib->prefix();
  if (!prefix) {
    return fail(codec::ErrorKind::BadValue, 0, "RIB prefix cannot be decoded");
  }
  // The prefix as stored (host bits kept), from the record's NLRI bytes.
  bgp::Nlri nlri;
  nlri.afi = family.afi;
  if (rib->nlri.empty()) {
    return fail(codec::ErrorKind::Truncated, 0, "RIB record without a prefix");
  }
  nlri.length = rib->nlri[0];
  if (subtype == mrt::TableDumpV2Subtype::RibGeneric ||
      subtype == mrt::TableDumpV2Subtype::RibGenericAddpath) {
    nlri.length = prefix->length;
    nlri.bytes = prefix->address.bytes;
  } else {
    const std::size_t n = (static_cast<std::size_t>(nlri.length) + 7) / 8;
    for (std::size_t i = 0; i < n && i + 1 < rib->nlri.size(); ++i) {
      nlri.bytes[i] = rib->nlri[i + 1];
    }
  }
  const bool add_path = rib->add_path();
  ++packet_index_;
  const char* format = add_path ? "TABLE_DUMP2_AP" : "TABLE_DUMP2";
  head_.clear();
  line_start(format, "B", head_);
  tail_.clear();  // the prefix column
  append_prefix(tail_, nlri);
  tail_.put('|');
  for (const auto& entry : *rib) {
    if (entry.peer_index >= peers_->peers.size()) {
      return fail(codec::ErrorKind::BadValue, 0, "RIB entry names a peer index out of range");
    }
    decode_attributes(entry.attributes, 4, add_path, true, family);
    if (options_.change_time) {
      time_text(entry.originated_time, 0, false);
      line_start(format, "B", out);
    } else {
      out.put(head_.view());
    }
    out.put(peer_text_[entry.peer_index]);
    out.put(tail_.view());
    if (add_path) {
      out.u64(entry.path_id);
      out.put('|');
    }
    const Attrs& a = attrs_;
    out.put(a.as_path.view());
    out.put('|');
    out.put(describe_origin(a.origin));
    if (options_.human_time) {
      out.put('\n');
      continue;
    }
    out.put('|');
    const Mp* mp = nullptr;
    if (a.has(14) && a.announce[2][1].present) {
      mp = &a.announce[2][1];
    } else if (a.has(14) && a.announce[1][1].present) {
      mp = &a.announce[1][1];
    }
    if (mp != nullptr) {
      append_mp_next_hop(out, *mp);
    } else {
      out.ipv4(a.next_hop);
    }
    out.put('|');
    preference_and_tail(out);
  }
  return {};
}

Status BgpdumpFormatter::bgp4mp(const mrt::Record& record, Text& out) {
  const auto subtype = static_cast<mrt::Bgp4mpSubtype>(record.header.subtype);
  const char* format = record.header.type == mrt::Type::Bgp4mpEt ? "BGP4MP_ET" : "BGP4MP";
  if (subtype == mrt::Bgp4mpSubtype::StateChange || subtype == mrt::Bgp4mpSubtype::StateChangeAs4) {
    auto change = mrt::parse_bgp4mp_state_change(record);
    if (!change) {
      return fail(change.error());
    }
    ++packet_index_;
    line_start(format, "STATE", out);
    append_address(out, change->peer.peer_ip);
    out.put('|');
    out.u64(change->peer.peer_as);
    out.put('|');
    out.u64(change->old_state);
    out.put('|');
    out.u64(change->new_state);
    out.put('\n');
    return {};
  }
  auto msg = mrt::parse_bgp4mp_message(record);
  if (!msg) {
    return fail(msg.error());
  }
  // check_record framed the message: header, marker and length agree with the record.
  const auto& m = msg->message;
  const std::uint8_t msg_type = m[18];
  if (msg_type == static_cast<std::uint8_t>(bgp::MessageType::RouteRefresh) ||
      msg_type == static_cast<std::uint8_t>(bgp::MessageType::CiscoRouteRefresh) || msg_type == 0 ||
      msg_type > 5) {
    return {};  // bgpdump: not parsed, not counted
  }
  ++packet_index_;
  if (msg_type != static_cast<std::uint8_t>(bgp::MessageType::Update)) {
    return {};
  }
  // The UPDATE body, bounded by the message's own length field like bgpdump does.
  const std::size_t declared = wire::load_u16(m, 16);
  const std::size_t body_len = std::min(m.size(), std::max<std::size_t>(declared, 19)) - 19;
  const auto body = m.subspan(19, body_len);
  // Path ids the subtype does not announce are read when the NLRI need them (check_record);
  // --strict-bgpdump misreads them as bgpdump does.
  const bool add_path = msg->add_path() || (check_.add_path_inferred && !options_.strict);
  const std::uint8_t asn_len = msg->as4() ? 4 : 2;

  wire::Reader r(body);
  const std::uint32_t wlen = body.size() >= 2 ? wire::load_u16(body, 0) : 0;
  (void)r.skip(std::min<std::size_t>(2, body.size()));
  wire::Reader withdrawn_reader(r.rest().subspan(0, std::min<std::size_t>(wlen, r.remaining())));
  (void)r.skip(std::min<std::size_t>(wlen, r.remaining()));
  const auto withdrawn =
      bgp::NlriBlock::parse_lenient(withdrawn_reader, bgp::kIpv4Unicast, add_path);
  const std::uint32_t alen = r.remaining() >= 2 ? wire::load_u16(r.rest(), 0) : 0;
  (void)r.skip(std::min<std::size_t>(2, r.remaining()));
  const auto block = r.rest().subspan(0, std::min<std::size_t>(alen, r.remaining()));
  (void)r.skip(block.size());
  const auto announced = bgp::NlriBlock::parse_lenient(r, bgp::kIpv4Unicast, add_path);
  decode_attributes(block, asn_len, add_path, false, bgp::kIpv4Unicast);

  const bool local = msg->local();
  const char* line_format = nullptr;
  if (record.header.type == mrt::Type::Bgp4mpEt) {
    line_format = local ? (add_path ? "BGP4MP_ET_LOCAL_AP" : "BGP4MP_ET_LOCAL")
                        : (add_path ? "BGP4MP_ET_AP" : "BGP4MP_ET");
  } else {
    line_format = local ? (add_path ? "BGP4MP_LOCAL_AP" : "BGP4MP_LOCAL")
                        : (add_path ? "BGP4MP_AP" : "BGP4MP");
  }
  const auto& peer = msg->peer;
  const bool peer_v6 = peer.peer_ip.family == bgp::Afi::Ipv6;
  const Attrs& a = attrs_;
  const std::size_t limit = options_.strict ? kBgpdumpMaxPrefixes : SIZE_MAX;

  auto peer_text = [&](Text& t, bool v6_prefix) {
    if (peer_v6) {
      t.ipv6_bgpdump(std::span<const std::uint8_t, 16>(peer.peer_ip.bytes));
    } else if (v6_prefix && local) {
      // bgpdump formats a locally sent IPv4 peer as IPv6 in IPv6 withdrawal lines.
      t.ipv6_bgpdump(std::span<const std::uint8_t, 16>(peer.peer_ip.bytes));
    } else {
      t.ipv4(peer.peer_ip.v4_host_order());
    }
    t.put('|');
    t.u64(peer.peer_as);
    t.put('|');
  };

  // Every line of a block shares its head (format, time, kind, peer) and, for announcements,
  // its tail (the attributes): both are formatted once per block.
  auto withdraw_lines = [&](const bgp::NlriBlock& nlri, bool v6) {
    head_.clear();
    line_start(line_format, "W", head_);
    peer_text(head_, v6);
    std::size_t n = 0;
    for (const auto& p : nlri) {
      if (n++ >= limit) {
        break;
      }
      out.put(head_.view());
      append_prefix(out, p);
      if (add_path) {
        out.put('|');
        out.u64(p.path_id);
      }
      out.put('\n');
    }
  };

  // IPv4 announcements from the NLRI field (next hop from NEXT_HOP) or MP_REACH.
  auto announce_lines = [&](const bgp::NlriBlock& nlri, const Mp* mp, bool v6) {
    head_.clear();
    line_start(line_format, "A", head_);
    peer_text(head_, false);
    Text& t = tail_;
    t.clear();
    if (options_.human_time) {
      t.put(a.as_path.view());
      t.put('|');
      t.put(describe_origin(a.origin));
      t.put('\n');
    } else {
      const std::uint32_t lp = a.has(5) ? a.local_pref : 0;
      const std::uint32_t med = a.has(4) ? a.med : 0;
      if (mp == nullptr) {
        t.put(a.as_path.view());
        t.put('|');
        t.put(describe_origin(a.origin));
        t.put('|');
        t.ipv4(a.next_hop);
        t.put('|');
        t.u64(lp);
        t.put('|');
        t.u64(med);
        t.put('|');
      } else if (!v6) {
        t.put(a.as_path.view());
        t.put('|');
        t.put(describe_origin(a.origin));
        t.put('|');
        // bgpdump prints these two with %d here.
        if (append_mp_next_hop(t, *mp)) {
          t.put('|');
          t.i64(static_cast<std::int32_t>(lp));
          t.put('|');
          t.i64(static_cast<std::int32_t>(med));
          t.put('|');
        }
      } else {
        t.put(a.as_path.view());
        t.put('|');
        t.put(describe_origin(a.origin));
        t.put('|');
        if (append_mp_next_hop(t, *mp)) {
          t.put('|');
          t.u64(lp);
          t.put('|');
          t.u64(med);
          t.put('|');
        } else {
          t.clear();  // bgpdump drops the whole group without a known next hop
        }
      }
      attribute_tail(t);
    }
    std::size_t n = 0;
    for (const auto& p : nlri) {
      if (n++ >= limit) {
        break;
      }
      out.put(head_.view());
      append_prefix(out, p);
      out.put('|');
      if (add_path) {
        out.u64(p.path_id);
        out.put('|');
      }
      out.put(t.view());
    }
  };

  if (!withdrawn.empty() || a.has(15)) {
    withdraw_lines(withdrawn, false);
    for (int afi = 1; afi <= 2; ++afi) {
      for (int safi = 1; safi <= 3; ++safi) {
        const Mp& mp = a.withdraw[afi][safi];
        if (mp.present) {
          withdraw_lines(mp.nlri, afi == 2);
        }
      }
    }
  }
  if (!announced.empty() || a.has(14)) {
    announce_lines(announced, nullptr, false);
    for (int afi = 1; afi <= 2; ++afi) {
      for (int safi = 1; safi <= 3; ++safi) {
        const Mp& mp = a.announce[afi][safi];
        if (mp.present) {
          announce_lines(mp.nlri, &mp, afi == 2);
        }
      }
    }
  }
  return {};
}

Status BgpdumpFormatter::legacy_bgp(const mrt::Record& record, Text& out) {
  const auto subtype = static_cast<mrt::BgpSubtype>(record.header.subtype);
  if (subtype == mrt::BgpSubtype::StateChange) {
    auto change = mrt::parse_bgp_state_change(record);
    if (!change) {
      return fail(change.error());
    }
    ++packet_index_;
    line_start("BGP", "STATE", out);
    append_address(out, change->peer_ip);
    out.put('|');
    out.u64(change->peer_as);
    out.put('|');
    out.u64(change->old_state);
    out.put('|');
    out.u64(change->new_state);
    out.put('\n');
    return {};
  }
  if (subtype != mrt::BgpSubtype::Update && subtype != mrt::BgpSubtype::Keepalive) {
    ++packet_index_;
    return {};
  }
  auto msg = mrt::parse_bgp_message(record);
  if (!msg) {
    return fail(msg.error());
  }
  ++packet_index_;
  if (subtype != mrt::BgpSubtype::Update) {
    return {};
  }
  const auto body = msg->payload;
  wire::Reader r(body);
  const std::uint32_t wlen = body.size() >= 2 ? wire::load_u16(body, 0) : 0;
  (void)r.skip(std::min<std::size_t>(2, body.size()));
  wire::Reader withdrawn_reader(r.rest().subspan(0, std::min<std::size_t>(wlen, r.remaining())));
  (void)r.skip(std::min<std::size_t>(wlen, r.remaining()));
  const auto withdrawn = bgp::NlriBlock::parse_lenient(withdrawn_reader, bgp::kIpv4Unicast, false);
  const std::uint32_t alen = r.remaining() >= 2 ? wire::load_u16(r.rest(), 0) : 0;
  (void)r.skip(std::min<std::size_t>(2, r.remaining()));
  const auto block = r.rest().subspan(0, std::min<std::size_t>(alen, r.remaining()));
  (void)r.skip(block.size());
  const auto announced = bgp::NlriBlock::parse_lenient(r, bgp::kIpv4Unicast, false);
  decode_attributes(block, 2, false, false, bgp::kIpv4Unicast);
  const Attrs& a = attrs_;
  for (const auto& p : withdrawn) {
    line_start("BGP", "W", out);
    out.ipv4(msg->peer_ip.v4_host_order());
    out.put('|');
    out.u64(msg->peer_as);
    out.put('|');
    if (options_.strict) {
      // bgpdump passes two inet_ntoa() results to one printf: both show the peer address.
      bgp::Nlri shown = p;
      const auto peer = msg->peer_ip.v4_host_order();
      shown.bytes = {static_cast<std::uint8_t>(peer >> 24), static_cast<std::uint8_t>(peer >> 16),
                     static_cast<std::uint8_t>(peer >> 8), static_cast<std::uint8_t>(peer)};
      append_prefix(out, shown);
    } else {
      append_prefix(out, p);
    }
    out.put('\n');
  }
  for (const auto& p : announced) {
    line_start("BGP", "A", out);
    out.ipv4(msg->peer_ip.v4_host_order());
    out.put('|');
    out.u64(msg->peer_as);
    out.put('|');
    append_prefix(out, p);
    out.put('|');
    out.put(a.as_path.view());
    out.put('|');
    out.put(describe_origin(a.origin));
    if (options_.human_time) {
      out.put('\n');
      continue;
    }
    // bgpdump's line for these old records has no separator between MED and communities.
    out.put('|');
    out.ipv4(a.next_hop);
    out.put('|');
    out.u64(a.has(5) ? a.local_pref : 0);
    out.put('|');
    out.u64(a.has(4) ? a.med : 0);
    if (a.has(8)) {
      append_communities(out, a.communities);
      out.put('|');
    } else {
      out.put('|');
    }
    out.put(a.has(6) ? "AG|" : "NAG|");
    if (a.aggregator_address != 0xFFFFFFFF) {
      out.u64(a.aggregator_as);
      out.put(' ');
      out.ipv4(a.aggregator_address);
    }
    out.put("|\n");
  }
  return {};
}

}  // namespace bgpscribe::tools
