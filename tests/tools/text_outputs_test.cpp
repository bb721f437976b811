// One spelling per protocol value across every output (issue 17, docs/text.md): a table of
// values goes into real UPDATE, OPEN and NOTIFICATION messages, and the text of each value is
// read back from `dump --json` (JsonFormatter, RisLiveFormatter), `dump -m` (BgpdumpFormatter)
// and the SQL archive's rows (BatchBuilder: bgp.attr_sets COPY data decoded here, bgp.peers
// capabilities, bgp.peer_events NOTIFICATION text). Each output must equal the table's spelling,
// written out here by hand, and the codec's text function must give it too.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "codec/bgp/message_types.hpp"
#include "codec/bgp/notification.hpp"
#include "codec/bgp/open.hpp"
#include "codec/bgp/text.hpp"
#include "codec/bgp/update.hpp"
#include "codec/mrt/bgp4mp.hpp"
#include "codec/mrt/record.hpp"
#include "codec/wire/writer.hpp"
#include "exporters/api/record.hpp"
#include "exporters/postgres/batch.hpp"
#include "exporters/postgres/rows.hpp"
#include "speaker/update.hpp"
#include "tools/bgpdump_format.hpp"
#include "tools/json_format.hpp"

namespace bgpscribe::tools {
namespace {

namespace bgp = codec::bgp;
namespace mrt = codec::mrt;
namespace pg = exporters::postgres;
using Bytes = std::vector<std::uint8_t>;

// ---- The table ---------------------------------------------------------------------------------

struct CommunityRow {
  std::uint32_t value;
  const char* text;
  const char* bgpdump;  // bgpdump's own name of a well-known community, else nullptr
};
constexpr CommunityRow kCommunities[] = {
    {0xFDE80001, "65000:1", nullptr},
    {0x00000000, "0:0", nullptr},
    {0xFFFFFFFF, "65535:65535", nullptr},
    {0xFFFFFF01, "65535:65281", "no-export"},
    {0xFFFFFF02, "65535:65282", "no-advertise"},
    {0xFFFFFF03, "65535:65283", "local-AS"},
};

struct LargeRow {
  std::array<std::uint32_t, 3> value;
  const char* text;
};
constexpr LargeRow kLarge[] = {
    {{4200000000, 1, 2}, "4200000000:1:2"},
    {{0, 0, 0}, "0:0:0"},
    {{4294967295, 4294967295, 4294967295}, "4294967295:4294967295:4294967295"},
};

struct ExtendedRow {
  std::uint64_t value;
  const char* text;
};
constexpr ExtendedRow kExtended[] = {
    {0x0002FDE800000064, "rt:65000:100"},        // 2-octet AS route target
    {0x4003FDE800000007, "ro:65000:7"},          // 2-octet AS route origin, non-transitive
    {0x0102C00002010064, "rt:192.0.2.1:100"},    // IPv4 address route target
    {0x0103C00002010007, "ro:192.0.2.1:7"},      // IPv4 address route origin
    {0x0202FA56EA000005, "rt:4200000000:5"},     // 4-octet AS route target (RFC 5668)
    {0x0203FA56EA000006, "ro:4200000000:6"},     // 4-octet AS route origin
    {0x030C000000000008, "0x030c000000000008"},  // opaque (RFC 9012 encapsulation)
    {0x0005000100000002, "0x0005000100000002"},  // 2-octet AS, another subtype
    {0x8002000100000002, "0x8002000100000002"},  // IANA authority bit: unknown type
};

// An UPDATE per row: its path (as the session carries it) and the text of the true path.
struct PathRow {
  bool four_octet_session;
  bgp::AsPath as_path;
  bgp::AsPath as4_path;  // empty: no AS4_PATH
  bgp::Origin origin;
  const char* origin_text;
  const char* path_text;
};
const PathRow kPaths[] = {
    // Confederation segments (RFC 5065) and a set on a 4-octet session.
    {true,
     {{bgp::AsSegmentType::AsConfedSequence, {64512, 64513}},
      {bgp::AsSegmentType::AsConfedSet, {64514, 64515}},
      {bgp::AsSegmentType::AsSequence, {65001, 4200000001}},
      {bgp::AsSegmentType::AsSet, {64496, 64497}}},
     {},
     bgp::Origin::Igp,
     "IGP",
     "(64512 64513) [64514,64515] 65001 4200000001 {64496,64497}"},
    // A 2-octet session: AS_TRANS in AS_PATH, the 4-octet ASNs in AS4_PATH (RFC 6793 4.2.3).
    {false,
     {{bgp::AsSegmentType::AsSequence, {65001, 23456}},
      {bgp::AsSegmentType::AsSet, {23456, 64512}}},
     {{bgp::AsSegmentType::AsSequence, {4200000001}},
      {bgp::AsSegmentType::AsSet, {4200000002, 64512}}},
     bgp::Origin::Egp,
     "EGP",
     "65001 4200000001 {4200000002,64512}"},
    {true,
     {{bgp::AsSegmentType::AsSequence, {65001}}},
     {},
     bgp::Origin::Incomplete,
     "INCOMPLETE",
     "65001"},
};

// An attribute the codec does not know, and its value in hex.
constexpr std::uint8_t kUnknownType = 99;
constexpr std::array<std::uint8_t, 4> kUnknownValue{0x01, 0x02, 0xAB, 0xFF};
constexpr const char* kUnknownHex = "0102abff";

struct CapabilityRow {
  bgp::Capability capability;
  const char* name;    // JSON capabilities, RIS Live name
  const char* text;    // bgp.peers capabilities
  const char* family;  // RIS Live multiprotocol families
};
std::vector<CapabilityRow> capability_rows() {
  bgp::AddPathCapability ap;
  ap.tuples.push_back({bgp::kIpv4Unicast, bgp::AddPathMode::Receive});
  ap.tuples.push_back({bgp::kIpv6Unicast, bgp::AddPathMode::Both});
  bgp::GracefulRestartCapability gr;
  gr.restart_time = 120;
  gr.tuples.push_back({bgp::kIpv4Unicast, 0});
  auto mp = [](bgp::Afi afi, bgp::Safi safi) {
    return bgp::Capability::of(bgp::MultiprotocolCapability{{afi, safi}, 0});
  };
  return {
      {mp(bgp::Afi::Ipv4, bgp::Safi::Unicast), "multiprotocol", "multiprotocol ipv4/unicast",
       "ipv4/unicast"},
      {mp(bgp::Afi::Ipv6, bgp::Safi::Unicast), "multiprotocol", "multiprotocol ipv6/unicast",
       "ipv6/unicast"},
      {mp(bgp::Afi::Ipv4, bgp::Safi::MplsVpn), "multiprotocol", "multiprotocol ipv4/mpls-vpn",
       "ipv4/mpls-vpn"},
      {mp(bgp::Afi::L2vpn, bgp::Safi::Evpn), "multiprotocol", "multiprotocol l2vpn/evpn",
       "l2vpn/evpn"},
      {mp(bgp::Afi::Ipv4, static_cast<bgp::Safi>(3)), "multiprotocol", "multiprotocol ipv4/3",
       "ipv4/3"},
      {bgp::Capability::of(bgp::RouteRefreshCapability{}), "route-refresh", "route-refresh",
       nullptr},
      {bgp::Capability::of(bgp::FourOctetAsCapability{4200000000}), "4-octet-as",
       "4-octet-as 4200000000", nullptr},
      {bgp::Capability::of(ap), "add-path",
       "add-path ipv4/unicast receive ipv6/unicast send/receive", nullptr},
      {bgp::Capability::of(gr), "graceful-restart", "graceful-restart 120s ipv4/unicast", nullptr},
      {bgp::Capability::of(bgp::EnhancedRouteRefreshCapability{}), "enhanced-route-refresh",
       "enhanced-route-refresh", nullptr},
      {bgp::Capability::of(bgp::RoleCapability{bgp::BgpRole::Customer}), "role", "role 3", nullptr},
      {bgp::Capability::of(bgp::FqdnCapability{"rr1", "example.net"}), "fqdn",
       "fqdn rr1.example.net", nullptr},
      {bgp::Capability::raw(99, {1, 2}), "99", "99", nullptr},
  };
}

struct NotificationRow {
  std::uint8_t code;
  std::uint8_t subcode;
  const char* code_name;     // JSON code_name (nullptr: member absent)
  const char* subcode_name;  // JSON subcode_name (nullptr: member absent)
  const char* text;          // bgp.peer_events notification_text, the speaker's log lines
};
constexpr NotificationRow kNotifications[] = {
    {6, 2, "Cease", "Administrative Shutdown", "Cease / Administrative Shutdown"},
    {3, 11, "UPDATE Message Error", "Malformed AS_PATH",
     "UPDATE Message Error / Malformed AS_PATH"},
    {4, 0, "Hold Timer Expired", nullptr, "Hold Timer Expired"},
    {6, 99, "Cease", nullptr, "Cease / subcode 99"},
    {9, 5, nullptr, nullptr, "code 9 / subcode 5"},
};

// ---- Reading the outputs back ------------------------------------------------------------------

// Just enough JSON (RFC 8259) to read the formatters' lines: every value kind, strings with
// their escapes (\uXXXX below U+0080, as the formatter writes control characters).
struct Json {
  enum class Kind : std::uint8_t { Null, Scalar, String, Array, Object };
  Kind kind = Kind::Null;
  std::string text;  // String: decoded; Scalar: as written (numbers, true, false)
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;

