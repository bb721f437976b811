// Fuzz target for BMP (codec/bmp/message.hpp, context.hpp) and the BGP PDUs it carries.
//
// The input is a BMP stream, framed message by message as a station would; each message is
// copied into an exactly sized buffer and parsed, and everything it holds is decoded: the
// per-peer header (also through peek_per_peer_header), statistics, the Peer Down
// NOTIFICATION, both Peer Up OPENs and the ParseContext they imply, TLVs, the PDUs of Route
// Mirroring, and the UPDATE of Route Monitoring through bgp::parse_update, with the context of
// the last Peer Up seen in the stream (or one from fixed OPENs before any).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <span>
#include <type_traits>
#include <variant>

#include "codec/bgp/as_path.hpp"
#include "codec/bgp/attributes.hpp"
#include "codec/bgp/message.hpp"
#include "codec/bgp/notification.hpp"
#include "codec/bgp/open.hpp"
#include "codec/bgp/route_refresh.hpp"
#include "codec/bgp/text.hpp"
#include "codec/bgp/update.hpp"
#include "codec/bmp/context.hpp"
#include "codec/bmp/message.hpp"
#include "codec/bmp/types.hpp"

namespace {

using namespace bgpscribe::codec;

void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "bmp_message_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

volatile std::uint64_t g_sink = 0;
void sink(std::uint64_t v) {
  g_sink = g_sink + v;
}

constexpr int kMaxMessages = 32;

struct Buffer {
  std::unique_ptr<std::uint8_t[]> data;
  std::size_t size = 0;
  explicit Buffer(std::span<const std::uint8_t> bytes)
      : data(std::make_unique<std::uint8_t[]>(bytes.size())), size(bytes.size()) {
    std::copy(bytes.begin(), bytes.end(), data.get());
  }
  [[nodiscard]] std::span<const std::uint8_t> span() const { return {data.get(), size}; }
};

// Fixed OPENs for Route Monitoring met before any Peer Up.
bgp::Open default_open(std::uint32_t asn) {
  bgp::Open o;
  o.my_as = 23456;
  o.hold_time = 180;
  o.bgp_identifier = asn;
  o.add_capability(bgp::Capability::of(bgp::MultiprotocolCapability{bgp::kIpv4Unicast, 0}));
  o.add_capability(bgp::Capability::of(bgp::MultiprotocolCapability{bgp::kIpv6Unicast, 0}));
  o.add_capability(bgp::Capability::of(bgp::FourOctetAsCapability{asn}));
  o.add_capability(bgp::Capability::of(bgp::ExtendedMessageCapability{}));
  o.add_capability(
      bgp::Capability::of(bgp::AddPathCapability{{{bgp::kIpv4Unicast, bgp::AddPathMode::Both}}}));
  return o;
}

struct Station {
  bgp::Open sent = default_open(64500);
  bgp::Open received = default_open(4200000000U);
};

void walk_nlri(const bgp::NlriBlock& block) {
  std::size_t n = 0;
  for (const bgp::Nlri& nlri : block) {
    require(nlri.length <= bgp::max_prefix_length(nlri.afi), "NLRI length within the family");
    sink(nlri.prefix().to_string().size() + nlri.host_bits_set() + nlri.path_id);
    ++n;
  }
  if (block.decoded()) {
    require(n == block.count(), "iteration yields count() NLRI");
  }
}

void walk_as_path(const bgp::AsPathView& path) {
  path.for_each_segment([](const bgp::AsPathView::Segment& s) {
    for (std::size_t i = 0; i < s.count; ++i) {
      sink(s.asn(i));
    }
  });
  sink(path.path_length() + path.origin_as() + bgp::to_string(path.to_owned()).size());
}

void walk_update(const bgp::Update& u) {
  walk_nlri(u.withdrawn);
  walk_nlri(u.nlri);
  const bgp::PathAttributes& a = u.attributes;
  walk_as_path(a.as_path);
  walk_as_path(a.as4_path);
  sink(bgp::merge_as4_path(a.as_path, a.as4_path).size());
  for (std::size_t i = 0; i < a.communities.size() / 4; ++i) {
    sink(bgp::community_at(a.communities, i));
  }
  walk_nlri(a.mp_reach.nlri);
  walk_nlri(a.mp_unreach.withdrawn);
  if (a.mp_reach.next_hop.valid) {
    sink(a.mp_reach.next_hop.global.to_string().size());
  }
  bgp::RawAttributeIterator it(a.block, a.block_offset);
  bgp::RawAttribute raw;
  while (it.next(raw)) {
    sink(raw.value.size());
  }
  sink(u.end_of_rib + u.has_announcements() + u.has_withdrawals() + a.unknown_count() +
       a.diagnostics.error_count);
}

// A BGP PDU of any type (Route Mirroring carries them raw, possibly malformed).
void decode_pdu(std::span<const std::uint8_t> pdu, const bgp::ParseContext& ctx) {
  const bgp::Frame f = bgp::frame(pdu, bgp::kMaxExtendedMessageSize);
  if (f.status != bgp::FrameStatus::Message) {
    return;
  }
  const Buffer message(pdu.first(f.size));
  switch (f.header.type) {
    case bgp::MessageType::Update:
      if (auto u = bgp::parse_update(message.span(), ctx)) {
        walk_update(*u);
      }
      break;
    case bgp::MessageType::Open:
      if (auto o = bgp::parse_open(message.span())) {
        sink(o->parameters.size());
      }
      break;
    case bgp::MessageType::Notification:
      if (auto n = bgp::parse_notification(message.span())) {
        sink(bgp::shutdown_communication(*n).has_value());
      }
      break;
    case bgp::MessageType::Keepalive:
      sink(bgp::parse_keepalive(message.span()).has_value());
      break;
    case bgp::MessageType::RouteRefresh:
    case bgp::MessageType::CiscoRouteRefresh:
      if (auto rr = bgp::parse_route_refresh(message.span())) {
        sink(rr->orf_entries.size());
      }
      break;
  }
}

void walk_peer(const bmp::PerPeerHeader& p) {
  sink(p.ipv6() + p.post_policy() + p.legacy_as_path() + p.adj_rib_out() + p.loc_rib_filtered() +
       p.peer_as + p.bgp_identifier + p.timestamp_seconds + p.timestamp_microseconds);
  sink(p.peer_address().to_string().size());
  sink(bmp::to_string(p.peer_type) != nullptr);
  // set_peer_address keeps the address and the V flag consistent.
  bmp::PerPeerHeader copy = p;
  copy.set_peer_address(p.peer_address());
  require(copy.peer_address() == p.peer_address() || p.is_loc_rib(),
          "set_peer_address keeps the address");
}

void walk_tlvs(const std::vector<bmp::Tlv>& tlvs) {
  for (const auto& t : tlvs) {
    sink(t.type + t.value.size());
    sink(bmp::to_string(static_cast<bmp::InformationType>(t.type)) != nullptr);
  }
}

void walk_message(const bmp::Message& m, Station& station) {
  sink(bmp::to_string(bmp::type_of(m)) != nullptr);
  std::visit(
      [&station](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bmp::RouteMonitoring>) {
          walk_peer(v.peer);
          const bgp::ParseContext ctx =
              bmp::route_monitoring_context(station.sent, station.received, v.peer);
          require(ctx.four_octet_as == !v.peer.legacy_as_path(), "the A flag sets the AS width");
          require(v.peer.is_loc_rib() ? !ctx.ibgp && !ctx.ebgp : ctx.ibgp != ctx.ebgp,
                  "the session kind is known except for Loc-RIB");
          sink(bmp::as_width_consistent(station.sent, station.received, v.peer));
          require(v.update.size() >= bgp::kHeaderSize, "Route Monitoring holds a BGP message");
          const Buffer update(v.update);
          if (auto u = bgp::parse_update(update.span(), ctx)) {
            walk_update(*u);
          }
          sink(v.trailing.size());
        } else if constexpr (std::is_same_v<T, bmp::StatisticsReport>) {
          walk_peer(v.peer);
          for (const auto& s : v.stats) {
            sink(static_cast<std::uint8_t>(s.kind) + s.value + s.raw.size());
            sink(bmp::to_string(s.type) != nullptr);
            if (s.kind == bmp::StatKind::Counter32) {
              require(s.value <= 0xFFFFFFFFU, "a counter fits 32 bits");
            }
          }
        } else if constexpr (std::is_same_v<T, bmp::PeerDown>) {
          walk_peer(v.peer);
          sink(bmp::to_string(v.reason) != nullptr);
          if (v.notification) {
            const auto& n = *v.notification;
            sink(n.code + n.data.size() + bgp::may_carry_shutdown_communication(n));
            if (auto text = bgp::shutdown_communication(n)) {
              sink(text->size());
            }
            if (auto inner = bgp::hard_reset_inner(n)) {
              sink(inner->code);
            }
          }
          walk_tlvs(v.tlvs);
          sink(v.fsm_event + v.data.size());
        } else if constexpr (std::is_same_v<T, bmp::PeerUp>) {
          walk_peer(v.peer);
          sink(v.local_ip().to_string().size() + v.local_port + v.remote_port);
          walk_tlvs(v.information);
          auto ctx = bmp::route_monitoring_context(v, v.peer);
          auto sent = bgp::parse_open(v.sent_open);
          auto received = bgp::parse_open(v.received_open);
          require(ctx.has_value() == (sent.has_value() && received.has_value()),
                  "the Peer Up context needs both OPENs");
          if (sent && received) {
            sink(bmp::as_width_consistent(*sent, *received, v.peer));
            station.sent = std::move(*sent);
            station.received = std::move(*received);
          }
        } else if constexpr (std::is_same_v<T, bmp::Initiation>) {
          walk_tlvs(v.information);
        } else if constexpr (std::is_same_v<T, bmp::Termination>) {
          walk_tlvs(v.information);
          if (auto r = v.reason()) {
            sink(bmp::to_string(*r) != nullptr);
          }
        } else if constexpr (std::is_same_v<T, bmp::RouteMirroring>) {
          walk_peer(v.peer);
          const bgp::ParseContext ctx =
              bmp::route_monitoring_context(station.sent, station.received, v.peer);
          for (const auto& t : v.tlvs) {
            if (t.type == static_cast<std::uint16_t>(bmp::MirroringType::BgpMessage)) {
              decode_pdu(t.value, ctx);
            }
          }
          if (auto info = v.information()) {
            sink(bmp::to_string(*info) != nullptr);
          }
        } else if constexpr (std::is_same_v<T, bmp::RawMessage>) {
          sink(v.body.size() + v.version);
        }
      },
      m);
}

