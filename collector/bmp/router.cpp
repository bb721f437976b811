#include "collector/bmp/router.hpp"

#include <cinttypes>
#include <cstdio>
#include <utility>

#include "codec/bgp/capability.hpp"
#include "codec/bgp/message_types.hpp"
#include "codec/bgp/open.hpp"
#include "codec/bmp/context.hpp"
#include "collector/speaker.hpp"

namespace bgpscribe::collector::bmp {

namespace bgp = codec::bgp;
namespace wire_bmp = codec::bmp;

namespace {

std::string text_of(std::span<const std::uint8_t> value) {
  std::string s(value.begin(), value.end());
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20) {
      c = ' ';  // a log line stays one line
    }
  }
  return s;
}

std::string error_text(const char* what, const codec::Error& e) {
  return std::string(what) + ": " + e.message + " (byte " + std::to_string(e.offset) + ")";
}

std::string peer_text(const wire_bmp::PerPeerHeader& h) {
  return "peer " + h.peer_address().to_string() + " AS" + std::to_string(h.peer_as);
}

std::string id_text(std::uint32_t id) {
  return bgp::IpAddress::v4(id).to_string();
}

// Peer Down reasons in words, for the state change record and the log.
std::string down_reason(const wire_bmp::PeerDown& m) {
  switch (m.reason) {
    case wire_bmp::PeerDownReason::LocalNotification:
    case wire_bmp::PeerDownReason::RemoteNotification: {
      std::string s = m.reason == wire_bmp::PeerDownReason::LocalNotification
                          ? "the router sent a NOTIFICATION"
                          : "the peer sent a NOTIFICATION";
      if (m.notification) {
        s += ": " + NotificationInfo::describe(*m.notification);
      }
      return s;
    }
    case wire_bmp::PeerDownReason::LocalNoNotification:
      return "the router closed the session (FSM event " + std::to_string(m.fsm_event) + ")";
    case wire_bmp::PeerDownReason::RemoteNoNotification:
      return "the peer closed the connection without a NOTIFICATION";
    case wire_bmp::PeerDownReason::PeerDeconfigured:
      return "the router no longer monitors the peer (de-configured)";
    case wire_bmp::PeerDownReason::LocalSystemClosedTlv:
      return "the router closed the session";
  }
  return "Peer Down reason " + std::to_string(static_cast<int>(m.reason));
}

}  // namespace

Router::Router(std::string name, const bgp::IpAddress& address, RouterEvents& events)
    : name_(std::move(name)), address_(address), events_(events) {}

Router::PeerKey Router::key_of(const wire_bmp::PerPeerHeader& h) {
  PeerKey k{};
  k[0] = static_cast<std::uint8_t>(h.peer_type);
  std::copy(h.distinguisher.begin(), h.distinguisher.end(), k.begin() + 1);
  std::copy(h.address.begin(), h.address.end(), k.begin() + 9);
  return k;
}