  [[nodiscard]] const Json& operator[](std::string_view key) const {
    static const Json kAbsent;
    for (const auto& [k, v] : members) {
      if (k == key) {
        return v;
      }
    }
    return kAbsent;
  }
  [[nodiscard]] bool absent() const { return kind == Kind::Null; }
};

class JsonReader {
 public:
  explicit JsonReader(std::string_view s) : s_(s) {}
  Json document() {
    Json v = value();
    space();
    EXPECT_EQ(at_, s_.size()) << "trailing text in " << s_;
    return v;
  }

 private:
  void space() {
    while (at_ < s_.size() && (s_[at_] == ' ' || s_[at_] == '\n')) {
      ++at_;
    }
  }
  char next() { return at_ < s_.size() ? s_[at_++] : '\0'; }
  std::string string() {
    std::string out;
    for (char c = next(); c != '"'; c = next()) {
      if (c == '\0') {
        ADD_FAILURE() << "unterminated string in " << s_;
        return out;
      }
      if (c == '\\') {
        c = next();
        if (c == 'u') {
          out += static_cast<char>(std::stoi(std::string(s_.substr(at_, 4)), nullptr, 16));
          at_ += 4;
          continue;
        }
        c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
      }
      out += c;
    }
    return out;
  }
  Json value() {
    space();
    Json v;
    const char c = next();
    if (c == '"') {
      v.kind = Json::Kind::String;
      v.text = string();
    } else if (c == '[' || c == '{') {
      v.kind = c == '[' ? Json::Kind::Array : Json::Kind::Object;
      const char end = c == '[' ? ']' : '}';
      space();
      if (at_ < s_.size() && s_[at_] == end) {
        ++at_;
        return v;
      }
      for (;;) {
        if (end == '}') {
          space();
          EXPECT_EQ(next(), '"') << s_;
          std::string key = string();
          space();
          EXPECT_EQ(next(), ':') << s_;
          v.members.emplace_back(std::move(key), value());
        } else {
          v.items.push_back(value());
        }
        space();
        const char sep = next();
        if (sep == end) {
          return v;
        }
        if (sep != ',') {
          ADD_FAILURE() << "expected , or " << end << " in " << s_;
          return v;
        }
      }
    } else {
      const std::size_t start = at_ - 1;
      while (at_ < s_.size() &&
             std::string_view(",]} \n").find(s_[at_]) == std::string_view::npos) {
        ++at_;
      }
      v.kind = Json::Kind::Scalar;
      v.text = std::string(s_.substr(start, at_ - start));
      if (v.text == "null") {
        v.kind = Json::Kind::Null;
      }
    }
    return v;
  }

