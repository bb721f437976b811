#include "tools/api_client.hpp"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <exception>
#include <filesystem>
#include <memory>
#include <string_view>
#include <thread>

#include "bgpscribe/v1/api.grpc.pb.h"
#include "codec/bgp/as_path.hpp"
#include "codec/bgp/attribute_types.hpp"
#include "codec/bgp/ip.hpp"
#include "codec/bgp/text.hpp"
#include "codec/bmp/types.hpp"
#include "collector/config/config.hpp"
#include "tools/json_format.hpp"
#include "tools/text.hpp"

namespace bgpscribe::tools {

namespace bgp = codec::bgp;

namespace {

// Status and Rib answer from memory; a collector that takes longer is not answering.
constexpr auto kCallDeadline = std::chrono::seconds(3);
constexpr std::size_t kLastErrorWidth = 48;

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// --- Text pieces ---------------------------------------------------------------------------------

// "2023-11-14T22:13:20Z", with ".123456" before the Z when `micro`.
void append_iso_time(std::string& out, std::int64_t us, bool micro) {
  const std::int64_t seconds = us >= 0 ? us / 1000000 : (us - 999999) / 1000000;
  const auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  append_padded(out, static_cast<std::uint64_t>(tm.tm_year) + 1900, 4);
  out.push_back('-');
  append_padded(out, static_cast<std::uint64_t>(tm.tm_mon) + 1, 2);
  out.push_back('-');
  append_padded(out, static_cast<std::uint64_t>(tm.tm_mday), 2);
  out.push_back('T');
  append_padded(out, static_cast<std::uint64_t>(tm.tm_hour), 2);
  out.push_back(':');
  append_padded(out, static_cast<std::uint64_t>(tm.tm_min), 2);
  out.push_back(':');
  append_padded(out, static_cast<std::uint64_t>(tm.tm_sec), 2);
  if (micro) {
    out.push_back('.');
    append_padded(out, static_cast<std::uint64_t>(us - seconds * 1000000), 6);
  }
  out.push_back('Z');
}

// api.proto numbers segment types from 0 (AS_SET); the codec keeps RFC 4271's 1.
std::string as_path_text(const v1::Attributes& a) {
  bgp::AsPath path;
  path.reserve(static_cast<std::size_t>(a.as_path_size()));
  for (const auto& s : a.as_path()) {
    bgp::AsSegment segment;
    segment.type = static_cast<bgp::AsSegmentType>(static_cast<int>(s.type()) + 1);
    segment.asns.assign(s.asns().begin(), s.asns().end());
    path.push_back(std::move(segment));
  }
  return bgp::to_string(path);
}

const char* origin_text(const v1::Attributes& a) {
  return bgp::origin_name(static_cast<bgp::Origin>(a.origin()));
}

// The names dump --json gives the MRT states (RFC 6396 4.4.1), which PeerEvent.State follows.
const char* state_name(int state) {
  static constexpr const char* kNames[] = {"Unknown",  "Idle",        "Connect",    "Active",
                                           "OpenSent", "OpenConfirm", "Established"};
  return state >= 0 && state < 7 ? kNames[state] : "Unknown";
}

const char* decision_name(v1::Decision d) {
  switch (d) {
    case v1::ACCEPTED:
      return "accepted";
    case v1::TREAT_AS_WITHDRAW:
      return "treat-as-withdraw";  // codec::to_string(Reaction), as dump --json's `reaction`
    case v1::ATTRIBUTE_DISCARDED:
      return "attribute-discard";
    case v1::NOT_APPLIED:
      return "not-applied";
    default:
      return "unknown";
  }
}

// Protobuf `bytes` are a std::string; the codec spells octets.
void append_hex(std::string& out, const std::string& bytes) {
  const std::vector<std::uint8_t> octets(bytes.begin(), bytes.end());
  bgp::append_hex(out, octets);
}

void append_joined(std::string& out, const google::protobuf::RepeatedPtrField<std::string>& v,
                   char separator) {
  for (int i = 0; i < v.size(); ++i) {
    if (i != 0) {
      out.push_back(separator);
    }
    out += v[i];
  }
}

// "name address", or the address alone when the peer is named after it.
void append_peer_text(std::string& out, const v1::Peer& p) {
  if (!p.name().empty() && p.name() != p.address()) {
    out += p.name();
    out.push_back(' ');
  }
  out += p.address();
  out += " AS";
  append_u64(out, p.asn());
}

// The attributes as keyword-value words, each preceded by a space.
void append_attribute_words(std::string& out, const v1::Attributes& a) {
  if (a.as_path_size() > 0) {
    out += " path ";
    out += as_path_text(a);
  }
  if (!a.next_hop().empty()) {
    out += " next-hop ";
    out += a.next_hop();
  }
  if (!a.next_hop_link_local().empty()) {
    out += " link-local ";
    out += a.next_hop_link_local();
  }
  if (a.has_origin()) {
    out += " origin ";
    out += origin_text(a);
  }
  if (a.has_med()) {
    out += " med ";
    append_u64(out, a.med());
  }
  if (a.has_local_pref()) {
    out += " local-pref ";
    append_u64(out, a.local_pref());
  }
  if (a.atomic_aggregate()) {
    out += " atomic-aggregate";
  }
  if (a.has_aggregator_asn()) {
    out += " aggregator ";
    append_u64(out, a.aggregator_asn());
    out.push_back(' ');
    out += a.aggregator_address();
  }
  if (a.communities_size() > 0) {
    out += " communities ";
    append_joined(out, a.communities(), ',');
  }
  if (a.extended_communities_size() > 0) {
    out += " extended-communities ";
    append_joined(out, a.extended_communities(), ',');
  }
  if (a.large_communities_size() > 0) {
    out += " large-communities ";
    append_joined(out, a.large_communities(), ',');
  }
  if (!a.originator_id().empty()) {
    out += " originator-id ";
    out += a.originator_id();
  }
  if (a.cluster_list_size() > 0) {
    out += " cluster-list ";
    append_joined(out, a.cluster_list(), ',');
  }
  if (a.has_aigp()) {
    out += " aigp ";
    append_u64(out, a.aigp());
  }
  if (a.has_otc()) {
    out += " otc ";
    append_u64(out, a.otc());
  }
  for (const auto& o : a.other_attributes()) {
    out += " attribute ";
    append_u64(out, o.type());
    out.push_back(':');
    append_u64(out, o.flags());
    out.push_back(':');
    append_hex(out, o.value());
  }
}

// --- JSON pieces (the members of tools/json_format.cpp, same names and spellings) ---------------

void key(std::string& out, const char* name) {
  json_key(out, name);
}
void member_u64(std::string& out, const char* name, std::uint64_t v) {
  json_member_u64(out, name, v);
}
void member_str(std::string& out, const char* name, std::string_view v) {
  json_member_str(out, name, v);
}

void member_strings(std::string& out, const char* name,
                    const google::protobuf::RepeatedPtrField<std::string>& v) {
  key(out, name);
  out.push_back('[');
  for (int i = 0; i < v.size(); ++i) {
    if (i != 0) {
      out.push_back(',');
    }
    append_json_string(out, v[i]);
  }
  out += "],";
}

void member_hex(std::string& out, const char* name, const std::string& bytes) {
  key(out, name);
  out.push_back('"');
  append_hex(out, bytes);
  out += "\",";
}

// Seconds with six decimals, as every dump --json line has it.
void member_timestamp(std::string& out, std::int64_t us) {
  us = std::max<std::int64_t>(us, 0);
  key(out, "timestamp");
  append_i64(out, us / 1000000);
  out.push_back('.');
  append_padded(out, static_cast<std::uint64_t>(us % 1000000), 6);
  out.push_back(',');
}

void end_line(std::string& out) {
  json_close_line(out);
}

void member_family(std::string& out, std::uint32_t afi, std::uint32_t safi) {
  key(out, "afi");
  if (const char* name = bgp::to_string(static_cast<bgp::Afi>(afi)); name != nullptr) {
    append_json_string(out, name);
  } else {
    append_u64(out, afi);
  }
  out.push_back(',');
  key(out, "safi");
  if (const char* name = bgp::to_string(static_cast<bgp::Safi>(safi)); name != nullptr) {
    append_json_string(out, name);
  } else {
    append_u64(out, safi);
  }
  out.push_back(',');
}

// peer_ip, peer_as, local_ip, local_as: dump --json's session members.
void session_members(std::string& out, const v1::Peer& p) {
  member_str(out, "peer_ip", p.address());
  member_u64(out, "peer_as", p.asn());
  if (!p.local_address().empty()) {
    member_str(out, "local_ip", p.local_address());
  }
  member_u64(out, "local_as", p.local_asn());
}

// What dump --json has no member for: the collector's peer key and name, and for BMP sources
// the `bmp` member (dump's peer_type, distinguisher, post_policy) with the reporting router.
void peer_additions(std::string& out, const v1::Peer& p) {
  member_u64(out, "peer_id", p.id());
  if (!p.name().empty()) {
    member_str(out, "peer_name", p.name());
  }
  if (p.router().empty() && p.router_address().empty()) {
    return;
  }
  key(out, "bmp");
  out.push_back('{');
  key(out, "peer_type");
  const auto type = static_cast<codec::bmp::PeerType>(p.bmp_peer_type());
  if (const char* name = codec::bmp::to_string(type); name != nullptr) {
    append_json_string(out, name);
  } else {
    append_u64(out, p.bmp_peer_type());
  }
  out.push_back(',');
  if (type != codec::bmp::PeerType::GlobalInstance) {
    key(out, "distinguisher");
    out.push_back('"');
    std::uint8_t rd[8];
    for (int i = 0; i < 8; ++i) {
      rd[i] = static_cast<std::uint8_t>(p.distinguisher() >> (56 - 8 * i));
    }
    bgp::append_hex(out, rd);
    out += "\",";
  }
  out += p.post_policy() ? "\"post_policy\":true," : "\"post_policy\":false,";
  member_str(out, "router", p.router());
  member_str(out, "router_address", p.router_address());
  out.back() = '}';
  out.push_back(',');
}

// dump --json's attribute members. The Event carries one next hop: it is `next_hop` (the
// NEXT_HOP attribute) for an IPv4 unicast route with an IPv4 next hop, else `mp_next_hop`.
void attribute_members(std::string& out, const v1::Attributes& a, bool ipv4_unicast) {
  if (a.has_origin()) {
    member_str(out, "origin", origin_text(a));
  }
  if (a.as_path_size() > 0) {
    member_str(out, "as_path", as_path_text(a));
  }
  if (a.has_origin_asn() && a.origin_asn() != 0) {
    member_u64(out, "origin_as", a.origin_asn());
  }
  if (!a.next_hop().empty()) {
    const bool plain = ipv4_unicast && a.next_hop_link_local().empty() &&
                       a.next_hop().find(':') == std::string::npos;
    member_str(out, plain ? "next_hop" : "mp_next_hop", a.next_hop());
  }
  if (!a.next_hop_link_local().empty()) {
    member_str(out, "mp_next_hop_link_local", a.next_hop_link_local());
  }
  if (a.has_med()) {
    member_u64(out, "med", a.med());
  }
  if (a.has_local_pref()) {
    member_u64(out, "local_pref", a.local_pref());
  }
  if (a.atomic_aggregate()) {
    out += "\"atomic_aggregate\":true,";
  }
  if (a.has_aggregator_asn()) {
    key(out, "aggregator");
    out.push_back('{');
    member_u64(out, "asn", a.aggregator_asn());
    member_str(out, "address", a.aggregator_address());
    out.back() = '}';
    out.push_back(',');
  }
  if (a.communities_size() > 0) {
    member_strings(out, "communities", a.communities());
  }
  if (a.extended_communities_size() > 0) {
    member_strings(out, "extended_communities", a.extended_communities());
  }
  if (a.large_communities_size() > 0) {
    member_strings(out, "large_communities", a.large_communities());
  }
  if (!a.originator_id().empty()) {
    member_str(out, "originator_id", a.originator_id());
  }
  if (a.cluster_list_size() > 0) {
    member_strings(out, "cluster_list", a.cluster_list());
  }
  if (a.has_aigp()) {
    member_u64(out, "aigp", a.aigp());
  }
  if (a.has_otc()) {
    member_u64(out, "otc", a.otc());
  }
  if (a.other_attributes_size() > 0) {
    key(out, "other_attributes");
    out.push_back('[');
    for (const auto& o : a.other_attributes()) {
      out.push_back('{');
      member_u64(out, "type", o.type());
      member_u64(out, "flags", o.flags());
      member_hex(out, "value", o.value());
      out.back() = '}';
      out.push_back(',');
    }
    out.back() = ']';
    out.push_back(',');
  }
}

void route_event_json(std::string& out, const v1::RouteEvent& r) {
  const bool announce = r.action() == v1::RouteEvent::ANNOUNCE;
  out.push_back('{');
  member_timestamp(out, r.time_us());
  session_members(out, r.peer());
  out += announce ? "\"kind\":\"announce\"," : "\"kind\":\"withdraw\",";
  member_str(out, "prefix", r.prefix());
  if (r.path_id() != 0) {
    member_u64(out, "path_id", r.path_id());
  }
  member_family(out, r.afi(), r.safi());
  if (announce) {
    attribute_members(out, r.attributes(), r.afi() == 1 && r.safi() == 1);
  }
  // dump --json's `error` member, its reaction the collector's decision.
  if (r.decision() != v1::ACCEPTED) {
    key(out, "error");
    out.push_back('{');
    member_str(out, "message", r.error());
    member_str(out, "reaction", decision_name(r.decision()));
    out.back() = '}';
    out.push_back(',');
  }
  peer_additions(out, r.peer());
  end_line(out);
}

void peer_event_json(std::string& out, const v1::PeerEvent& e) {
  out.push_back('{');
  member_timestamp(out, e.time_us());
  out += "\"kind\":\"state\",";
  session_members(out, e.peer());
  member_str(out, "old_state", state_name(e.old_state()));
  member_str(out, "new_state", state_name(e.new_state()));
  member_u64(out, "old_state_code", static_cast<std::uint64_t>(e.old_state()));
  member_u64(out, "new_state_code", static_cast<std::uint64_t>(e.new_state()));
  if (!e.reason().empty()) {
    member_str(out, "reason", e.reason());
  }
  if (e.has_notification()) {
    // dump --json's NOTIFICATION members, with the collector's text and direction.
    const auto& n = e.notification();
    key(out, "notification");
    out.push_back('{');
    member_u64(out, "code", n.code());
    member_u64(out, "subcode", n.subcode());
    const auto code = static_cast<std::uint8_t>(n.code());
    if (const char* name = bgp::error_code_name(code)) {
      member_str(out, "code_name", name);
    }
    if (const char* name = bgp::error_subcode_name(code, static_cast<std::uint8_t>(n.subcode()))) {
      member_str(out, "subcode_name", name);
    }
    member_hex(out, "data", n.data());
    member_str(out, "text", n.text());
    out += n.sent() ? "\"sent\":true}," : "\"sent\":false},";
  }
  peer_additions(out, e.peer());
  end_line(out);
}

// --- Tables
// ----------------------------------------------------------------------------------------

// Columns padded to their widest cell, two spaces apart; numbers right-aligned.
class Table {
 public:
  Table(std::vector<std::string> header, std::vector<bool> right)
      : right_(std::move(right)), rows_{std::move(header)} {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void render(std::string& out) const {
    std::vector<std::size_t> width(right_.size(), 0);
    for (const auto& row : rows_) {
      for (std::size_t i = 0; i < row.size(); ++i) {
        width[i] = std::max(width[i], row[i].size());
      }
    }
    for (const auto& row : rows_) {
      const std::size_t start = out.size();
      for (std::size_t i = 0; i < row.size(); ++i) {
        if (i != 0) {
          out += "  ";
        }
        const std::size_t pad = width[i] - row[i].size();
        if (right_[i]) {
          out.append(pad, ' ');
        }
        out += row[i];
        if (!right_[i]) {
          out.append(pad, ' ');
        }
      }
      while (out.size() > start && out.back() == ' ') {
        out.pop_back();
      }
      out.push_back('\n');
    }
  }

 private:
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

std::string number(std::uint64_t v) {
  std::string s;
  append_u64(s, v);
  return s;
}

// At most `width` characters, "..." marking a cut that never splits a UTF-8 sequence.
std::string truncated(const std::string& s, std::size_t width) {
  if (s.size() <= width) {
    return s;
  }
  std::size_t end = width - 3;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0U) == 0x80U) {
    --end;
  }
  return s.substr(0, end) + "...";
}

// "ipv4" for a unicast family (most tables hold nothing else), else "ipv4/multicast".
std::string family_short(std::uint32_t afi, std::uint32_t safi) {
  const bgp::AfiSafi f{static_cast<bgp::Afi>(afi), static_cast<bgp::Safi>(safi)};
  std::string s = bgp::family_text(f);
  if (safi == 1) {
    s.resize(s.find('/'));
  }
  return s;
}

std::string prefixes_cell(const v1::PeerStatus& p) {
  std::uint64_t sum = 0;
  for (const auto& f : p.prefixes()) {
    sum += f.prefixes();
  }
  std::string s = number(sum);
  if (p.prefixes_size() > 1) {
    s += " (";
    for (int i = 0; i < p.prefixes_size(); ++i) {
      const auto& f = p.prefixes(i);
      if (i != 0) {
        s += ", ";
      }
      s += family_short(f.afi(), f.safi());
      s.push_back(' ');
      append_u64(s, f.prefixes());
    }
    s.push_back(')');
  }
  return s;
}

std::string lag_cell(std::int64_t us) {
  if (us <= 0) {
    return "-";
  }
  if (us < 1000000) {
    return number(static_cast<std::uint64_t>(us) / 1000) + "ms";
  }
  return human_duration(us);
}

std::string bytes_text(std::uint64_t b) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  std::size_t unit = 0;
  std::uint64_t tenths = b * 10;
  while (tenths >= 10240 && unit + 1 < std::size(kUnits)) {
    tenths /= 1024;
    ++unit;
  }
  std::string s = number(tenths / 10);
  if (unit != 0) {
    s.push_back('.');
    append_u64(s, tenths % 10);
  }
  s.push_back(' ');
  s += kUnits[unit];
  return s;
}

std::string listener_text(const v1::Listener& l) {
  std::string s = l.kind();
  s.push_back(' ');
  const bool v6 = l.address().find(':') != std::string::npos && l.port() != 0;
  if (v6) {
    s.push_back('[');
  }
  s += l.address();
  if (v6) {
    s.push_back(']');
  }
  if (l.port() != 0) {
    s.push_back(':');
    append_u64(s, l.port());
  }
  return s;
}

// --- Calls -------------------------------------------------------------------------------------

struct Endpoint {
  std::string target;  // for grpc::CreateChannel and for messages
  std::unique_ptr<v1::Collector::Stub> stub;
};

// The target the options name (ApiTarget's order); false with a message when a config does not
// load or turns the API off.
bool resolve_target(const ApiTarget& t, const char* command, std::string& target) {
  if (!t.socket.empty()) {
    target = "unix:" + t.socket;
    return true;
  }
  if (!t.connect.empty()) {
    target = t.connect;
    return true;
  }
  std::string file = t.config;
  std::error_code ec;
  if (file.empty() && std::filesystem::exists("collector.yaml", ec)) {
    file = "collector.yaml";
  }
  if (file.empty()) {
    target = "unix:state/api.sock";
    return true;
  }
  try {
    const auto config = collector::config::load(file);
    if (!config.api.enabled) {
      std::fprintf(stderr, "bgpscribe %s: the API is off in %s (api: enabled: false)\n", command,
                   file.c_str());
      return false;
    }
    target = "unix:" + config.api.socket;
    return true;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bgpscribe %s: %s\n", command, e.what());
    return false;
  }
}

const char* code_name(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::CANCELLED:
      return "cancelled";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "invalid argument";
    case grpc::StatusCode::NOT_FOUND:
      return "not found";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "resource exhausted";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "failed precondition";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "unimplemented";
    case grpc::StatusCode::UNAVAILABLE:
      return "unavailable";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "deadline exceeded";
    default:
      return "error";
  }
}

