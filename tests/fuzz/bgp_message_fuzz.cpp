// Fuzz target for BGP framing and the non-UPDATE messages: codec/bgp/message.hpp, open.hpp,
// capability.hpp (negotiation included), notification.hpp and route_refresh.hpp.
//
// The input is a stream of BGP messages. It is framed with both size limits (4096 and the
// RFC 8654 65535); every framed message goes through every parser (each must refuse the
// types it does not handle), and the values that parse are walked completely: capabilities,
// negotiation in both directions against a fixed local OPEN, the contexts it yields, the
// Shutdown Communication, Hard Reset and Max Prefixes views of a NOTIFICATION. NOTIFICATION,
// ROUTE-REFRESH and KEEPALIVE re-encode to their bytes; OPEN has its own round-trip target.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "codec/bgp/capability.hpp"
#include "codec/bgp/message.hpp"
#include "codec/bgp/notification.hpp"
#include "codec/bgp/open.hpp"
#include "codec/bgp/route_refresh.hpp"
#include "codec/wire/writer.hpp"

namespace {

using namespace bgpscribe::codec;
using namespace bgpscribe::codec::bgp;

// Not assert(): fuzz builds define NDEBUG, and a broken invariant must crash there too.
void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "bgp_message_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

// Keeps the optimiser from dropping the reads that walk the values.
volatile std::uint64_t g_sink = 0;
void sink(std::uint64_t v) {
  g_sink = g_sink + v;
}

bool same(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

void check_error(const Error& e, std::size_t base, std::size_t size, const char* what) {
  require(e.message != nullptr, what);
  // Offsets point into the message (or at its end for a truncation).
  require(e.offset >= base && e.offset <= base + size, what);
}

// The local side of every negotiation: typical capabilities, a role and ADD-PATH.
const Open& local_open() {
  static const Open open = [] {
    Open o;
    o.my_as = 23456;
    o.hold_time = 90;
    o.bgp_identifier = 0xC0000201;
    o.add_capability(Capability::of(MultiprotocolCapability{kIpv4Unicast, 0}));
    o.add_capability(Capability::of(MultiprotocolCapability{kIpv6Unicast, 0}));
    o.add_capability(Capability::of(RouteRefreshCapability{}));
    o.add_capability(Capability::of(EnhancedRouteRefreshCapability{}));
    o.add_capability(Capability::of(ExtendedMessageCapability{}));
    o.add_capability(Capability::of(FourOctetAsCapability{4200000000U}));
    o.add_capability(Capability::of(RoleCapability{BgpRole::Customer}));
    o.add_capability(Capability::of(AddPathCapability{
        {{kIpv4Unicast, AddPathMode::Both}, {kIpv6Unicast, AddPathMode::Receive}}}));
    o.add_capability(Capability::of(GracefulRestartCapability{0x8, 120, {{kIpv4Unicast, 0x80}}}));
    return o;
  }();
  return open;
}

void walk_capability(const Capability& c) {
  // A typed value always re-encodes under its own code.
  const CapabilityCode code = capability_code_of(c.value, c.code);
  if (!std::holds_alternative<RawCapability>(c.value)) {
    require(code == c.code, "typed capability keeps its code");
  }
  sink(static_cast<std::uint8_t>(code) + encoded_capability_size(c));
  std::visit(
      [](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, MultiprotocolCapability>) {
          sink(static_cast<std::uint16_t>(v.family.afi) + v.reserved);
        } else if constexpr (std::is_same_v<T, ExtendedNextHopCapability>) {
          for (const auto& t : v.tuples) {
            sink(static_cast<std::uint16_t>(t.nlri_afi) + t.nlri_safi +
                 static_cast<std::uint16_t>(t.next_hop_afi));
          }
        } else if constexpr (std::is_same_v<T, RoleCapability>) {
          sink(static_cast<std::uint8_t>(v.role));
        } else if constexpr (std::is_same_v<T, GracefulRestartCapability>) {
          require(v.restart_time <= 0x0FFF && v.flags <= 0x0F, "GR fields fit their bits");
          sink(v.restarting() + v.notification());
          for (const auto& t : v.tuples) {
            sink(t.forwarding_preserved() + static_cast<std::uint8_t>(t.family.safi));
          }
        } else if constexpr (std::is_same_v<T, FourOctetAsCapability>) {
          sink(v.asn);
        } else if constexpr (std::is_same_v<T, AddPathCapability>) {
          for (const auto& t : v.tuples) {
            sink(t.can_receive() + t.can_send());
          }
        } else if constexpr (std::is_same_v<T, LlgrCapability>) {
          for (const auto& t : v.tuples) {
            require(t.stale_time <= 0xFFFFFF, "LLGR stale time fits 24 bits");
            sink(t.flags + t.stale_time);
          }
        } else if constexpr (std::is_same_v<T, FqdnCapability>) {
          require(v.hostname.size() <= 255 && v.domain.size() <= 255, "FQDN parts fit a byte");
          sink(v.hostname.size() + v.domain.size());
        } else if constexpr (std::is_same_v<T, SoftwareVersionCapability>) {
          sink(v.version.size());
        } else if constexpr (std::is_same_v<T, RawCapability>) {
          sink(v.value.size());
        }
      },
      c.value);
  // Every parsed capability fits a TLV again.
  wire::Writer w;
  require(encode_capability(c, w).has_value(), "parsed capability encodes");
  require(w.size() == encoded_capability_size(c), "encoded_capability_size is exact");
  wire::Reader r(w.bytes());
  auto again = parse_capability(r);
  require(again.has_value() && r.empty(), "encoded capability parses");
  require(*again == c, "capability round-trips");
}

void walk_session(const NegotiatedSession& s) {
  sink(s.families.size() + s.four_octet_as + s.local_as + s.peer_as + s.peer_as_mismatch +
       s.peer_bgp_identifier + s.ibgp + s.extended_message + s.route_refresh +
       s.enhanced_route_refresh + s.hold_time + s.keepalive_time);
  require(s.hold_time == 0 || s.keepalive_time >= 1, "keepalive at least 1 s with a hold time");
  require(s.keepalive_time <= s.hold_time, "keepalive within the hold time");
  for (const auto& f : s.add_path_receive) {
    require(s.has_family(f), "ADD-PATH receive only on negotiated families");
  }
  for (const auto& f : s.add_path_send) {
    require(s.has_family(f), "ADD-PATH send only on negotiated families");
  }
  const ParseContext rx = s.receive_context();
  const ParseContext tx = s.send_context();
  require(rx.ibgp != rx.ebgp && tx.ibgp == rx.ibgp, "contexts know the session kind");
  for (const auto& f : s.families) {
    sink(rx.add_path(f) + tx.add_path(f) + s.has_family(f));
  }
  if (s.peer_graceful_restart) {
    sink(s.peer_graceful_restart->tuples.size());
  }
  if (s.peer_llgr) {
    sink(s.peer_llgr->tuples.size());
  }
  if (s.local_role && s.peer_role) {
    require(roles_compatible(*s.local_role, *s.peer_role), "negotiated roles are compatible");
  }
}

void walk_open(const Open& open, std::span<const std::uint8_t> message) {
  require(open.version == kBgpVersion && open.my_as != 0 && open.bgp_identifier != 0,
          "parse_open enforces version, My AS and identifier");
  require(open.hold_time != 1 && open.hold_time != 2, "parse_open enforces the hold time");
  for (const auto& p : open.parameters) {
    require(p.type == open_parameter::kCapabilities, "only Capabilities parameters parse");
    for (const auto& c : p.capabilities) {
      walk_capability(c);
      require(open.has_capability(c.code), "has_capability finds every capability");
    }
  }
  sink(open.find_all<MultiprotocolCapability>().size() + open.find_all<AddPathCapability>().size() +
       open.find_all<RoleCapability>().size());
  if (const auto* gr = open.find_last<GracefulRestartCapability>()) {
    sink(gr->tuples.size());
  }
  if (const auto* llgr = open.find_last<LlgrCapability>()) {
    sink(llgr->tuples.size());
  }
  if (const auto* as4 = open.find_last<FourOctetAsCapability>()) {
    sink(as4->asn);
  }
  require(!advertised_families(open).empty(), "an OPEN always advertises a family");

  const Open& local = local_open();
  for (const bool strict : {false, true}) {
    const NegotiationOptions options{strict};
    if (auto s = negotiate(local, open, options)) {
      walk_session(*s);
    } else {
      require(s.error().code == 2 && s.error().offset == 0, "negotiate fails with 2/x at 0");
    }
    if (auto s = negotiate(open, local, options)) {
      walk_session(*s);
    }
    if (auto s = negotiate(open, open, options)) {
      walk_session(*s);
    }
  }
  for (const auto& f : advertised_families(open)) {
    sink(add_path_on_wire(open, local, f) + add_path_on_wire(local, open, f));
  }

  // Encoding never fails on what parsed (the parse limits are tighter than the encoder's).
  wire::Writer w;
  require(encode_open(open, w).has_value(), "parsed OPEN encodes");
  require(w.size() <= kMaxMessageSize, "encoded OPEN fits 4096");
  sink(message.size());
}

void walk_notification(const Notification& n, std::span<const std::uint8_t> message) {
  sink(n.code + n.subcode + n.data.size());
  if (auto text = shutdown_communication(n)) {
    require(may_carry_shutdown_communication(n), "only 6/2 and 6/4 carry a communication");
    require(!text->empty() && text->size() < n.data.size(), "communication inside the data");
    const auto data = shutdown_communication_data(*text);
    require(data.size() == text->size() + 1 && data[0] == text->size(),
            "a received communication re-encodes unchanged");
  }
  if (auto inner = hard_reset_inner(n)) {
    require(make_hard_reset(*inner) == n, "Hard Reset unwraps and wraps back");
    sink(inner->code);
    if (auto text = shutdown_communication(*inner)) {
      sink(text->size());
    }
  }
  if (auto m = max_prefixes(n)) {
    const auto data = max_prefixes_data(m->family, m->limit);
    require(same(data, n.data), "Max Prefixes data re-encodes");
  }
  // Any text, cut at 255 octets without splitting UTF-8.
  const std::string all(n.data.begin(), n.data.end());
  const auto cut = shutdown_communication_data(all);
  require(cut.size() == std::size_t{cut[0]} + 1 && cut[0] <= kMaxShutdownCommunication,
          "shutdown communication data is length-prefixed");
  wire::Writer w;
  require(encode_notification(n, w, kMaxExtendedMessageSize).has_value(),
          "parsed NOTIFICATION encodes");
  require(same(w.bytes(), message), "NOTIFICATION re-encodes to its bytes");
}

void walk_route_refresh(const RouteRefresh& rr, std::span<const std::uint8_t> message) {
  sink(rr.known_subtype() + rr.orf_entries.size());
  if (rr.subtype == RouteRefreshSubtype::BeginningOfRouteRefresh ||
      rr.subtype == RouteRefreshSubtype::EndOfRouteRefresh) {
    require(rr.orf_entries.empty(), "BoRR/EoRR carry nothing");
  }
  wire::Writer w;
  require(encode_route_refresh(rr, w, kMaxExtendedMessageSize).has_value(),
          "parsed ROUTE-REFRESH encodes");
  require(same(w.bytes(), message), "ROUTE-REFRESH re-encodes to its bytes");
}

// Every parser over one framed message, at a made-up base offset.
void parse_all(std::span<const std::uint8_t> message, std::uint32_t base) {
  auto view = split_message(message, kMaxExtendedMessageSize, base);
  if (view) {
    require(view->message.size() == message.size() && view->header.length == message.size(),
            "split_message covers the message");
    require(view->body.size() + kHeaderSize == message.size(), "body follows the header");
  } else {
    check_error(view.error(), base, message.size(), "split_message error");
  }

  auto open = parse_open(message, base);
  if (open) {
    require(view && view->header.type == MessageType::Open, "only OPENs parse as OPEN");
    walk_open(*open, message);
  } else {
    check_error(open.error(), base, message.size(), "parse_open error");
  }
  auto n = parse_notification(message, base);
  if (n) {
    require(view && view->header.type == MessageType::Notification,
            "only NOTIFICATIONs parse as NOTIFICATION");
    walk_notification(*n, message);
  } else {
    check_error(n.error(), base, message.size(), "parse_notification error");
  }
  auto rr = parse_route_refresh(message, base);
  if (rr) {
    require(view && (view->header.type == MessageType::RouteRefresh ||
                     view->header.type == MessageType::CiscoRouteRefresh),
            "only ROUTE-REFRESHes parse as ROUTE-REFRESH");
    require(rr->type == view->header.type, "ROUTE-REFRESH keeps its type");
    walk_route_refresh(*rr, message);
  } else {
    check_error(rr.error(), base, message.size(), "parse_route_refresh error");
  }
  auto ka = parse_keepalive(message, base);
  if (ka) {
    require(message.size() == kHeaderSize, "KEEPALIVE is 19 octets");
    wire::Writer w;
    encode_keepalive(w);
    require(same(w.bytes(), message), "KEEPALIVE re-encodes to its bytes");
  } else {
    check_error(ka.error(), base, message.size(), "parse_keepalive error");
  }
}

void check_frame(const Frame& f, std::span<const std::uint8_t> input, std::size_t max_size) {
  switch (f.status) {
    case FrameStatus::NeedMore:
      require(f.size > input.size(), "NeedMore asks for more than there is");
      require(f.size >= kHeaderSize, "NeedMore waits for at least a header");
      if (input.size() >= kHeaderSize) {
        require(f.size == f.header.length, "with a header, NeedMore waits for the message");
      }
      break;
    case FrameStatus::Message:
      require(f.size >= kHeaderSize && f.size <= input.size(), "a message lies in the input");
      require(f.size == f.header.length, "size is the header length");
      require(f.size >= min_message_length(f.header.type), "at least the type's minimum");
      require(f.size <= max_message_length(f.header.type, max_size), "at most the limit");
      break;
    case FrameStatus::Broken:
      require(f.error.code == 1 && f.error.subcode >= 1 && f.error.subcode <= 3,
              "framing errors are 1/1, 1/2 or 1/3");
      require(f.data().size() == (f.error.subcode == 1   ? 0U
                                  : f.error.subcode == 2 ? 2U
                                                         : 1U),
              "NOTIFICATION data matches the subcode");
      require(f.error.offset < input.size() && f.error.offset < kHeaderSize,
              "framing error inside the header");
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  // Each framed message is copied into its own exactly sized buffer, so that a parser reading
  // past the message (into the next one) trips ASan.
  for (const std::size_t max_size : {kMaxMessageSize, kMaxExtendedMessageSize}) {
    std::size_t pos = 0;
    for (int count = 0; count < 64 && pos < input.size(); ++count) {
      const auto rest = input.subspan(pos);
      const Frame f = frame(rest, max_size);
      check_frame(f, rest, max_size);
      if (f.status != FrameStatus::Message) {
        // Parsers must also refuse what framing refused, whatever its size.
        if (max_size == kMaxExtendedMessageSize) {
          auto copy = std::make_unique<std::uint8_t[]>(rest.size());
          std::copy(rest.begin(), rest.end(), copy.get());
          parse_all({copy.get(), rest.size()}, static_cast<std::uint32_t>(pos));
        }
        break;
      }
      auto copy = std::make_unique<std::uint8_t[]>(f.size);
      std::copy(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(f.size), copy.get());
      const std::span<const std::uint8_t> message(copy.get(), f.size);
      wire::Reader r(message);
      auto header = parse_header(r, max_size);
      require(header.has_value() && *header == f.header, "parse_header agrees with frame");
      if (max_size == kMaxExtendedMessageSize) {
        parse_all(message, static_cast<std::uint32_t>(pos));
      }
      pos += f.size;
    }
  }
  return 0;
}
