#include "tools/bmp_input.hpp"

#include <algorithm>
#include <cstdio>
#include <string_view>
#include <variant>

#include "codec/bgp/message.hpp"
#include "codec/bgp/open.hpp"
#include "codec/bmp/context.hpp"
#include "codec/mrt/bgp4mp.hpp"
#include "codec/wire/reader.hpp"
#include "tools/json_format.hpp"

namespace bgpscribe::tools {

namespace bgp = codec::bgp;
namespace bmp = codec::bmp;
namespace mrt = codec::mrt;
namespace wire = codec::wire;

namespace {

constexpr std::uint32_t kAsTrans = 23456;  // RFC 6793 section 9
// Where the BGP PDU of a version 3 Route Monitoring starts (RFC 7854 sections 4.1, 4.2, 4.6).
constexpr std::uint64_t kRouteMonitoringPduAt = bmp::kCommonHeaderSize + bmp::kPerPeerHeaderSize;

codec::Error error_at(std::uint64_t offset, const char* message) {
  return codec::Error{codec::ErrorKind::BadValue,         0,      0, codec::Reaction::None,
                      static_cast<std::uint32_t>(offset), message};
}

// Which families an UPDATE's NLRI belong to, as far as ADD-PATH goes (RFC 4271 section 4.3,
// RFC 4760 sections 3-4): the result says whether every family present has path identifiers
// in `ctx` (Yes), none has (No), or some have and some not (Mixed). Unreadable UPDATEs are
// left to the formatters' checks: then the answer is ctx.any_add_path().
enum class AddPath : std::uint8_t { No, Yes, Mixed };

AddPath add_path_of(bmp::Bytes update, const bgp::ParseContext& ctx) {
  if (!ctx.any_add_path()) {
    return AddPath::No;
  }
  const AddPath fallback = AddPath::Yes;
  if (update.size() < bgp::kHeaderSize) {
    return fallback;
  }
  bool with = false;
  bool without = false;
  auto note = [&](const bgp::AfiSafi& f) { (ctx.add_path(f) ? with : without) = true; };
  wire::Reader r(update.subspan(bgp::kHeaderSize));
  const auto withdrawn_length = r.u16();
  if (!withdrawn_length || !r.skip(*withdrawn_length)) {
    return fallback;
  }
  if (*withdrawn_length > 0) {
    note(bgp::kIpv4Unicast);
  }
  const auto attributes_length = r.u16();
  if (!attributes_length) {
    return fallback;
  }
  auto attributes = r.sub(*attributes_length);
  if (!attributes) {
    return fallback;
  }
  if (r.remaining() > 0) {
    note(bgp::kIpv4Unicast);
  }
  while (attributes->remaining() > 0) {
    const auto flags = attributes->u8();
    const auto type = attributes->u8();
    if (!flags || !type) {
      return fallback;
    }
    std::size_t length = 0;
    if ((*flags & 0x10) != 0) {  // Extended Length
      const auto l = attributes->u16();
      if (!l) {
        return fallback;
      }
      length = *l;
    } else {
      const auto l = attributes->u8();
      if (!l) {
        return fallback;
      }
      length = *l;
    }
    auto value = attributes->sub(length);
    if (!value) {
      return fallback;
    }
    if (*type == 14 || *type == 15) {  // MP_REACH_NLRI, MP_UNREACH_NLRI
      const auto afi = value->u16();
      const auto safi = value->u8();
      if (!afi || !safi) {
        return fallback;
      }
      note(bgp::AfiSafi{static_cast<bgp::Afi>(*afi), static_cast<bgp::Safi>(*safi)});
    }
  }
  if (with && without) {
    return AddPath::Mixed;
  }
  return with ? AddPath::Yes : AddPath::No;
}

mrt::Bgp4mpSubtype message_subtype(bool as4, bool add_path) {
  if (add_path) {
    return as4 ? mrt::Bgp4mpSubtype::MessageAs4Addpath : mrt::Bgp4mpSubtype::MessageAddpath;
  }
  return as4 ? mrt::Bgp4mpSubtype::MessageAs4 : mrt::Bgp4mpSubtype::Message;
}

void append_u64(std::string& out, std::uint64_t v) {
  out += std::to_string(v);
}

void append_timestamp(std::string& out, std::uint32_t seconds, std::uint32_t microseconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%u.%06u", seconds, microseconds % 1000000U);
  out += "\"timestamp\":";
  out += buf;
}

void append_hex(std::string& out, bmp::Bytes bytes) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  for (const auto b : bytes) {
    out.push_back(kHex[b >> 4U]);
    out.push_back(kHex[b & 0x0FU]);
  }
}

// A TLV value as a JSON string when it is printable text (RFC 7854 section 4.4 says UTF-8),
// else as hex.
void append_tlv_value(std::string& out, bmp::Bytes value) {
  const bool text = std::all_of(value.begin(), value.end(), [](std::uint8_t c) {
    return (c >= 0x20 && c < 0x7F) || c == '\n' || c == '\r' || c == '\t';
  });
  if (text) {
    std::string s(value.begin(), value.end());
    append_json_string(out, s);
  } else {
    out += "\"0x";
    append_hex(out, value);
    out += '"';
  }
}

void append_information(std::string& out, const std::vector<bmp::Tlv>& tlvs, bool termination) {
  out += ",\"information\":[";
  bool first = true;
  for (const auto& t : tlvs) {
    if (!first) {
      out += ',';
    }
    first = false;
    out += "{\"type\":";
    append_u64(out, t.type);
    const char* name = nullptr;
    if (termination) {
      name = t.type == 0 ? "string" : (t.type == 1 ? "reason" : nullptr);
    } else {
      name = bmp::to_string(static_cast<bmp::InformationType>(t.type));
    }
    if (name != nullptr) {
      out += ",\"name\":";
      append_json_string(out, name);
    }
    out += ",\"value\":";
    append_tlv_value(out, t.value);
    out += '}';
  }
  out += ']';
}

}  // namespace