// The message for a failed call and the exit status: 2 when the collector says the request
// is wrong (a bad prefix or filter), 1 otherwise.
int call_failed(const char* command, const std::string& target, const grpc::Status& s) {
  const auto code = s.error_code();
  if (code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED) {
    std::fprintf(stderr,
                 "bgpscribe %s: no collector answers at %s (is bgpscribe run going, with api "
                 "enabled?): %s\n",
                 command, target.c_str(), s.error_message().c_str());
    return 1;
  }
  if (code == grpc::StatusCode::INVALID_ARGUMENT) {
    std::fprintf(stderr, "bgpscribe %s: %s\n", command, s.error_message().c_str());
    return 2;
  }
  std::fprintf(stderr, "bgpscribe %s: the collector at %s answered %s: %s\n", command,
               target.c_str(), code_name(code), s.error_message().c_str());
  return 1;
}

bool connect(const ApiTarget& t, const char* command, Endpoint& e) {
  if (!resolve_target(t, command, e.target)) {
    return false;
  }
  e.stub =
      v1::Collector::NewStub(grpc::CreateChannel(e.target, grpc::InsecureChannelCredentials()));
  return true;
}

void deadline(grpc::ClientContext& ctx) {
  ctx.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
  ctx.set_wait_for_ready(false);  // fail now when nothing listens, do not wait for it
}