Router::Problem Router::handle(std::span<const std::uint8_t> message, std::int64_t now_us) {
  ++stats_.messages;
  auto parsed = wire_bmp::parse_message(message);
  if (!parsed) {
    const auto f = wire_bmp::frame(message);
    const char* type = f.status == bgp::FrameStatus::Message ? to_string(f.header.type) : nullptr;
    return error_text(type != nullptr ? type : "BMP message", parsed.error());
  }
  const auto type = wire_bmp::type_of(*parsed);
  if (terminated_) {
    return std::string("a message after the Termination");
  }
  if (!initiated_ && type != wire_bmp::MessageType::Initiation) {
    const char* name = to_string(type);
    return std::string(name != nullptr ? name : "a message") +
           " before the Initiation (RFC 7854 section 4.3: Initiation comes first)";
  }
  if (auto* m = std::get_if<wire_bmp::RouteMonitoring>(&*parsed)) {
    return route(*m, now_us);
  }
  if (auto* m = std::get_if<wire_bmp::PeerUp>(&*parsed)) {
    return peer_up(*m, now_us);
  }
  if (auto* m = std::get_if<wire_bmp::PeerDown>(&*parsed)) {
    return peer_down(*m, message, now_us);
  }
  if (std::get_if<wire_bmp::StatisticsReport>(&*parsed) != nullptr) {
    ++stats_.statistics;
    return std::nullopt;
  }
  if (std::get_if<wire_bmp::RouteMirroring>(&*parsed) != nullptr) {
    ++stats_.mirroring;
    return std::nullopt;
  }
  if (auto* m = std::get_if<wire_bmp::Initiation>(&*parsed)) {
    initiated_ = true;
    for (const auto& t : m->information) {
      if (t.type == static_cast<std::uint16_t>(wire_bmp::InformationType::SysName)) {
        sys_name_ = text_of(t.value);
      } else if (t.type == static_cast<std::uint16_t>(wire_bmp::InformationType::SysDescr)) {
        sys_descr_ = text_of(t.value);
      }
    }
    return std::nullopt;
  }
  if (auto* m = std::get_if<wire_bmp::Termination>(&*parsed)) {
    terminated_ = true;
    termination_ = "Termination";
    if (auto r = m->reason()) {
      const char* why = to_string(*r);
      termination_ += std::string(": ") +
                      (why != nullptr ? why : "reason " + std::to_string(static_cast<int>(*r)));
    }
    for (const auto& t : m->information) {
      if (t.type == static_cast<std::uint16_t>(wire_bmp::TerminationType::String)) {
        termination_ += " \"" + text_of(t.value) + "\"";
      }
    }
    return std::nullopt;
  }
  const auto& raw = std::get<wire_bmp::RawMessage>(*parsed);
  if (raw.version != wire_bmp::kVersion) {
    return "BMP version " + std::to_string(raw.version) + " (a draft) is not supported";
  }
  return "unknown BMP message type " + std::to_string(static_cast<int>(raw.type));
}

Router::Problem Router::peer_up(const wire_bmp::PeerUp& m, std::int64_t now_us) {
  ++stats_.peer_ups;
  const auto& h = m.peer;
  auto sent = bgp::parse_open(m.sent_open);
  if (!sent) {
    return error_text(("Peer Up of " + peer_text(h) + ": the sent OPEN").c_str(), sent.error());
  }
  auto received = bgp::parse_open(m.received_open);
  if (!received) {
    return error_text(("Peer Up of " + peer_text(h) + ": the received OPEN").c_str(),
                      received.error());
  }
  if (h.adj_rib_out()) {
    return std::nullopt;  // its Route Monitoring is not archived (counted there)
  }
  // The per-peer header names the peer whose OPEN the router received (RFC 7854 section 4.2).
  // A Loc-RIB instance (RFC 9069) has OPENs of its own making: nothing to compare.
  if (!h.is_loc_rib()) {
    if (h.peer_as != bgp::real_as(*received)) {
      return "Peer Up of " + peer_text(h) + ": the per-peer header says AS" +
             std::to_string(h.peer_as) + ", the peer's OPEN AS" +
             std::to_string(bgp::real_as(*received));
    }
    if (h.bgp_identifier != received->bgp_identifier) {
      return "Peer Up of " + peer_text(h) + ": the per-peer header says BGP identifier " +
             id_text(h.bgp_identifier) + ", the peer's OPEN " + id_text(received->bgp_identifier);
    }
  }
  auto& p = peers_[key_of(h)];
  if (p.pre) {
    // Two Peer Ups without a Peer Down between them: the first session ended unseen.
    down(p, now_us, "a new Peer Up without a Peer Down", {}, false);
  }
  auto info = std::make_shared<exporters::PeerInfo>();
  info->peer_address = h.peer_address();
  info->local_address = m.local_ip();
  info->peer_port = m.remote_port;
  info->local_port = m.local_port;
  info->peer_as = h.peer_as;
  info->local_as = bgp::real_as(*sent);
  info->peer_bgp_id = h.bgp_identifier;
  info->local_bgp_id = sent->bgp_identifier;
  info->router = name_;
  info->router_address = address_;
  info->bmp_peer_type = static_cast<std::uint8_t>(h.peer_type);
  for (auto b : h.distinguisher) {
    info->distinguisher = info->distinguisher << 8 | b;
  }
  info->name = name_ + " " + info->peer_address.to_string();
  if (info->distinguisher != 0) {
    char rd[24];
    std::snprintf(rd, sizeof rd, " rd %016" PRIx64, info->distinguisher);
    info->name += rd;
  }
  auto source = std::make_unique<Source>();
  wire_bmp::PerPeerHeader as4 = h;
  as4.flags = static_cast<std::uint8_t>(as4.flags & ~wire_bmp::peer_flag::kLegacyAsPath);
  wire_bmp::PerPeerHeader as2 = h;
  as2.flags = static_cast<std::uint8_t>(as2.flags | wire_bmp::peer_flag::kLegacyAsPath);
  source->context[0] = wire_bmp::route_monitoring_context(*sent, *received, as4);
  source->context[1] = wire_bmp::route_monitoring_context(*sent, *received, as2);
  source->open_sent = exporters::SharedBytes(m.sent_open);
  source->open_received = exporters::SharedBytes(m.received_open);
  source->up_time_us = now_us;
  info->id = events_.source_id(*info);
  source->info = std::move(info);
  p.up_header = h;
  p.pre = std::move(source);
  events_.source_up(*p.pre, now_us);
  return std::nullopt;
}