void run_message(std::span<const std::uint8_t> bytes, Station& station) {
  auto peer = bmp::peek_per_peer_header(bytes);
  auto m = bmp::parse_message(bytes, 1000);
  if (!m) {
    require(m.error().offset >= 1000 && m.error().offset <= 1000 + bytes.size(),
            "BMP error offsets lie in the message");
    return;
  }
  const bmp::MessageType type = bmp::type_of(*m);
  require(static_cast<std::uint8_t>(type) == bytes[5], "type_of is the header's type");
  if (peer && bytes[0] == bmp::kVersion) {
    std::visit(
        [&peer](const auto& v) {
          if constexpr (requires { v.peer; }) {
            require(v.peer == *peer, "peek_per_peer_header agrees with parse_message");
          }
        },
        *m);
  }
  walk_message(*m, station);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> rest(data, size);
  Station station;
  for (int i = 0; i < kMaxMessages && !rest.empty(); ++i) {
    const bmp::Frame f = bmp::frame(rest);
    if (f.status == bgp::FrameStatus::Broken) {
      require(f.error.message != nullptr, "broken frames say why");
      break;
    }
    if (f.status == bgp::FrameStatus::NeedMore) {
      require(f.size > rest.size(), "NeedMore asks for more than there is");
      // The parser refuses what framing could not complete.
      const Buffer tail(rest);
      require(!bmp::parse_message(tail.span()), "a partial message does not parse");
      break;
    }
    require(f.size >= bmp::kCommonHeaderSize && f.size <= rest.size() && f.size == f.header.length,
            "a message lies in the input");
    const Buffer message(rest.first(f.size));
    run_message(message.span(), station);
    rest = rest.subspan(f.size);
  }
  return 0;
}