int call_status(const char* command, Endpoint& e, v1::StatusReply& reply) {
  grpc::ClientContext ctx;
  deadline(ctx);
  const grpc::Status s = e.stub->Status(&ctx, v1::StatusRequest{}, &reply);
  return s.ok() ? 0 : call_failed(command, e.target, s);
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// --peer values that are not ids, by address or name, through Status: every peer that matches
// (a BMP router's peer and the collector's own session may share an address).
int resolve_peers(const char* command, Endpoint& e, const std::vector<std::string>& names,
                  google::protobuf::RepeatedField<std::uint32_t>& ids) {
  if (names.empty()) {
    return 0;
  }
  v1::StatusReply reply;
  if (const int rc = call_status(command, e, reply); rc != 0) {
    return rc;
  }
  for (const auto& name : names) {
    bool found = false;
    for (const auto& p : reply.peers()) {
      if (p.peer().address() == name || p.peer().name() == name) {
        ids.Add(p.peer().id());
        found = true;
      }
    }
    if (!found) {
      std::fprintf(stderr, "bgpscribe %s: the collector has no peer %s\n", command, name.c_str());
      return 1;
    }
  }
  return 0;
}

void write_out(const std::string& s) {
  if (!s.empty()) {
    std::fwrite(s.data(), 1, s.size(), stdout);
  }
}

}  // namespace