bool looks_like_bmp(wire::Bytes head) {
  if (head.size() < bmp::kCommonHeaderSize || head[0] != bmp::kVersion) {
    return false;
  }
  const auto f = bmp::frame(head.subspan(0, bmp::kCommonHeaderSize));
  if (f.status == bgp::FrameStatus::Broken) {
    return false;
  }
  const auto type = head[5];
  return type <= static_cast<std::uint8_t>(bmp::MessageType::RouteMirroring);
}

BmpConverter::PeerKey BmpConverter::key_of(const bmp::PerPeerHeader& peer) {
  PeerKey k{};
  k[0] = static_cast<std::uint8_t>(peer.peer_type);
  for (std::size_t i = 0; i < peer.distinguisher.size(); ++i) {
    k[1 + i] = peer.distinguisher[i];
  }
  for (std::size_t i = 0; i < peer.address.size(); ++i) {
    k[1 + peer.distinguisher.size() + i] = peer.address[i];
  }
  return k;
}

void BmpConverter::note_time(const bmp::PerPeerHeader& peer) {
  last_seconds_ = peer.timestamp_seconds;
  last_microseconds_ = peer.timestamp_microseconds;
}

void BmpConverter::convert(wire::Bytes message, std::vector<std::uint8_t>& record,
                           std::string& line, BmpConversion& out) {
  out = BmpConversion{};
  auto parsed = bmp::parse_message(message);
  if (!parsed) {
    out.has_problem = true;
    out.problem = parsed.error();
    return;
  }
  if (const auto* rm = std::get_if<bmp::RouteMonitoring>(&*parsed)) {
    note_time(rm->peer);
    route_monitoring(*rm, record, out);
  } else if (const auto* up = std::get_if<bmp::PeerUp>(&*parsed)) {
    note_time(up->peer);
    peer_up(*up, record, out);
  } else if (const auto* down = std::get_if<bmp::PeerDown>(&*parsed)) {
    note_time(down->peer);
    peer_down(*down, record, out);
  } else if (json_) {
    json_line(*parsed, line);
    out.kind = BmpConversion::Kind::Line;
  }
}