  std::string_view s_;
  std::size_t at_ = 0;
};

std::vector<Json> json_lines(std::string_view out) {
  std::vector<Json> lines;
  while (!out.empty()) {
    const std::size_t end = out.find('\n');
    lines.push_back(JsonReader(out.substr(0, end)).document());
    out.remove_prefix(end == std::string_view::npos ? out.size() : end + 1);
  }
  return lines;
}

std::vector<std::string> strings_of(const Json& array) {
  std::vector<std::string> out;
  for (const auto& item : array.items) {
    out.push_back(item.text);
  }
  return out;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  for (;;) {
    const std::size_t end = s.find(sep);
    out.emplace_back(s.substr(0, end));
    if (end == std::string_view::npos) {
      return out;
    }
    s.remove_prefix(end + 1);
  }
}

// PostgreSQL binary COPY data ("Binary Format" of the COPY reference): the fields of each row,
// nullopt for NULL.
using CopyField = std::optional<Bytes>;
std::vector<std::vector<CopyField>> copy_rows(std::span<const std::uint8_t> data) {
  codec::wire::Reader r(data);
  std::vector<std::vector<CopyField>> rows;
  EXPECT_TRUE(r.skip(19));  // signature, flags, header extension length
  for (;;) {
    const auto fields = r.u16();
    if (!fields || *fields == 0xFFFF) {
      return rows;  // the trailer
    }
    auto& row = rows.emplace_back();
    for (std::uint16_t i = 0; i < *fields; ++i) {
      const auto length = r.u32();
      if (!length) {
        ADD_FAILURE() << "COPY data ends inside a row";
        return rows;
      }
      if (*length == 0xFFFFFFFF) {
        row.emplace_back(std::nullopt);
        continue;
      }
      const auto bytes = r.bytes(*length);
      row.emplace_back(bytes ? Bytes(bytes->begin(), bytes->end()) : Bytes{});
    }
  }
}

std::string text_of(const CopyField& f) {
  return f ? std::string(f->begin(), f->end()) : "NULL";
}

// A one-dimensional text[] in binary form: dimensions, flags, element type, then per dimension
// size and lower bound, then the elements.
std::vector<std::string> text_array_of(const CopyField& f) {
  std::vector<std::string> out;
  if (!f) {
    return out;
  }
  codec::wire::Reader r(*f);
  const auto dims = r.u32();
  EXPECT_TRUE(r.skip(4));  // has-nulls flag
  const auto oid = r.u32();
  EXPECT_TRUE(oid && *oid == 25U);  // text
  if (!dims || *dims == 0) {
    return out;
  }
  const auto count = r.u32();
  EXPECT_TRUE(r.skip(4));  // lower bound
  for (std::uint32_t i = 0; count && i < *count; ++i) {
    const auto length = r.u32();
    const auto bytes = length ? r.bytes(*length) : r.bytes(r.remaining() + 1);
    if (!bytes) {
      ADD_FAILURE() << "text[] ends inside an element";
      return out;
    }
    out.emplace_back(bytes->begin(), bytes->end());
  }
  return out;
}

// ---- Building the messages ---------------------------------------------------------------------

const bgp::IpAddress kPeer = bgp::IpAddress::v4(0xC0000209);
const bgp::IpAddress kLocal = bgp::IpAddress::v4(0xC0000201);

Bytes update_of(const PathRow& row) {
  bgp::UpdateMessage m;
  m.nlri.push_back({*bgp::Prefix::parse("203.0.113.0/24"), 0});
  m.attributes.origin(row.origin).as_path(row.as_path, row.four_octet_session ? 4 : 2);
  if (!row.as4_path.empty()) {
    m.attributes.as4_path(row.as4_path);
  }
  m.attributes.next_hop(0xC0000209);
  std::vector<std::uint32_t> communities;
  for (const auto& c : kCommunities) {
    communities.push_back(c.value);
  }
  std::vector<std::array<std::uint32_t, 3>> large;
  for (const auto& c : kLarge) {
    large.push_back(c.value);
  }
  std::vector<std::uint64_t> extended;
  for (const auto& c : kExtended) {
    extended.push_back(c.value);
  }
  m.attributes.communities(communities).extended_communities(extended).large_communities(large);
  m.attributes.raw(0xC0, kUnknownType, kUnknownValue);
  codec::wire::Writer w;
  EXPECT_TRUE(m.encode(w));
  return w.take();
}

Bytes open_of(const std::vector<CapabilityRow>& rows) {
  bgp::Open open;
  open.my_as = 23456;
  open.hold_time = 90;
  open.bgp_identifier = 0xC0000209;
  for (const auto& row : rows) {
    open.add_capability(row.capability);
  }
  codec::wire::Writer w;
  EXPECT_TRUE(bgp::encode_open(open, w));
  return w.take();
}

Bytes notification_of(const NotificationRow& row) {
  codec::wire::Writer w;
  EXPECT_TRUE(bgp::encode_notification({row.code, row.subcode, {}}, w));
  return w.take();
}

// The message in a BGP4MP_MESSAGE(_AS4) record, as an MRT file holds it.
Bytes record_of(const Bytes& message, bool four_octet_session) {
  mrt::Bgp4mpMessage m;
  m.subtype = four_octet_session ? mrt::Bgp4mpSubtype::MessageAs4 : mrt::Bgp4mpSubtype::Message;
  m.peer.peer_as = 65001;
  m.peer.local_as = 65000;
  m.peer.peer_ip = kPeer;
  m.peer.local_ip = kLocal;
  m.message = message;
  codec::wire::Writer w;
  EXPECT_TRUE(mrt::encode(m, mrt::Timestamp{1700000000, 0, false}, w));
  return w.take();
}

// The lines `dump --json` (or `--format ris-live`) writes for one message.
template <class Formatter>
std::vector<Json> dumped(Formatter& f, const Bytes& message, bool four_octet_session) {
  const Bytes bytes = record_of(message, four_octet_session);
  auto record = mrt::parse_record(bytes);
  EXPECT_TRUE(record);
  std::string out;
  EXPECT_TRUE(f.format(*record, out));
  return json_lines(out);
}

// The `dump -m -l -u` line of an UPDATE, split at '|'.
std::vector<std::string> bgpdump_line(const Bytes& message, bool four_octet_session) {
  BgpdumpOptions options;
  options.large_communities = true;
  options.unknown_attributes = true;
  BgpdumpFormatter f(options);
  const Bytes bytes = record_of(message, four_octet_session);
  auto record = mrt::parse_record(bytes);
  EXPECT_TRUE(record);
  std::string out;
  EXPECT_TRUE(f.format(*record, out));
  EXPECT_EQ(out.back(), '\n');
  out.pop_back();
  return split(out, '|');
}

std::shared_ptr<const exporters::PeerInfo> sql_peer() {
  auto p = std::make_shared<exporters::PeerInfo>();
  p->id = 7;
  p->name = "peer";
  p->peer_address = kPeer;
  p->local_address = kLocal;
  p->peer_as = 65001;
  p->local_as = 65000;
  return p;
}

exporters::Record sql_record(exporters::RecordType type, const Bytes& message) {
  exporters::Record r;
  r.type = type;
  r.time_us = 1'700'000'000'000'000;
  r.peer = sql_peer();
  r.message = exporters::SharedBytes(message);
  return r;
}

// The columns of bgp.attr_sets, by name (rows.hpp's kAttrColumns).
std::size_t attr_column(std::string_view name) {
  const auto names = split(pg::kAttrColumns, ',');
  for (std::size_t i = 0; i < names.size(); ++i) {
    std::string_view n = names[i];
    n.remove_prefix(n.find_first_not_of(' '));
    if (n == name) {
      return i;
    }
  }
  ADD_FAILURE() << "no column " << name;
  return 0;
}

std::vector<std::string> texts(const auto& rows, auto field) {
  std::vector<std::string> out;
  for (const auto& row : rows) {
    out.emplace_back(row.*field);
  }
  return out;
}

// ---- The tests ---------------------------------------------------------------------------------

TEST(TextOutputs, AttributesSpellAlikeInJsonSqlAndBgpdump) {
  std::vector<Bytes> updates;
  pg::BatchBuilder builder;
  for (const auto& row : kPaths) {
    updates.push_back(update_of(row));
    auto r = sql_record(exporters::RecordType::Message, updates.back());
    r.context.four_octet_as = row.four_octet_session;
    builder.add(r);
  }
  const pg::Batch batch = builder.seal(1);
  const auto sql_rows = copy_rows(batch.attrs);
  ASSERT_EQ(sql_rows.size(), std::size(kPaths));

  const auto communities = texts(kCommunities, &CommunityRow::text);
  const auto large = texts(kLarge, &LargeRow::text);
  const auto extended = texts(kExtended, &ExtendedRow::text);
  std::string extended_hex;  // the attribute's value: the communities' octets in order
  for (const auto& c : kExtended) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(c.value));
    extended_hex += buf;
  }
  std::vector<std::string> bgpdump_communities;
  for (const auto& c : kCommunities) {
    bgpdump_communities.emplace_back(c.bgpdump != nullptr ? c.bgpdump : c.text);
  }