// --- Rendering -----------------------------------------------------------------------------------

std::string human_duration(std::int64_t microseconds) {
  if (microseconds < 0) {
    return "-";
  }
  const auto total = static_cast<std::uint64_t>(microseconds / 1000000);
  const std::uint64_t days = total / 86400;
  const std::uint64_t hours = total % 86400 / 3600;
  std::string s;
  if (days > 0) {
    append_u64(s, days);
    s.push_back('d');
    append_padded(s, hours, 2);
    s.push_back('h');
    return s;
  }
  append_padded(s, hours, 2);
  s.push_back(':');
  append_padded(s, total % 3600 / 60, 2);
  s.push_back(':');
  append_padded(s, total % 60, 2);
  return s;
}

std::string status_table(const v1::StatusReply& reply) {
  const auto& c = reply.collector();
  const std::int64_t now = c.now_us() != 0 ? c.now_us() : now_us();
  std::string out = c.name().empty() ? "collector" : c.name();
  out += ": bgpscribe ";
  out += c.version();
  out += ", up ";
  out += c.started_us() != 0 ? human_duration(now - c.started_us()) : "-";
  out += ", AS ";
  append_u64(out, c.local_asn());
  if (!c.bgp_id().empty()) {
    out += ", id ";
    out += c.bgp_id();
  }
  if (c.listeners_size() > 0) {
    out += "; listening ";
    for (int i = 0; i < c.listeners_size(); ++i) {
      if (i != 0) {
        out += ", ";
      }
      out += listener_text(c.listeners(i));
    }
  }
  out.push_back('\n');
  std::size_t established = 0;
  for (const auto& p : reply.peers()) {
    established += p.state() == v1::PeerEvent::ESTABLISHED ? 1 : 0;
  }
  append_u64(out, static_cast<std::uint64_t>(reply.peers_size()));
  out += " peers (";
  append_u64(out, established);
  out += " established), ";
  append_u64(out, c.routes());
  out += " routes, ";
  append_u64(out, c.attribute_sets());
  out += " attribute sets, RIB ";
  out += bytes_text(c.rib_bytes());
  out += ", ";
  append_u64(out, c.messages());
  out += " messages, ";
  append_u64(out, c.state_changes());
  out += " state changes\n\n";

  Table peers({"Peer", "Address", "AS", "State", "Since", "Prefixes", "Messages", "Last error"},
              {false, false, true, false, true, true, true, false});
  for (const auto& p : reply.peers()) {
    const auto& peer = p.peer();
    peers.add({peer.name().empty() ? "-" : peer.name(), peer.address(), number(peer.asn()),
               state_name(p.state()),
               p.state_since_us() != 0 ? human_duration(now - p.state_since_us()) : "-",
               prefixes_cell(p), number(p.messages()), truncated(p.last_error(), kLastErrorWidth)});
  }
  if (reply.peers_size() > 0) {
    peers.render(out);
  } else {
    out += "no peers\n";
  }
  out.push_back('\n');

  Table exporters({"Exporter", "Type", "Pushed", "Delivered", "Queued", "Spooled", "Failed",
                   "Dropped", "Lag", "Alarms"},
                  {false, false, true, true, true, true, true, true, true, false});
  for (const auto& e : reply.exporters()) {
    std::string alarms;
    append_joined(alarms, e.alarms(), ';');
    exporters.add({e.name(), e.type(), number(e.pushed()), number(e.delivered()),
                   number(e.queued()), number(e.spooled()), number(e.failed()), number(e.dropped()),
                   lag_cell(e.lag_us()), alarms});
  }
  if (reply.exporters_size() > 0) {
    exporters.render(out);
  } else {
    out += "no exporters\n";
  }
  return out;
}