std::unique_ptr<Source> Router::make_source(const Source& pre, bool post_policy) {
  auto info = std::make_shared<exporters::PeerInfo>(*pre.info);
  info->post_policy = post_policy;
  info->name += " post-policy";
  info->id = 0;
  info->id = events_.source_id(*info);
  auto s = std::make_unique<Source>(pre);
  s->info = std::move(info);
  return s;
}

Router::Problem Router::route(const wire_bmp::RouteMonitoring& m, std::int64_t now_us) {
  ++stats_.route_monitoring;
  const auto& h = m.peer;
  if (h.adj_rib_out()) {
    ++stats_.adj_rib_out;
    return std::nullopt;
  }
  auto it = peers_.find(key_of(h));
  if (it == peers_.end() || !it->second.pre) {
    return "Route Monitoring for " + peer_text(h) +
           ", which is not up (RFC 7854 section 4.10: its Peer Up comes first)";
  }
  auto& p = it->second;
  if (h.peer_as != p.up_header.peer_as || h.bgp_identifier != p.up_header.bgp_identifier) {
    return "Route Monitoring for " + peer_text(h) + " BGP identifier " + id_text(h.bgp_identifier) +
           ": its Peer Up said AS" + std::to_string(p.up_header.peer_as) + " BGP identifier " +
           id_text(p.up_header.bgp_identifier);
  }
  Source* s = p.pre.get();
  if (h.post_policy()) {
    if (!p.post) {
      p.post = make_source(*p.pre, true);
      events_.source_up(*p.post, now_us);
    }
    s = p.post.get();
  }
  events_.route_monitoring(*s, m.update, s->context[h.legacy_as_path() ? 1 : 0], now_us);
  return std::nullopt;
}

Router::Problem Router::peer_down(const wire_bmp::PeerDown& m,
                                  std::span<const std::uint8_t> message, std::int64_t now_us) {
  ++stats_.peer_downs;
  auto it = peers_.find(key_of(m.peer));
  if (it == peers_.end()) {
    ++stats_.peer_downs_unknown;
    return std::nullopt;  // a peer that never came up (or Adj-RIB-Out only): nothing to end
  }
  std::span<const std::uint8_t> notification;
  const bool has_notification = m.reason == wire_bmp::PeerDownReason::LocalNotification ||
                                m.reason == wire_bmp::PeerDownReason::RemoteNotification;
  constexpr std::size_t kReasonAt = wire_bmp::kCommonHeaderSize + wire_bmp::kPerPeerHeaderSize;
  if (has_notification && message.size() > kReasonAt + 1) {
    notification = message.subspan(kReasonAt + 1);
  }
  down(it->second, now_us, down_reason(m), notification,
       m.reason == wire_bmp::PeerDownReason::LocalNotification);
  peers_.erase(it);
  return std::nullopt;
}

void Router::down(Peer& p, std::int64_t now_us, const std::string& why,
                  std::span<const std::uint8_t> notification, bool local) {
  if (p.post) {
    events_.source_down(*p.post, now_us, why, notification, local);
    p.post.reset();
  }
  if (p.pre) {
    events_.source_down(*p.pre, now_us, why, notification, local);
    p.pre.reset();
  }
}

void Router::close(std::int64_t now_us, const std::string& why) {
  for (auto& [key, p] : peers_) {
    down(p, now_us, why, {}, false);
  }
  peers_.clear();
}

}  // namespace bgpscribe::collector::bmp