void BmpConverter::route_monitoring(const bmp::RouteMonitoring& m,
                                    std::vector<std::uint8_t>& record, BmpConversion& out) {
  const auto key = key_of(m.peer);
  auto it = peers_.find(key);
  if (it == peers_.end()) {
    // RFC 7854 section 4.10 has the Peer Up first; a capture that starts mid-stream does not.
    it = peers_.emplace(key, PeerState{}).first;
    out.has_problem = true;
    out.warning = true;
    out.problem = error_at(bmp::kCommonHeaderSize,
                           "Route Monitoring for a peer without Peer Up: decoded with 4-octet AS "
                           "per the A flag and no ADD-PATH");
  }
  PeerState& state = it->second;
  bgp::ParseContext ctx = state.context;
  if (!state.peer_up) {
    ctx = bgp::ParseContext{};
  }
  ctx.four_octet_as = !m.peer.legacy_as_path();
  const AddPath add_path = add_path_of(m.update, ctx);
  if (add_path == AddPath::Mixed) {
    out.has_problem = true;
    out.warning = false;
    out.problem = error_at(kRouteMonitoringPduAt,
                           "UPDATE mixes families with and without ADD-PATH path identifiers, "
                           "which no MRT subtype can say: skipped");
    return;
  }
  mrt::Bgp4mpMessage r;
  r.subtype = message_subtype(ctx.four_octet_as, add_path == AddPath::Yes);
  r.peer.peer_ip = m.peer.peer_address();
  r.peer.peer_as = m.peer.peer_as;
  r.peer.local_as = state.local_as;
  if (state.peer_up && state.local_ip.family == r.peer.peer_ip.family) {
    r.peer.local_ip = state.local_ip;
  } else {
    r.peer.local_ip = bgp::IpAddress{};
    r.peer.local_ip.family = r.peer.peer_ip.family;
  }
  if (!ctx.four_octet_as) {
    r.peer.peer_as = r.peer.peer_as > 0xFFFF ? kAsTrans : r.peer.peer_as;
    r.peer.local_as = r.peer.local_as > 0xFFFF ? kAsTrans : r.peer.local_as;
  }
  r.message = m.update;
  writer_.clear();
  if (auto st = mrt::encode(
          r,
          mrt::Timestamp{m.peer.timestamp_seconds, m.peer.timestamp_microseconds % 1000000U, true},
          writer_);
      !st) {
    out.has_problem = true;
    out.warning = false;
    out.problem = error_at(kRouteMonitoringPduAt, st.error().message);
    return;
  }
  const auto bytes = writer_.bytes();
  record.insert(record.end(), bytes.begin(), bytes.end());
  out.kind = BmpConversion::Kind::Record;
  out.record_message_at = bytes.size() - m.update.size();
  out.bmp_message_at = kRouteMonitoringPduAt;
  if (json_) {
    append_members(m.peer, out.json_members);
    if (!state.peer_up) {
      // Close the bmp object again with one more member.
      out.json_members.pop_back();
      out.json_members += ",\"default_context\":true}";
    }
  }
}

void BmpConverter::peer_up(const bmp::PeerUp& m, std::vector<std::uint8_t>& record,
                           BmpConversion& out) {
  auto ctx = bmp::route_monitoring_context(m, m.peer);
  if (!ctx) {
    out.has_problem = true;
    out.problem = ctx.error();
    out.problem.message = "Peer Up whose OPEN messages do not parse: peer not recorded";
    return;
  }
  PeerState state;
  state.peer_up = true;
  state.context = *ctx;
  state.local_ip = m.local_ip();
  if (auto sent = bgp::parse_open(m.sent_open)) {
    state.local_as = bgp::real_as(*sent);
  }
  const auto& stored = peers_.insert_or_assign(key_of(m.peer), state).first->second;
  state_change(m.peer, &stored, static_cast<std::uint16_t>(mrt::BgpState::OpenConfirm),
               static_cast<std::uint16_t>(mrt::BgpState::Established), record, out);
}

void BmpConverter::peer_down(const bmp::PeerDown& m, std::vector<std::uint8_t>& record,
                             BmpConversion& out) {
  const auto key = key_of(m.peer);
  const auto it = peers_.find(key);
  const PeerState state = it != peers_.end() ? it->second : PeerState{};
  if (it != peers_.end()) {
    peers_.erase(it);
  }
  state_change(m.peer, &state, static_cast<std::uint16_t>(mrt::BgpState::Established),
               static_cast<std::uint16_t>(mrt::BgpState::Idle), record, out);
  if (json_ && out.kind == BmpConversion::Kind::Record) {
    out.json_members.pop_back();
    out.json_members += ",\"peer_down_reason\":";
    append_u64(out.json_members, static_cast<std::uint8_t>(m.reason));
    if (const char* name = bmp::to_string(m.reason)) {
      out.json_members += ",\"peer_down_reason_name\":";
      append_json_string(out.json_members, name);
    }
    out.json_members += '}';
  }
}

void BmpConverter::state_change(const bmp::PerPeerHeader& peer, const PeerState* state,
                                std::uint16_t old_state, std::uint16_t new_state,
                                std::vector<std::uint8_t>& record, BmpConversion& out) {
  mrt::Bgp4mpStateChange c;
  c.subtype = mrt::Bgp4mpSubtype::StateChangeAs4;
  c.peer.peer_ip = peer.peer_address();
  c.peer.peer_as = peer.peer_as;
  c.peer.local_ip.family = c.peer.peer_ip.family;
  if (state != nullptr && state->peer_up) {
    c.peer.local_as = state->local_as;
    if (state->local_ip.family == c.peer.peer_ip.family) {
      c.peer.local_ip = state->local_ip;
    }
  }
  c.old_state = old_state;
  c.new_state = new_state;
  writer_.clear();
  if (auto st = mrt::encode(
          c, mrt::Timestamp{peer.timestamp_seconds, peer.timestamp_microseconds % 1000000U, true},
          writer_);
      !st) {
    out.has_problem = true;
    out.problem = error_at(bmp::kCommonHeaderSize, st.error().message);
    return;
  }
  const auto bytes = writer_.bytes();
  record.insert(record.end(), bytes.begin(), bytes.end());
  out.kind = BmpConversion::Kind::Record;
  if (json_) {
    append_members(peer, out.json_members);
  }
}