std::string status_json(const v1::StatusReply& reply) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;  // a counter at 0 is still shown
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(reply, &out, options);
  out.push_back('\n');
  return out;
}

void append_route_text(std::string& out, const v1::Route& route) {
  out += route.prefix();
  if (route.path_id() != 0) {
    out += " path-id ";
    append_u64(out, route.path_id());
  }
  out += " from ";
  append_peer_text(out, route.peer());
  append_attribute_words(out, route.attributes());
  out += " received ";
  append_iso_time(out, route.received_us(), false);
  if (route.stale()) {
    out += " stale";
  }
  out.push_back('\n');
}

void append_route_json(std::string& out, const v1::Route& route, std::int64_t now_us) {
  // dump --json's `rib` line.
  out += "{\"kind\":\"rib\",\"source\":\"api\",";
  member_timestamp(out, now_us);
  const auto& p = route.peer();
  member_str(out, "peer_ip", p.address());
  member_u64(out, "peer_as", p.asn());
  if (!p.bgp_id().empty()) {
    member_str(out, "peer_bgp_id", p.bgp_id());
  }
  member_str(out, "prefix", route.prefix());
  if (route.path_id() != 0) {
    member_u64(out, "path_id", route.path_id());
  }
  // A server before Route.afi/safi sent neither: the AFI from the prefix, unicast.
  const bool v6 = route.prefix().find(':') != std::string::npos;
  const std::uint32_t afi = route.afi() != 0 ? route.afi() : (v6 ? 2U : 1U);
  const std::uint32_t safi = route.safi() != 0 ? route.safi() : 1U;
  member_family(out, afi, safi);
  member_u64(out, "originated",
             static_cast<std::uint64_t>(std::max<std::int64_t>(route.received_us() / 1000000, 0)));
  attribute_members(out, route.attributes(), afi == 1 && safi == 1);
  if (route.stale()) {
    out += "\"stale\":true,";
  }
  peer_additions(out, p);
  end_line(out);
}