  for (std::size_t i = 0; i < std::size(kPaths); ++i) {
    const PathRow& row = kPaths[i];
    SCOPED_TRACE(row.path_text);
    JsonFormatter json;
    const auto lines = dumped(json, updates[i], row.four_octet_session);
    ASSERT_EQ(lines.size(), 1U);
    const Json& j = lines[0];
    ASSERT_EQ(j["kind"].text, "announce");
    RisLiveFormatter ris;
    const auto ris_lines = dumped(ris, updates[i], row.four_octet_session);
    ASSERT_EQ(ris_lines.size(), 1U);
    const auto& sql = sql_rows[i];
    const auto bgpdump = bgpdump_line(updates[i], row.four_octet_session);
    ASSERT_EQ(bgpdump.size(), 17U);  // ... PREFIX|PATH|ORIGIN|NH|LP|MED|COMM|LARGE|AG|AGGR|UNKNOWN|

    // Origin: one spelling; RIS Live writes it in lowercase.
    EXPECT_EQ(j["origin"].text, row.origin_text);
    EXPECT_EQ(text_of(sql[attr_column("origin")]), row.origin_text);
    EXPECT_EQ(bgpdump[7], row.origin_text);
    EXPECT_EQ(bgp::origin_name(row.origin), std::string(row.origin_text));
    std::string lower = row.origin_text;
    for (auto& c : lower) {
      c = static_cast<char>(c - 'A' + 'a');
    }
    EXPECT_EQ(ris_lines[0]["data"]["origin"].text, lower);

    // AS path, AS4_PATH merged on the 2-octet session.
    EXPECT_EQ(j["as_path"].text, row.path_text);
    EXPECT_EQ(text_of(sql[attr_column("as_path_text")]), row.path_text);
    EXPECT_EQ(bgpdump[6], row.path_text);
    const auto u = bgp::parse_update(updates[i], [&] {
      bgp::ParseContext ctx;
      ctx.four_octet_as = row.four_octet_session;
      return ctx;
    }());
    ASSERT_TRUE(u);
    EXPECT_EQ(bgp::to_string(bgp::effective_as_path(u->attributes, row.four_octet_session)),
              row.path_text);

    // Communities: bgpdump names three well-known ones its own way (docs/text.md).
    EXPECT_EQ(strings_of(j["communities"]), communities);
    EXPECT_EQ(text_array_of(sql[attr_column("communities")]), communities);
    EXPECT_EQ(split(bgpdump[11], ' '), bgpdump_communities);
    EXPECT_EQ(strings_of(j["large_communities"]), large);
    EXPECT_EQ(text_array_of(sql[attr_column("large_communities")]), large);
    EXPECT_EQ(split(bgpdump[12], ' '), large);
    EXPECT_EQ(strings_of(j["extended_communities"]), extended);
    EXPECT_EQ(text_array_of(sql[attr_column("extended_communities")]), extended);

    // Hex: an unknown attribute's value. bgpdump -u also lists EXTENDED_COMMUNITIES (type 16),
    // which bgpdump does not decode, as hex.
    ASSERT_EQ(j["other_attributes"].items.size(), 1U);
    EXPECT_EQ(j["other_attributes"].items[0]["value"].text, kUnknownHex);
    EXPECT_EQ(
        split(bgpdump[15], ' '),
        (std::vector<std::string>{"10:c0:" + extended_hex, "63:c0:" + std::string(kUnknownHex)}));
  }