void BmpConverter::append_members(const bmp::PerPeerHeader& peer, std::string& out) const {
  out += ",\"bmp\":{\"peer_type\":";
  if (const char* name = bmp::to_string(peer.peer_type)) {
    append_json_string(out, name);
  } else {
    append_u64(out, static_cast<std::uint8_t>(peer.peer_type));
  }
  if (peer.peer_type != bmp::PeerType::GlobalInstance) {
    out += ",\"distinguisher\":\"";
    append_hex(out, peer.distinguisher);
    out += '"';
  }
  out += ",\"peer_bgp_id\":";
  append_json_string(out, bgp::IpAddress::v4(peer.bgp_identifier).to_string());
  if (peer.is_loc_rib()) {
    out += peer.loc_rib_filtered() ? ",\"filtered\":true" : ",\"filtered\":false";
  } else {
    out += peer.post_policy() ? ",\"post_policy\":true" : ",\"post_policy\":false";
    out += peer.adj_rib_out() ? ",\"adj_rib_out\":true" : ",\"adj_rib_out\":false";
  }
  out += '}';
}

void BmpConverter::json_line(const bmp::Message& m, std::string& line) {
  line += '{';
  const bmp::PerPeerHeader* peer = nullptr;
  if (const auto* s = std::get_if<bmp::StatisticsReport>(&m)) {
    peer = &s->peer;
  } else if (const auto* mirror = std::get_if<bmp::RouteMirroring>(&m)) {
    peer = &mirror->peer;
  }
  if (peer != nullptr) {
    note_time(*peer);
  }
  append_timestamp(line, last_seconds_, last_microseconds_);
  if (std::holds_alternative<bmp::StatisticsReport>(m)) {
    line += ",\"kind\":\"bmp_stats\"";
  } else if (std::holds_alternative<bmp::Initiation>(m)) {
    line += ",\"kind\":\"bmp_initiation\"";
  } else if (std::holds_alternative<bmp::Termination>(m)) {
    line += ",\"kind\":\"bmp_termination\"";
  } else if (std::holds_alternative<bmp::RouteMirroring>(m)) {
    line += ",\"kind\":\"bmp_route_mirroring\"";
  } else {
    line += ",\"kind\":\"bmp_unsupported\"";
  }
  if (peer != nullptr) {
    line += ",\"peer_ip\":";
    append_json_string(line, peer->peer_address().to_string());
    line += ",\"peer_as\":";
    append_u64(line, peer->peer_as);
    append_members(*peer, line);
  }
  if (const auto* s = std::get_if<bmp::StatisticsReport>(&m)) {
    line += ",\"stats\":[";
    bool first = true;
    for (const auto& stat : s->stats) {
      if (!first) {
        line += ',';
      }
      first = false;
      line += "{\"type\":";
      append_u64(line, static_cast<std::uint16_t>(stat.type));
      if (const char* name = bmp::to_string(stat.type)) {
        line += ",\"name\":";
        append_json_string(line, name);
      }
      if (stat.kind == bmp::StatKind::Unknown) {
        line += ",\"value\":\"0x";
        append_hex(line, stat.raw);
        line += '"';
      } else {
        if (stat.kind == bmp::StatKind::AfiSafiGauge64) {
          line += ",\"afi\":";
          append_u64(line, static_cast<std::uint16_t>(stat.family.afi));
          line += ",\"safi\":";
          append_u64(line, static_cast<std::uint8_t>(stat.family.safi));
        }
        line += ",\"value\":";
        append_u64(line, stat.value);
      }
      line += '}';
    }
    line += ']';
  } else if (const auto* i = std::get_if<bmp::Initiation>(&m)) {
    append_information(line, i->information, false);
  } else if (const auto* t = std::get_if<bmp::Termination>(&m)) {
    append_information(line, t->information, true);
  } else if (const auto* mirror = std::get_if<bmp::RouteMirroring>(&m)) {
    line += ",\"tlvs\":[";
    bool first = true;
    for (const auto& tlv : mirror->tlvs) {
      if (!first) {
        line += ',';
      }
      first = false;
      line += "{\"type\":";
      append_u64(line, tlv.type);
      line += ",\"value\":\"0x";
      append_hex(line, tlv.value);
      line += "\"}";
    }
    line += ']';
  } else if (const auto* raw = std::get_if<bmp::RawMessage>(&m)) {
    line += ",\"bmp_version\":";
    append_u64(line, raw->version);
    line += ",\"bmp_type\":";
    append_u64(line, static_cast<std::uint8_t>(raw->type));
  }
  line += "}\n";
}

}  // namespace bgpscribe::tools