void append_event_text(std::string& out, const v1::Event& event, std::int64_t now_us) {
  switch (event.kind_case()) {
    case v1::Event::kRoute: {
      const auto& r = event.route();
      append_iso_time(out, r.time_us(), true);
      const bool announce = r.action() == v1::RouteEvent::ANNOUNCE;
      out += announce ? " A " : " W ";
      append_peer_text(out, r.peer());
      out.push_back(' ');
      out += r.prefix();
      if (r.path_id() != 0) {
        out += " path-id ";
        append_u64(out, r.path_id());
      }
      if (announce) {
        append_attribute_words(out, r.attributes());
      }
      if (r.decision() != v1::ACCEPTED) {
        out += " decision ";
        out += decision_name(r.decision());
        if (!r.error().empty()) {
          out += " (";
          out += r.error();
          out.push_back(')');
        }
      }
      break;
    }
    case v1::Event::kPeer: {
      const auto& e = event.peer();
      append_iso_time(out, e.time_us(), true);
      out += " STATE ";
      append_peer_text(out, e.peer());
      out.push_back(' ');
      out += state_name(e.old_state());
      out += " -> ";
      out += state_name(e.new_state());
      if (e.has_notification() && !e.notification().text().empty()) {
        out += e.notification().sent() ? ": sent " : ": received ";
        out += e.notification().text();
      } else if (!e.reason().empty()) {
        out += ": ";
        out += e.reason();
      }
      break;
    }
    case v1::Event::kSnapshot: {
      const auto& s = event.snapshot();
      append_iso_time(out, s.time_us(), true);
      if (s.kind() == v1::SnapshotMarker::BEGIN) {
        out += " SNAPSHOT BEGIN";
      } else {
        out += " SNAPSHOT END ";
        append_u64(out, s.routes());
        out += " routes";
      }
      break;
    }
    case v1::Event::kLagging: {
      append_iso_time(out, now_us, true);
      out += " LAGGING ";
      append_u64(out, event.lagging().dropped());
      out += " events dropped";
      if (!event.lagging().reason().empty()) {
        out += ": ";
        out += event.lagging().reason();
      }
      break;
    }
    default:
      append_iso_time(out, now_us, true);
      out += " UNKNOWN";  // an event kind newer than this client
      break;
  }
  out.push_back('\n');
}

