#include "tools/json_format.hpp"

#include <algorithm>
#include <bitset>
#include <cctype>

#include "codec/bgp/as_path.hpp"
#include "codec/bgp/capability.hpp"
#include "codec/bgp/message_types.hpp"
#include "codec/bgp/notification.hpp"
#include "codec/bgp/notification_codes.hpp"
#include "codec/bgp/open.hpp"
#include "codec/bgp/route_refresh.hpp"
#include "codec/bgp/text.hpp"
#include "codec/bgp/update.hpp"
#include "codec/mrt/bgp4mp.hpp"
#include "codec/mrt/table_dump.hpp"
#include "tools/text.hpp"

namespace bgpscribe::tools {

namespace bgp = codec::bgp;
namespace mrt = codec::mrt;
namespace wire = codec::wire;
using codec::Status;

namespace {

// A BGP4MP message's UPDATE in `update`: check_record's parse when it kept one (check.update),
// else parsed here with the context check_record settled on (path ids inferred included).
Status checked_update(const mrt::RecordCheck& check, std::span<const std::uint8_t> m,
                      std::uint64_t message_at, bgp::Update& update) {
  if (check.update) {
    return {};
  }
  return bgp::parse_update_body_into(m.subspan(bgp::kHeaderSize), check.context,
                                     static_cast<std::uint32_t>(message_at + bgp::kHeaderSize),
                                     update);
}

}  // namespace

void json_key(std::string& out, const char* name) {
  out.push_back('"');
  out += name;
  out += "\":";
}

void json_member_u64(std::string& out, const char* name, std::uint64_t v) {
  json_key(out, name);
  append_u64(out, v);
  out.push_back(',');
}

void json_member_str(std::string& out, const char* name, std::string_view v) {
  json_key(out, name);
  append_json_string(out, v);
  out.push_back(',');
}

void json_close_line(std::string& out) {
  if (!out.empty() && out.back() == ',') {
    out.back() = '}';
  } else {
    out.push_back('}');
  }
  out.push_back('\n');
}

namespace {

// The shared members under the short names this file uses throughout.
void key(std::string& out, const char* name) {
  json_key(out, name);
}
void member_u64(std::string& out, const char* name, std::uint64_t v) {
  json_member_u64(out, name, v);
}
void member_str(std::string& out, const char* name, std::string_view v) {
  json_member_str(out, name, v);
}

void member_ip(std::string& out, const char* name, const bgp::IpAddress& a) {
  key(out, name);
  out.push_back('"');
  append_ip(out, a);
  out += "\",";
}

void member_ipv4(std::string& out, const char* name, std::uint32_t v) {
  key(out, name);
  out.push_back('"');
  append_ipv4(out, v);
  out += "\",";
}

void member_hex(std::string& out, const char* name, std::span<const std::uint8_t> v) {
  key(out, name);
  out.push_back('"');
  bgp::append_hex(out, v);
  out += "\",";
}

// Replaces a trailing comma with the closing brace and ends the line.
void close_line(std::string& out) {
  json_close_line(out);
}

void close_object(std::string& out) {
  if (!out.empty() && out.back() == ',') {
    out.back() = '}';
  } else {
    out.push_back('}');
  }
  out.push_back(',');
}

void append_family(std::string& out, bgp::AfiSafi f) {
  const char* afi = bgp::to_string(f.afi);
  const char* safi = bgp::to_string(f.safi);
  key(out, "afi");
  if (afi != nullptr) {
    append_json_string(out, afi);
  } else {
    append_u64(out, static_cast<std::uint16_t>(f.afi));
  }
  out.push_back(',');
  key(out, "safi");
  if (safi != nullptr) {
    append_json_string(out, safi);
  } else {
    append_u64(out, static_cast<std::uint8_t>(f.safi));
  }
  out.push_back(',');
}

void append_timestamp(std::string& out, const mrt::Header& h) {
  key(out, "timestamp");
  append_u64(out, h.timestamp);
  out.push_back('.');
  append_padded(out, h.microseconds % 1000000, 6);
  out.push_back(',');
}

const char* state_name(std::uint16_t s) {
  static constexpr const char* kNames[] = {"Unknown",     "Idle",     "Connect",
                                           "Active",      "OpenSent", "OpenConfirm",
                                           "Established", "Clearing", "Deleted"};
  return s < 9 ? kNames[s] : "Unknown";
}

// The state members that end a state line, and the line itself.
void state_members(std::string& out, std::uint16_t old_state, std::uint16_t new_state) {
  member_str(out, "old_state", state_name(old_state));
  member_str(out, "new_state", state_name(new_state));
  member_u64(out, "old_state_code", old_state);
  member_u64(out, "new_state_code", new_state);
  close_line(out);
}

void append_prefix_member(std::string& out, const bgp::Nlri& n, bool add_path) {
  key(out, "prefix");
  out.push_back('"');
  char buf[64];
  out.append(buf, n.prefix().format(buf));
  out += "\",";
  if (add_path) {
    member_u64(out, "path_id", n.path_id);
  }
}

}  // namespace

void append_json_attributes(std::string& out, const bgp::PathAttributes& a,
                            const bgp::ParseContext& ctx, std::uint64_t offset_base) {
  using T = bgp::AttributeType;
  if (a.has(T::Origin)) {
    member_str(out, "origin", bgp::origin_name(a.origin));
  }
  if (a.has(T::AsPath)) {
    // The true path: AS4_PATH merged on 2-octet sessions (RFC 6793 4.2.3).
    const bgp::AsPath path = bgp::effective_as_path(a, ctx.four_octet_as);
    member_str(out, "as_path", bgp::to_string(path));
    if (const std::uint32_t origin_as = bgp::origin_as(path); origin_as != 0) {
      member_u64(out, "origin_as", origin_as);
    }
  }
  if (a.has(T::NextHop)) {
    member_ipv4(out, "next_hop", a.next_hop);
  }
  if (a.has(T::MpReachNlri) && a.mp_reach.next_hop.valid) {
    member_ip(out, "mp_next_hop", a.mp_reach.next_hop.global);
    if (a.mp_reach.next_hop.has_link_local) {
      member_ip(out, "mp_next_hop_link_local", a.mp_reach.next_hop.link_local);
    }
  }
  if (a.has(T::MultiExitDisc)) {
    member_u64(out, "med", a.med);
  }
  if (a.has(T::LocalPref)) {
    member_u64(out, "local_pref", a.local_pref);
  }
  if (a.has(T::AtomicAggregate)) {
    out += "\"atomic_aggregate\":true,";
  }
  if (const auto agg = bgp::effective_aggregator(a, ctx.four_octet_as)) {
    key(out, "aggregator");
    out.push_back('{');
    member_u64(out, "asn", agg->asn);
    member_ipv4(out, "address", agg->address);
    close_object(out);
  }
  if (a.has(T::Communities)) {
    key(out, "communities");
    out.push_back('[');
    for (std::size_t i = 0; i + 4 <= a.communities.size(); i += 4) {
      if (i != 0) {
        out.push_back(',');
      }
      out.push_back('"');
      bgp::append_community(out, wire::load_u32(a.communities, i));
      out.push_back('"');
    }
    out += "],";
  }
  if (a.has(T::ExtendedCommunities)) {
    key(out, "extended_communities");
    out.push_back('[');
    for (std::size_t i = 0; i + 8 <= a.extended_communities.size(); i += 8) {
      if (i != 0) {
        out.push_back(',');
      }
      out.push_back('"');
      bgp::append_extended_community(out, a.extended_communities.subspan(i, 8));
      out.push_back('"');
    }
    out += "],";
  }
  if (a.has(T::LargeCommunities)) {
    key(out, "large_communities");
    out.push_back('[');
    for (std::size_t i = 0; i + 12 <= a.large_communities.size(); i += 12) {
      if (i != 0) {
        out.push_back(',');
      }
      out.push_back('"');
      bgp::append_large_community(out, a.large_communities.subspan(i, 12));
      out.push_back('"');
    }
    out += "],";
  }
  if (a.has(T::OriginatorId)) {
    member_ipv4(out, "originator_id", a.originator_id);
  }
  if (a.has(T::ClusterList)) {
    key(out, "cluster_list");
    out.push_back('[');
    for (std::size_t i = 0; i + 4 <= a.cluster_list.size(); i += 4) {
      if (i != 0) {
        out.push_back(',');
      }
      out.push_back('"');
      append_ipv4(out, wire::load_u32(a.cluster_list, i));
      out.push_back('"');
    }
    out += "],";
  }
  if (a.has(T::Aigp)) {
    member_u64(out, "aigp", a.aigp);
  }
  if (a.has(T::Otc)) {
    member_u64(out, "otc", a.otc);
  }
  // Attributes the codec keeps raw, and known ones this format does not spell out.
  bgp::RawAttributeIterator it(a.block, a.block_offset);
  bgp::RawAttribute raw;
  bool first = true;
  while (it.next(raw)) {
    if (bgp::has_decoded_view(raw.type)) {
      continue;
    }
    if (first) {
      key(out, "other_attributes");
      out.push_back('[');
      first = false;
    } else {
      out.push_back(',');
    }
    out.push_back('{');
    member_u64(out, "type", raw.type);
    member_u64(out, "flags", raw.flags);
    member_hex(out, "value", raw.value);
    out.back() = '}';
  }
  if (!first) {
    out += "],";
  }
  if (!a.diagnostics.ok()) {
    const auto& e = a.diagnostics.strongest;
    key(out, "error");
    out.push_back('{');
    member_str(out, "message", e.message);
    member_str(out, "reaction", codec::to_string(e.reaction));
    member_u64(out, "code", e.code);
    member_u64(out, "subcode", e.subcode);
    member_u64(out, "offset", offset_base + e.offset);
    member_u64(out, "count", a.diagnostics.error_count);
    close_object(out);
  }
}

void JsonFormatter::attributes(const bgp::PathAttributes& a, std::string& out) {
  append_json_attributes(out, a, check_.context, record_offset_);
}

Status JsonFormatter::format(const mrt::Record& record, std::string& out) {
  const std::size_t mark = out.size();
  check_ = mrt::check_record(record, peers_.get(), update_);
  if (check_.verdict == mrt::Verdict::Malformed) {
    return fail(check_.problem);
  }
  if (check_.verdict == mrt::Verdict::Unsupported) {
    out += "{\"kind\":\"unsupported\",";
    append_timestamp(out, record.header);
    member_u64(out, "mrt_type", static_cast<std::uint16_t>(record.header.type));
    member_u64(out, "mrt_subtype", record.header.subtype);
    close_line(out);
    return {};
  }
  Status s;
  switch (record.header.type) {
    case mrt::Type::TableDump:
      s = table_dump(record, out);
      break;
    case mrt::Type::TableDumpV2:
      s = rib(record, out);
      break;
    case mrt::Type::Bgp4mp:
    case mrt::Type::Bgp4mpEt:
      s = bgp4mp(record, out);
      break;
    case mrt::Type::Bgp:
    case mrt::Type::Bgp4Plus:
    case mrt::Type::Bgp4Plus01:
      s = legacy_bgp(record, out);
      break;
    default:
      break;  // check_record called every other type unsupported
  }
  if (!s) {
    out.resize(mark);
  }
  return s;
}

// Every entry of the record (RFC 6396 has one; check_record counted them).
Status JsonFormatter::table_dump(const mrt::Record& record, std::string& out) {
  std::size_t pos = 0;
  for (std::uint32_t i = 0; i < check_.entries; ++i) {
    auto e = mrt::parse_table_dump_entry(record, pos);
    if (!e) {
      return fail(e.error());
    }
    const bool v6 = e->prefix.family == bgp::Afi::Ipv6;
    bgp::AttributeOptions opts;
    opts.mrt_rib = true;
    opts.rib_family = v6 ? bgp::kIpv6Unicast : bgp::kIpv4Unicast;
    // The attributes end the entry.
    const std::size_t attrs_at = record.body_offset() + pos - e->attributes.size();
    const auto attrs = bgp::parse_attributes(
        wire::Reader(e->attributes, static_cast<std::uint32_t>(attrs_at)), check_.context, opts);
    out += "{\"kind\":\"rib\",\"source\":\"TABLE_DUMP\",";
    append_timestamp(out, record.header);
    member_ip(out, "peer_ip", e->peer_ip);
    member_u64(out, "peer_as", e->peer_as);
    bgp::Prefix p{e->prefix, e->prefix_length};
    member_str(out, "prefix", p.to_string());
    append_family(out, v6 ? bgp::kIpv6Unicast : bgp::kIpv4Unicast);
    member_u64(out, "originated", e->originated_time);
    attributes(attrs, out);
    close_line(out);
  }
  return {};
}

Status JsonFormatter::rib(const mrt::Record& record, std::string& out) {
  const auto subtype = static_cast<mrt::TableDumpV2Subtype>(record.header.subtype);
  if (subtype == mrt::TableDumpV2Subtype::PeerIndexTable) {
    auto t = mrt::parse_peer_index_table(record);
    if (!t) {
      return fail(t.error());
    }
    peers_ = std::make_shared<const mrt::PeerIndexTable>(std::move(*t));
    out += "{\"kind\":\"peer_index\",";
    append_timestamp(out, record.header);
    member_ipv4(out, "collector_bgp_id", peers_->collector_bgp_id);
    member_str(out, "view_name", peers_->view_name);
    key(out, "peers");
    out.push_back('[');
    for (std::size_t i = 0; i < peers_->peers.size(); ++i) {
      const auto& peer = peers_->peers[i];
      out.push_back('{');
      member_u64(out, "index", i);
      member_ipv4(out, "bgp_id", peer.bgp_id);
      member_ip(out, "ip", peer.ip);
      member_u64(out, "as", peer.as);
      out.back() = '}';
      out.push_back(',');
    }
    if (out.back() == ',') {
      out.back() = ']';
    } else {
      out.push_back(']');
    }
    out.push_back(',');
    close_line(out);
    return {};
  }
  // check_record verified the entries and the peer index of each.
  auto r = check_.add_path_inferred ? mrt::parse_rib_with_path_ids(record) : mrt::parse_rib(record);
  if (!r) {
    return fail(r.error());
  }
  const auto family = r->family;
  const auto prefix = r->prefix();
  bgp::AttributeOptions opts;
  opts.mrt_rib = true;
  opts.rib_family = family;
  // The entries end the record: Peer Index(2) Originated Time(4) [Path Id(4)] Length(2).
  std::size_t entry_at = record.bytes.size() - r->entries.size();
  const std::size_t fixed = r->add_path() ? 12 : 8;
  for (const auto& entry : *r) {
    const auto& peer = peers_->peers[entry.peer_index];
    const auto attrs = bgp::parse_attributes(
        wire::Reader(entry.attributes, static_cast<std::uint32_t>(entry_at + fixed)),
        check_.context, opts);
    entry_at += fixed + entry.attributes.size();
    out += "{\"kind\":\"rib\",\"source\":\"TABLE_DUMP_V2\",";
    append_timestamp(out, record.header);
    member_ip(out, "peer_ip", peer.ip);
    member_u64(out, "peer_as", peer.as);
    member_ipv4(out, "peer_bgp_id", peer.bgp_id);
    if (prefix) {
      member_str(out, "prefix", prefix->to_string());
    } else {
      member_hex(out, "nlri", r->nlri);
    }
    if (r->add_path()) {
      member_u64(out, "path_id", entry.path_id);
    }
    if (check_.add_path_inferred) {
      out += "\"add_path_inferred\":true,";
    }
    append_family(out, family);
    member_u64(out, "sequence", r->sequence_number);
    member_u64(out, "originated", entry.originated_time);
    attributes(attrs, out);
    close_line(out);
  }
  return {};
}

Status JsonFormatter::message(std::span<const std::uint8_t> m, std::uint64_t message_at,
                              std::string& out) {
  if (m.size() < bgp::kHeaderSize) {
    return fail(codec::ErrorKind::Truncated, static_cast<std::uint32_t>(message_at),
                "BGP message shorter than its header");
  }
  const auto type = static_cast<bgp::MessageType>(m[18]);
  if (type == bgp::MessageType::Update) {
    // check_record parsed it with this context (path ids inferred when the NLRI need them).
    if (check_.add_path_inferred) {
      head_ += "\"add_path_inferred\":true,";
    }
    if (auto st = checked_update(check_, m, message_at, update_); !st) {
      return st;
    }
    const bgp::Update* u = &update_;
    const auto& a = u->attributes;
    if (u->end_of_rib) {
      out += '{';
      out += head_;
      out += "\"kind\":\"end_of_rib\",";
      append_family(out, u->end_of_rib_family);
      close_line(out);
      return {};
    }
    attrs_.clear();
    attributes(a, attrs_);
    auto withdrawals = [&](const bgp::NlriBlock& block) {
      if (!block.decoded()) {
        if (!block.empty()) {
          out += '{';
          out += head_;
          out += "\"kind\":\"withdraw\",";
          append_family(out, block.family());
          member_hex(out, "nlri", block.bytes());
          close_line(out);
        }
        return;
      }
      for (const auto& n : block) {
        out += '{';
        out += head_;
        out += "\"kind\":\"withdraw\",";
        append_prefix_member(out, n, block.add_path());
        append_family(out, block.family());
        close_line(out);
      }
    };
    auto announcements = [&](const bgp::NlriBlock& block) {
      if (!block.decoded()) {
        if (!block.empty()) {
          out += '{';
          out += head_;
          out += "\"kind\":\"announce\",";
          append_family(out, block.family());
          member_hex(out, "nlri", block.bytes());
          out += attrs_;
          close_line(out);
        }
        return;
      }
      for (const auto& n : block) {
        out += '{';
        out += head_;
        out += "\"kind\":\"announce\",";
        append_prefix_member(out, n, block.add_path());
        append_family(out, block.family());
        out += attrs_;
        close_line(out);
      }
    };
    withdrawals(u->withdrawn);
    if (a.has(bgp::AttributeType::MpUnreachNlri)) {
      withdrawals(a.mp_unreach.withdrawn);
    }
    announcements(u->nlri);
    if (a.has(bgp::AttributeType::MpReachNlri)) {
      announcements(a.mp_reach.nlri);
    }
    return {};
  }
  out += '{';
  out += head_;
  out += "\"kind\":\"message\",";
  const char* name = bgp::to_string(type);
  if (name != nullptr) {
    member_str(out, "message_type", name);
  } else {
    member_u64(out, "message_type", m[18]);
  }
  switch (type) {
    case bgp::MessageType::Open: {
      auto open = bgp::parse_open(m);
      if (open) {
        member_u64(out, "version", open->version);
        member_u64(out, "my_as", open->my_as);
        member_u64(out, "hold_time", open->hold_time);
        member_ipv4(out, "bgp_id", open->bgp_identifier);
        key(out, "capabilities");
        out.push_back('[');
        bool first = true;
        for (const auto& p : open->parameters) {
          for (const auto& c : p.capabilities) {
            if (!first) {
              out.push_back(',');
            }
            first = false;
            const char* cname = bgp::to_string(c.code);
            if (cname != nullptr) {
              append_json_string(out, cname);
            } else {
              append_u64(out, static_cast<std::uint8_t>(c.code));
            }
          }
        }
        out += "],";
      } else {
        member_str(out, "error", open.error().message);
      }
      break;
    }
    case bgp::MessageType::Notification: {
      auto n = bgp::parse_notification(m);
      if (n) {
        member_u64(out, "code", n->code);
        member_u64(out, "subcode", n->subcode);
        if (const char* cn = bgp::error_code_name(n->code)) {
          member_str(out, "code_name", cn);
        }
        if (const char* sn = bgp::error_subcode_name(n->code, n->subcode)) {
          member_str(out, "subcode_name", sn);
        }
        if (auto text = bgp::shutdown_communication(*n)) {
          member_str(out, "shutdown_communication", *text);
        }
        member_hex(out, "data", n->data);
      } else {
        member_str(out, "error", n.error().message);
      }
      break;
    }
    case bgp::MessageType::RouteRefresh:
    case bgp::MessageType::CiscoRouteRefresh: {
      auto rr = bgp::parse_route_refresh(m);
      if (rr) {
        append_family(out, rr->family);
        member_u64(out, "subtype", static_cast<std::uint8_t>(rr->subtype));
      } else {
        member_str(out, "error", rr.error().message);
      }
      break;
    }
    default:
      member_hex(out, "raw", m.subspan(bgp::kHeaderSize));
      break;
  }
  close_line(out);
  return {};
}

Status JsonFormatter::bgp4mp(const mrt::Record& record, std::string& out) {
  const auto subtype = static_cast<mrt::Bgp4mpSubtype>(record.header.subtype);
  head_.clear();
  append_timestamp(head_, record.header);
  if (subtype == mrt::Bgp4mpSubtype::StateChange || subtype == mrt::Bgp4mpSubtype::StateChangeAs4) {
    auto c = mrt::parse_bgp4mp_state_change(record);
    if (!c) {
      return fail(c.error());
    }
    out += '{';
    out += head_;
    out += "\"kind\":\"state\",";
    if (!c->zebra_short) {  // Zebra's 8-octet form has no addresses
      member_ip(out, "peer_ip", c->peer.peer_ip);
    }
    member_u64(out, "peer_as", c->peer.peer_as);
    if (!c->zebra_short) {
      member_ip(out, "local_ip", c->peer.local_ip);
    }
    member_u64(out, "local_as", c->peer.local_as);
    state_members(out, c->old_state, c->new_state);
    return {};
  }
  auto msg = mrt::parse_bgp4mp_message(record);
  if (!msg) {
    if (msg.error().kind == codec::ErrorKind::Unsupported) {
      return {};
    }
    return fail(msg.error());
  }
  member_ip(head_, "peer_ip", msg->peer.peer_ip);
  member_u64(head_, "peer_as", msg->peer.peer_as);
  member_ip(head_, "local_ip", msg->peer.local_ip);
  member_u64(head_, "local_as", msg->peer.local_as);
  if (msg->local()) {
    head_ += "\"direction\":\"sent\",";
  }
  return message(msg->message, record.bytes.size() - msg->message.size(), out);
}

Status JsonFormatter::legacy_bgp(const mrt::Record& record, std::string& out) {
  head_.clear();
  append_timestamp(head_, record.header);
  if (static_cast<mrt::BgpSubtype>(record.header.subtype) == mrt::BgpSubtype::StateChange) {
    auto c = mrt::parse_bgp_state_change(record);
    if (!c) {
      return fail(c.error());
    }
    out += '{';
    out += head_;
    out += "\"kind\":\"state\",";
    member_ip(out, "peer_ip", c->peer_ip);
    member_u64(out, "peer_as", c->peer_as);
    state_members(out, c->old_state, c->new_state);
    return {};
  }
  auto msg = mrt::parse_bgp_message(record);
  if (!msg) {
    if (msg.error().kind == codec::ErrorKind::Unsupported) {
      return {};
    }
    return fail(msg.error());
  }
  member_ip(head_, "peer_ip", msg->peer_ip);
  member_u64(head_, "peer_as", msg->peer_as);
  member_ip(head_, "local_ip", msg->local_ip);
  member_u64(head_, "local_as", msg->local_as);
  wire::Writer w;
  if (auto st = mrt::to_bgp_message(*msg, w); !st) {
    return st;
  }
  // The payload ends the record; the header it lacks would sit just before it.
  return message(w.bytes(), record.bytes.size() - msg->payload.size() - bgp::kHeaderSize, out);
}

// --- RIS Live ----------------------------------------------------------------------------------

namespace {

void append_ris_ip(std::string& out, const bgp::IpAddress& a) {
  out.push_back('"');
  append_ip(out, a);
  out.push_back('"');
}

// Appends `"prefix",` for each prefix.
void append_ris_prefixes(std::string& out, std::span<const bgp::Prefix> prefixes) {
  char buf[64];
  for (const auto& p : prefixes) {
    out.push_back('"');
    out.append(buf, p.format(buf));
    out += "\",";
  }
}

void end_array(std::string& out) {
  if (out.back() == ',') {
    out.back() = ']';
  } else {
    out.push_back(']');
  }
  out.push_back(',');
}

// The prefixes of a decoded block, appended to `to`; returns how many.
std::uint32_t add_prefixes(const bgp::NlriBlock& block, std::vector<bgp::Prefix>& to) {
  std::uint32_t n = 0;
  if (!block.decoded()) {
    return 0;
  }
  for (const auto& p : block) {
    to.push_back(p.prefix());
    ++n;
  }
  return n;
}

}  // namespace

void RisUpdate::clear() {
  path.clear();
  path_asns.clear();
  communities.clear();
  origin.reset();
  med.reset();
  aggregator_asn.reset();
  aggregator_address = 0;
  announcements.clear();
  announced.clear();
  withdrawn.clear();
}

void RisUpdate::set_attributes(const bgp::PathAttributes& a, bool four_octet_as) {
  using T = bgp::AttributeType;
  if (a.has(T::AsPath)) {
    const bgp::AsPath as_path = bgp::effective_as_path(a, four_octet_as);
    for (const auto& seg : as_path) {
      path.push_back(Segment{
          seg.type == bgp::AsSegmentType::AsSet || seg.type == bgp::AsSegmentType::AsConfedSet,
          static_cast<std::uint32_t>(seg.asns.size())});
      path_asns.insert(path_asns.end(), seg.asns.begin(), seg.asns.end());
    }
  }
  for (std::size_t i = 0; a.has(T::Communities) && i + 4 <= a.communities.size(); i += 4) {
    communities.push_back(wire::load_u32(a.communities, i));
  }
  if (a.has(T::Origin)) {
    origin = a.origin;
  }
  if (a.has(T::MultiExitDisc)) {
    med = a.med;
  }
  if (const auto agg = bgp::effective_aggregator(a, four_octet_as)) {
    aggregator_asn = agg->asn;
    aggregator_address = agg->address;
  }
}

void open_ris_message(std::string& out, const RisHead& head) {
  out += "{\"type\":\"ris_message\",\"data\":{";
  key(out, "timestamp");
  append_u64(out, static_cast<std::uint64_t>(head.seconds));
  out.push_back('.');
  append_padded(out, head.microseconds % 1000000, 6);
  out.push_back(',');
  key(out, "peer");
  append_ris_ip(out, head.peer);
  out.push_back(',');
  key(out, "peer_asn");
  out.push_back('"');
  append_u64(out, head.peer_asn);
  out += "\",";
  member_str(out, "id", head.id);
  member_str(out, "host", head.host);
  member_str(out, "type", head.type);
}

void append_ris_update(std::string& out, const RisUpdate& u) {
  key(out, "path");
  out.push_back('[');
  std::size_t at = 0;
  for (const auto& seg : u.path) {
    if (seg.set) {
      out.push_back('[');
    }
    for (std::uint32_t i = 0; i < seg.asns && at < u.path_asns.size(); ++i, ++at) {
      append_u64(out, u.path_asns[at]);
      out.push_back(',');
    }
    if (seg.set) {
      end_array(out);
    }
  }
  end_array(out);
  key(out, "community");
  out.push_back('[');
  for (const auto c : u.communities) {
    out.push_back('[');
    append_u64(out, c >> 16);
    out.push_back(',');
    append_u64(out, c & 0xFFFF);
    out += "],";
  }
  end_array(out);
  if (u.origin) {
    // RIS Live writes the origin in lowercase: "igp".
    std::string origin = bgp::origin_name(*u.origin);
    std::transform(origin.begin(), origin.end(), origin.begin(), [](char c) {
      return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    });
    member_str(out, "origin", origin);
  }
  if (u.med) {
    member_u64(out, "med", *u.med);
  }
  if (u.aggregator_asn) {
    key(out, "aggregator");
    out.push_back('"');
    append_u64(out, *u.aggregator_asn);
    out.push_back(':');
    append_ipv4(out, u.aggregator_address);
    out += "\",";
  }
  key(out, "announcements");
  out.push_back('[');
  const std::span<const bgp::Prefix> announced(u.announced);
  std::size_t first = 0;
  for (const auto& group : u.announcements) {
    const std::size_t n = std::min<std::size_t>(group.prefixes, announced.size() - first);
    out += "{\"next_hop\":\"";
    append_ip(out, group.next_hop);
    if (group.link_local) {
      out.push_back(',');
      append_ip(out, *group.link_local);
    }
    out += "\",\"prefixes\":[";
    append_ris_prefixes(out, announced.subspan(first, n));
    end_array(out);
    out.back() = '}';
    out.push_back(',');
    first += n;
  }
  end_array(out);
  key(out, "withdrawals");
  out.push_back('[');
  append_ris_prefixes(out, u.withdrawn);
  end_array(out);
}

void close_ris_message(std::string& out) {
  if (!out.empty() && out.back() == ',') {
    out.pop_back();
  }
  out += "}}\n";
}

void RisLiveFormatter::open_line(const mrt::Header& header, const bgp::IpAddress& peer,
                                 std::uint32_t peer_as, const char* type, std::string& out) {
  id_.clear();
  append_u64(id_, index_);
  if (line_ > 0) {
    id_.push_back('-');
    append_u64(id_, line_);
  }
  ++line_;
  open_ris_message(out,
                   RisHead{header.timestamp, header.microseconds, peer, peer_as, id_, host_, type});
}

Status RisLiveFormatter::format(const mrt::Record& record, std::string& out) {
  const std::size_t mark = out.size();
  line_ = 0;
  check_ = mrt::check_record(record, peers_.get(), update_);
  if (check_.verdict == mrt::Verdict::Malformed) {
    return fail(check_.problem);
  }
  if (check_.verdict == mrt::Verdict::Unsupported) {
    return {};  // RIS Live has no such messages; dump's note counts them
  }
  Status s;
  const auto& h = record.header;
  switch (h.type) {
    case mrt::Type::TableDump:
    case mrt::Type::TableDumpV2:
      if (h.type == mrt::Type::TableDumpV2 &&
          h.subtype == static_cast<std::uint16_t>(mrt::TableDumpV2Subtype::PeerIndexTable)) {
        auto t = mrt::parse_peer_index_table(record);
        if (!t) {
          return fail(t.error());
        }
        peers_ = std::make_shared<const mrt::PeerIndexTable>(std::move(*t));
        return {};
      }
      s = rib_entries(record, out);
      break;
    case mrt::Type::Bgp4mp:
    case mrt::Type::Bgp4mpEt: {
      const auto subtype = static_cast<mrt::Bgp4mpSubtype>(h.subtype);
      if (mrt::is_state_change(subtype)) {
        auto c = mrt::parse_bgp4mp_state_change(record);
        if (!c) {
          return fail(c.error());
        }
        // RIS Live reports a session coming up or going down, not each FSM step.
        const auto established = static_cast<std::uint16_t>(mrt::BgpState::Established);
        if (c->new_state == established || c->old_state == established) {
          open_line(h, c->peer.peer_ip, c->peer.peer_as, "RIS_PEER_STATE", out);
          member_str(out, "state", c->new_state == established ? "connected" : "down");
          close_ris_message(out);
        }
        break;
      }
      auto m = mrt::parse_bgp4mp_message(record);
      if (!m) {
        return fail(m.error());
      }
      s = message(m->message, record.bytes.size() - m->message.size(), h, m->peer.peer_ip,
                  m->peer.peer_as, m->local(), out);
      break;
    }
    case mrt::Type::Bgp:
    case mrt::Type::Bgp4Plus:
    case mrt::Type::Bgp4Plus01: {
      if (static_cast<mrt::BgpSubtype>(h.subtype) == mrt::BgpSubtype::StateChange) {
        auto c = mrt::parse_bgp_state_change(record);
        if (!c) {
          return fail(c.error());
        }
        const auto established = static_cast<std::uint16_t>(mrt::BgpState::Established);
        if (c->new_state == established || c->old_state == established) {
          open_line(h, c->peer_ip, c->peer_as, "RIS_PEER_STATE", out);
          member_str(out, "state", c->new_state == established ? "connected" : "down");
          close_ris_message(out);
        }
        break;
      }
      auto m = mrt::parse_bgp_message(record);
      if (!m) {
        return fail(m.error());
      }
      wire::Writer w;
      if (auto st = mrt::to_bgp_message(*m, w); !st) {
        return st;
      }
      s = message(w.bytes(), record.bytes.size() - m->payload.size() - bgp::kHeaderSize, h,
                  m->peer_ip, m->peer_as, false, out);
      break;
    }
    default:
      break;
  }
  if (!s) {
    out.resize(mark);
  }
  return s;
}

Status RisLiveFormatter::message(std::span<const std::uint8_t> m, std::uint64_t message_at,
                                 const mrt::Header& header, const bgp::IpAddress& peer,
                                 std::uint32_t peer_as, bool sent, std::string& out) {
  const auto type = static_cast<bgp::MessageType>(m[18]);
  switch (type) {
    case bgp::MessageType::Update: {
      // check_record parsed it with this context.
      if (auto st = checked_update(check_, m, message_at, update_); !st) {
        return st;
      }
      const bgp::Update& u = update_;
      const auto& a = u.attributes;
      ris_.clear();
      ris_.set_attributes(a, check_.context.four_octet_as);
      // Announcements grouped by next hop: the NLRI field's NEXT_HOP, MP_REACH_NLRI's own.
      if (const auto n = add_prefixes(u.nlri, ris_.announced); n > 0) {
        ris_.announcements.push_back({bgp::IpAddress::v4(a.next_hop), std::nullopt, n});
      }
      if (a.has(bgp::AttributeType::MpReachNlri)) {
        if (const auto n = add_prefixes(a.mp_reach.nlri, ris_.announced); n > 0) {
          const auto& nh = a.mp_reach.next_hop;
          ris_.announcements.push_back(
              {nh.global, nh.has_link_local ? std::optional(nh.link_local) : std::nullopt, n});
        }
      }
      add_prefixes(u.withdrawn, ris_.withdrawn);
      if (a.has(bgp::AttributeType::MpUnreachNlri)) {
        add_prefixes(a.mp_unreach.withdrawn, ris_.withdrawn);
      }
      open_line(header, peer, peer_as, "UPDATE", out);
      append_ris_update(out, ris_);
      close_ris_message(out);
      return {};
    }
    case bgp::MessageType::Keepalive:
      open_line(header, peer, peer_as, "KEEPALIVE", out);
      close_ris_message(out);
      return {};
    case bgp::MessageType::Open: {
      auto open = bgp::parse_open(m);
      if (!open) {
        return {};  // RIS Live has no form for an OPEN it cannot read
      }
      open_line(header, peer, peer_as, "OPEN", out);
      member_str(out, "direction", sent ? "sent" : "received");
      member_u64(out, "version", open->version);
      // RIS Live keys capabilities by code, once each; multiprotocol lists its families.
      std::uint32_t asn = open->my_as;
      std::string families;
      std::size_t families_at = std::string::npos;
      std::bitset<256> shown;
      key(out, "capabilities");
      out.push_back('{');
      for (const auto& p : open->parameters) {
        for (const auto& c : p.capabilities) {
          if (const auto* as4 = std::get_if<bgp::FourOctetAsCapability>(&c.value)) {
            asn = as4->asn;
          }
          if (const auto* mp = std::get_if<bgp::MultiprotocolCapability>(&c.value)) {
            append_json_string(families, bgp::family_text(mp->family));
            families.push_back(',');
          }
          const auto code = static_cast<std::uint8_t>(c.code);
          if (shown[code]) {
            continue;
          }
          shown[code] = true;
          out.push_back('"');
          append_u64(out, code);
          out += "\":{";
          member_str(out, "name", bgp::capability_name(c.code));
          if (code == 1) {
            out += "\"families\":[";
            families_at = out.size();
            out += "],";
          }
          close_object(out);
        }
      }
      close_object(out);
      if (families_at != std::string::npos && !families.empty()) {
        families.pop_back();  // the last comma
        out.insert(families_at, families);
      }
      member_u64(out, "asn", asn);
      member_u64(out, "hold_time", open->hold_time);
      member_ipv4(out, "router_id", open->bgp_identifier);
      close_ris_message(out);
      return {};
    }
    case bgp::MessageType::Notification: {
      auto n = bgp::parse_notification(m);
      if (!n) {
        return {};
      }
      open_line(header, peer, peer_as, "NOTIFICATION", out);
      out += "\"notification\":{";
      member_u64(out, "code", n->code);
      member_u64(out, "subcode", n->subcode);
      member_hex(out, "data", n->data);
      close_object(out);
      close_ris_message(out);
      return {};
    }
    default:
      return {};  // ROUTE-REFRESH and unknown types: RIS Live shows none
  }
}

// One UPDATE per RIB entry, announcing the entry's prefix (TABLE_DUMP and TABLE_DUMP_V2).
Status RisLiveFormatter::rib_entries(const mrt::Record& record, std::string& out) {
  const auto& h = record.header;
  bgp::AttributeOptions opts;
  opts.mrt_rib = true;
  auto announce = [&](const bgp::IpAddress& peer, std::uint32_t peer_as,
                      const bgp::PathAttributes& a, const bgp::Prefix& prefix) {
    ris_.clear();
    ris_.set_attributes(a, check_.context.four_octet_as);
    const bool mp = a.has(bgp::AttributeType::MpReachNlri) && a.mp_reach.next_hop.valid;
    if (mp) {
      const auto& nh = a.mp_reach.next_hop;
      ris_.announcements.push_back(
          {nh.global, nh.has_link_local ? std::optional(nh.link_local) : std::nullopt, 1});
    } else {
      ris_.announcements.push_back({bgp::IpAddress::v4(a.next_hop), std::nullopt, 1});
    }
    ris_.announced.push_back(prefix);
    open_line(h, peer, peer_as, "UPDATE", out);
    append_ris_update(out, ris_);
    close_ris_message(out);
  };
  if (h.type == mrt::Type::TableDump) {
    std::size_t pos = 0;
    for (std::uint32_t i = 0; i < check_.entries; ++i) {
      auto e = mrt::parse_table_dump_entry(record, pos);
      if (!e) {
        return fail(e.error());
      }
      opts.rib_family = e->prefix.is_v4() ? bgp::kIpv4Unicast : bgp::kIpv6Unicast;
      const auto attrs = bgp::parse_attributes(wire::Reader(e->attributes), check_.context, opts);
      announce(e->peer_ip, e->peer_as, attrs, bgp::Prefix{e->prefix, e->prefix_length});
    }
    return {};
  }
  auto r = check_.add_path_inferred ? mrt::parse_rib_with_path_ids(record) : mrt::parse_rib(record);
  if (!r) {
    return fail(r.error());
  }
  const auto prefix = r->prefix();
  if (!prefix) {
    return {};  // families RIS Live cannot show as a prefix
  }
  opts.rib_family = r->family;
  for (const auto& entry : *r) {
    const auto& peer = peers_->peers[entry.peer_index];
    const auto attrs = bgp::parse_attributes(wire::Reader(entry.attributes), check_.context, opts);
    announce(peer.ip, peer.as, attrs, *prefix);
  }
  return {};
}

}  // namespace bgpscribe::tools