  // The codec's own functions, value by value.
  for (const auto& c : kCommunities) {
    EXPECT_EQ(bgp::community_text(c.value), c.text);
  }
  for (const auto& c : kLarge) {
    EXPECT_EQ(bgp::large_community_text(c.value), c.text);
  }
  for (const auto& c : kExtended) {
    EXPECT_EQ(bgp::extended_community_text(c.value), c.text);
  }
  std::string hex;
  bgp::append_hex(hex, kUnknownValue);
  EXPECT_EQ(hex, kUnknownHex);
}

TEST(TextOutputs, FamiliesSpellAlike) {
  // An IPv6 announcement: JSON names the family's two parts; family_text joins them.
  bgp::UpdateMessage m;
  const bgp::Prefix prefix = *bgp::Prefix::parse("2001:db8::/32");
  const auto next_hop = bgp::IpAddress::parse("2001:db8::1")->bytes;
  m.attributes.origin(bgp::Origin::Igp)
      .as_path({{bgp::AsSegmentType::AsSequence, {65001}}})
      .mp_reach(bgp::kIpv6Unicast, next_hop, std::span(&prefix, 1));
  codec::wire::Writer w;
  ASSERT_TRUE(m.encode(w));
  JsonFormatter json;
  const auto lines = dumped(json, w.take(), true);
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_EQ(lines[0]["afi"].text, "ipv6");
  EXPECT_EQ(lines[0]["safi"].text, "unicast");
  EXPECT_EQ(bgp::family_text(bgp::kIpv6Unicast), "ipv6/unicast");
  EXPECT_STREQ(bgp::to_string(bgp::Afi::Ipv6), "ipv6");
  EXPECT_STREQ(bgp::to_string(bgp::Safi::Unicast), "unicast");
}