void append_event_json(std::string& out, const v1::Event& event, std::int64_t now_us) {
  switch (event.kind_case()) {
    case v1::Event::kRoute:
      route_event_json(out, event.route());
      return;
    case v1::Event::kPeer:
      peer_event_json(out, event.peer());
      return;
    case v1::Event::kSnapshot: {
      const auto& s = event.snapshot();
      out.push_back('{');
      member_timestamp(out, s.time_us());
      if (s.kind() == v1::SnapshotMarker::BEGIN) {
        out += "\"kind\":\"snapshot_begin\",";
      } else {
        out += "\"kind\":\"snapshot_end\",";
        member_u64(out, "routes", s.routes());
      }
      end_line(out);
      return;
    }
    case v1::Event::kLagging:
      out.push_back('{');
      member_timestamp(out, now_us);
      out += "\"kind\":\"lagging\",";
      member_u64(out, "dropped", event.lagging().dropped());
      member_str(out, "reason", event.lagging().reason());
      end_line(out);
      return;
    default:
      out.push_back('{');
      member_timestamp(out, now_us);
      out += "\"kind\":\"unknown\"}\n";
      return;
  }
}

// --- Commands --------------------------------------------------------------------------------

int run_status(const StatusOptions& options) {
  Endpoint e;
  if (!connect(options.target, "status", e)) {
    return 2;
  }
  v1::StatusReply reply;
  if (const int rc = call_status("status", e, reply); rc != 0) {
    return rc;
  }
  write_out(options.json ? status_json(reply) : status_table(reply));
  return 0;
}

int run_rib(const RibOptions& options) {
  if (options.longest && options.longer) {
    std::fprintf(stderr, "bgpscribe rib: choose one of --longest and --longer\n");
    return 2;
  }
  Endpoint e;
  if (!connect(options.target, "rib", e)) {
    return 2;
  }
  v1::RibRequest request;
  request.set_prefix(options.prefix);
  request.set_match(options.longest  ? v1::RibRequest::LONGEST
                    : options.longer ? v1::RibRequest::MORE_SPECIFIC
                                     : v1::RibRequest::EXACT);
  std::vector<std::string> names;
  for (const auto& p : options.peers) {
    if (all_digits(p)) {
      request.add_peer_ids(static_cast<std::uint32_t>(std::stoul(p)));
    } else {
      names.push_back(p);
    }
  }
  if (const int rc = resolve_peers("rib", e, names, *request.mutable_peer_ids()); rc != 0) {
    return rc;
  }
  std::uint64_t routes = 0;
  std::string out;
  for (;;) {
    grpc::ClientContext ctx;
    deadline(ctx);
    v1::RibReply reply;
    const grpc::Status s = e.stub->Rib(&ctx, request, &reply);
    if (!s.ok()) {
      std::fflush(stdout);
      return call_failed("rib", e.target, s);
    }
    out.clear();
    const std::int64_t now = now_us();
    for (const auto& route : reply.routes()) {
      if (options.json) {
        append_route_json(out, route, now);
      } else {
        append_route_text(out, route);
      }
    }
    routes += static_cast<std::uint64_t>(reply.routes_size());
    write_out(out);
    if (reply.next_page_token().empty()) {
      break;
    }
    request.set_page_token(reply.next_page_token());
  }
  if (routes == 0 && !options.json) {
    std::fprintf(stderr, "bgpscribe rib: no route held for %s\n", options.prefix.c_str());
  }
  return 0;
}