TEST(TextOutputs, CapabilitiesSpellAlikeInJsonRisLiveAndSql) {
  const auto rows = capability_rows();
  const Bytes open = open_of(rows);

  JsonFormatter json;
  const auto lines = dumped(json, open, true);
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_EQ(lines[0]["message_type"].text, "OPEN");
  const Json& names = lines[0]["capabilities"];
  ASSERT_EQ(names.items.size(), rows.size());

  RisLiveFormatter ris;
  const auto ris_lines = dumped(ris, open, true);
  ASSERT_EQ(ris_lines.size(), 1U);
  const Json& ris_caps = ris_lines[0]["data"]["capabilities"];

  pg::BatchBuilder builder;
  auto up = sql_record(exporters::RecordType::PeerUp, open);
  up.sent_open = exporters::SharedBytes(open);
  builder.add(up);
  const pg::Batch batch = builder.seal(1);
  ASSERT_EQ(batch.peers.size(), 1U);
  const auto& sql = batch.peers[0].capabilities_received;
  EXPECT_EQ(batch.peers[0].capabilities_sent, sql);
  ASSERT_EQ(sql.size(), rows.size());

  std::vector<std::string> families;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    SCOPED_TRACE(row.text);
    const auto code = static_cast<unsigned>(row.capability.code);
    // JSON lists names, and the code as a number when the registry has no name.
    const bool named = bgp::to_string(row.capability.code) != nullptr;
    EXPECT_EQ(names.items[i].kind, named ? Json::Kind::String : Json::Kind::Scalar);
    EXPECT_EQ(names.items[i].text, row.name);
    EXPECT_EQ(ris_caps[std::to_string(code)]["name"].text, row.name);
    EXPECT_EQ(sql[i], row.text);
    EXPECT_EQ(bgp::capability_name(row.capability.code), row.name);
    EXPECT_EQ(bgp::capability_text(row.capability), row.text);
    if (row.family != nullptr) {
      families.emplace_back(row.family);
    }
  }
  EXPECT_EQ(strings_of(ris_caps["1"]["families"]), families);
}

TEST(TextOutputs, NotificationsSpellAlikeInJsonSqlAndTheSpeaker) {
  for (const auto& row : kNotifications) {
    SCOPED_TRACE(row.text);
    const Bytes message = notification_of(row);
    JsonFormatter json;
    const auto lines = dumped(json, message, true);
    ASSERT_EQ(lines.size(), 1U);
    const Json& j = lines[0];
    EXPECT_EQ(j["message_type"].text, "NOTIFICATION");
    EXPECT_EQ(j["code_name"].absent(), row.code_name == nullptr);
    EXPECT_EQ(j["code_name"].text, row.code_name != nullptr ? row.code_name : "");
    EXPECT_EQ(j["subcode_name"].absent(), row.subcode_name == nullptr);
    EXPECT_EQ(j["subcode_name"].text, row.subcode_name != nullptr ? row.subcode_name : "");

    pg::BatchBuilder builder;
    builder.add(sql_record(exporters::RecordType::PeerDown, message));
    const pg::Batch batch = builder.seal(1);
    ASSERT_EQ(batch.events.size(), 1U);
    EXPECT_EQ(batch.events[0].notification_text, row.text);

    const auto n = bgp::parse_notification(message);
    ASSERT_TRUE(n);
    const std::string logged = speaker::NotificationInfo::describe(*n);
    EXPECT_EQ(logged.substr(0, logged.find(" (")), row.text);
    EXPECT_EQ(bgp::notification_text(row.code, row.subcode), row.text);
  }
}

}  // namespace
}  // namespace bgpscribe::tools