int run_tail(const TailOptions& options) {
  if (options.more_specific && options.less_specific) {
    std::fprintf(stderr, "bgpscribe tail: choose one of --more-specific and --less-specific\n");
    return 2;
  }
  if ((options.more_specific || options.less_specific) && options.prefix.empty()) {
    std::fprintf(stderr, "bgpscribe tail: --more-specific and --less-specific need --prefix\n");
    return 2;
  }
  // SIGINT and SIGTERM go to the watcher thread below, which cancels the call: blocked before
  // gRPC starts its threads, so that they inherit the mask and none of them takes the signal.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  Endpoint e;
  if (!connect(options.target, "tail", e)) {
    return 2;
  }
  v1::SubscribeRequest request;
  request.set_snapshot(options.snapshot);
  std::vector<std::string> names;
  for (const auto& p : options.peers) {
    if (all_digits(p)) {
      request.add_peer_ids(static_cast<std::uint32_t>(std::stoul(p)));
    } else if (bgp::IpAddress::parse(p)) {
      request.add_peer_addresses(p);  // filtered by the collector, also for peers not up yet
    } else {
      names.push_back(p);
    }
  }
  if (const int rc = resolve_peers("tail", e, names, *request.mutable_peer_ids()); rc != 0) {
    return rc;
  }
  for (const auto asn : options.peer_asns) {
    request.add_peer_asns(asn);
  }
  request.set_prefix(options.prefix);
  request.set_more_specific(options.more_specific);
  request.set_less_specific(options.less_specific);
  for (const auto asn : options.origin_asns) {
    request.add_origin_asns(asn);
  }
  request.set_as_path_regex(options.path_regex);
  request.set_community(options.community);
  request.set_routes_only(options.routes_only);

  // A pipe gets full buffers, flushed by the watcher every 100 ms: one write per line would
  // cost a system call per event at full-table rates; a terminal stays line-buffered.
  if (isatty(STDOUT_FILENO) == 0) {
    std::setvbuf(stdout, nullptr, _IOFBF, std::size_t{1} << 16);
  }
  grpc::ClientContext ctx;
  ctx.set_wait_for_ready(false);
  // SubscribeBatches: the same events as Subscribe, many per gRPC message (a message per event
  // costs the collector a system call per event; bench/results/api.md).
  auto reader = e.stub->SubscribeBatches(&ctx, request);
  std::atomic<bool> done{false};
  std::atomic<bool> interrupted{false};
  std::thread watcher([&] {
    const timespec tick{0, 100'000'000};
    while (!done.load()) {
      const int sig = sigtimedwait(&stop_signals, nullptr, &tick);
      if (sig == SIGINT || sig == SIGTERM) {
        interrupted = true;
        ctx.TryCancel();
        return;
      }
      std::fflush(stdout);
    }
  });

  v1::EventBatch batch;
  std::string line;
  std::uint64_t seen = 0;
  bool counted = false;
  bool lagging = false;
  while (!counted && reader->Read(&batch)) {
    for (const auto& event : batch.events()) {
      line.clear();
      if (options.json) {
        append_event_json(line, event, now_us());
      } else {
        append_event_text(line, event, now_us());
      }
      write_out(line);
      if (event.kind_case() == v1::Event::kLagging) {
        lagging = true;
        std::fprintf(stderr, "bgpscribe tail: cut off by the collector: %llu events dropped (%s)\n",
                     static_cast<unsigned long long>(event.lagging().dropped()),
                     event.lagging().reason().c_str());
      }
      ++seen;
      if (options.count != 0 && seen == options.count) {
        counted = true;
        ctx.TryCancel();
        break;
      }
    }
  }
  const grpc::Status s = reader->Finish();
  done = true;
  watcher.join();
  std::fflush(stdout);
  if (interrupted || counted) {
    return 0;
  }
  if (lagging) {
    return 1;
  }
  if (s.ok()) {
    return 0;  // the collector ended the stream (it is shutting down)
  }
  if (seen > 0 || s.error_code() == grpc::StatusCode::CANCELLED) {
    std::fprintf(stderr, "bgpscribe tail: the stream from %s ended: %s: %s\n", e.target.c_str(),
                 code_name(s.error_code()), s.error_message().c_str());
    return 1;
  }
  return call_failed("tail", e.target, s);
}

}  // namespace bgpscribe::tools
