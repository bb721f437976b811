#include "codec/bgp/capability.hpp"

#include <algorithm>
#include <string_view>
#include <type_traits>

#include "codec/bgp/attribute_types.hpp"
#include "codec/bgp/notification_codes.hpp"
#include "codec/bgp/open.hpp"

namespace bgpscribe::codec::bgp {

namespace {

constexpr std::size_t kMaxCapabilityValue = 255;

// RFC 5492 names no subcode for a malformed capability; like BIRD and GoBGP we send 2/0.
Failure malformed(std::uint32_t offset, const char* message) {
  return fail(ErrorKind::BadLength, offset, message, error_code::kOpenMessage, 0,
              Reaction::SessionReset);
}

std::string to_text(wire::Bytes b) {
  return std::string(b.begin(), b.end());
}

// Octet by octet, because the codec never reinterprets memory.
void write_text(wire::Writer& w, const std::string& s) {
  for (const char ch : s) {
    w.u8(static_cast<std::uint8_t>(ch));
  }
}

Result<AfiSafi> read_afi_safi(wire::Reader& v) {
  auto afi = v.u16();
  if (!afi) {
    return fail(afi.error());
  }
  auto safi = v.u8();
  if (!safi) {
    return fail(safi.error());
  }
  return AfiSafi{static_cast<Afi>(*afi), static_cast<Safi>(*safi)};
}

void write_afi_safi(wire::Writer& w, AfiSafi f) {
  w.u16(static_cast<std::uint16_t>(f.afi));
  w.u8(static_cast<std::uint8_t>(f.safi));
}

// The value of one capability, decoded by its code. `length_offset` points at the length octet.
Result<CapabilityValue> parse_value(std::uint8_t code, wire::Reader& v,
                                    std::uint32_t length_offset) {
  const std::size_t len = v.remaining();
  switch (static_cast<CapabilityCode>(code)) {
    case CapabilityCode::Multiprotocol: {  // RFC 4760 section 8
      if (len != 4) {
        return malformed(length_offset, "multiprotocol capability length is not 4");
      }
      const auto afi = v.u16().value();
      const auto reserved = v.u8().value();
      const auto safi = v.u8().value();
      return CapabilityValue{MultiprotocolCapability{
          AfiSafi{static_cast<Afi>(afi), static_cast<Safi>(safi)}, reserved}};
    }
    case CapabilityCode::RouteRefresh:  // RFC 2918 section 2
      if (len != 0) {
        return malformed(length_offset, "route refresh capability must be empty");
      }
      return CapabilityValue{RouteRefreshCapability{}};
    case CapabilityCode::ExtendedMessage:  // RFC 8654 section 3
      if (len != 0) {
        return malformed(length_offset, "extended message capability must be empty");
      }
      return CapabilityValue{ExtendedMessageCapability{}};
    case CapabilityCode::EnhancedRouteRefresh:  // RFC 7313 section 3
      if (len != 0) {
        return malformed(length_offset, "enhanced route refresh capability must be empty");
      }
      return CapabilityValue{EnhancedRouteRefreshCapability{}};
    case CapabilityCode::CiscoRouteRefresh:
      if (len != 0) {
        return malformed(length_offset, "Cisco route refresh capability must be empty");
      }
      return CapabilityValue{CiscoRouteRefreshCapability{}};
    case CapabilityCode::ExtendedNextHop: {  // RFC 8950 section 3
      if (len % 6 != 0) {
        return malformed(length_offset, "extended next hop capability length not a multiple of 6");
      }
      ExtendedNextHopCapability c;
      while (!v.empty()) {
        const auto afi = v.u16().value();
        const auto safi = v.u16().value();
        const auto nh_afi = v.u16().value();
        c.tuples.push_back({static_cast<Afi>(afi), safi, static_cast<Afi>(nh_afi)});
      }
      return CapabilityValue{std::move(c)};
    }
    case CapabilityCode::Role:  // RFC 9234 section 4.1
      if (len != 1) {
        return malformed(length_offset, "role capability length is not 1");
      }
      return CapabilityValue{RoleCapability{static_cast<BgpRole>(v.u8().value())}};
    case CapabilityCode::GracefulRestart: {  // RFC 4724 section 3
      if (len < 2 || (len - 2) % 4 != 0) {
        return malformed(length_offset, "graceful restart capability length is not 2 + 4n");
      }
      GracefulRestartCapability c;
      const auto word = v.u16().value();
      c.flags = static_cast<std::uint8_t>(word >> 12);
      c.restart_time = static_cast<std::uint16_t>(word & 0x0FFF);
      while (!v.empty()) {
        auto f = read_afi_safi(v);
        if (!f) {
          return fail(f.error());
        }
        c.tuples.push_back({*f, v.u8().value()});
      }
      return CapabilityValue{std::move(c)};
    }
    case CapabilityCode::FourOctetAs:  // RFC 6793 section 3
      if (len != 4) {
        return malformed(length_offset, "4-octet AS capability length is not 4");
      }
      return CapabilityValue{FourOctetAsCapability{v.u32().value()}};
    case CapabilityCode::AddPath: {  // RFC 7911 section 4
      if (len % 4 != 0) {
        return malformed(length_offset, "ADD-PATH capability length not a multiple of 4");
      }
      AddPathCapability c;
      while (!v.empty()) {
        auto f = read_afi_safi(v);
        if (!f) {
          return fail(f.error());
        }
        c.tuples.push_back({*f, static_cast<AddPathMode>(v.u8().value())});
      }
      return CapabilityValue{std::move(c)};
    }
    case CapabilityCode::LongLivedGracefulRestart: {  // RFC 9494 section 3
      if (len % 7 != 0) {
        return malformed(length_offset, "LLGR capability length not a multiple of 7");
      }
      LlgrCapability c;
      while (!v.empty()) {
        auto f = read_afi_safi(v);
        if (!f) {
          return fail(f.error());
        }
        const auto flags = v.u8().value();
        const auto time = v.u24().value();
        c.tuples.push_back({*f, flags, time});
      }
      return CapabilityValue{std::move(c)};
    }
    case CapabilityCode::Fqdn: {  // draft-walton-bgp-hostname-capability section 2
      auto host_len = v.u8();
      if (!host_len) {
        return malformed(length_offset, "FQDN capability is empty");
      }
      auto host = v.bytes(*host_len);
      if (!host) {
        return malformed(length_offset, "FQDN hostname overruns the capability");
      }
      auto domain_len = v.u8();
      if (!domain_len) {
        return malformed(length_offset, "FQDN capability lacks the domain length");
      }
      auto domain = v.bytes(*domain_len);
      if (!domain || !v.empty()) {
        return malformed(length_offset, "FQDN domain does not fill the capability");
      }
      return CapabilityValue{FqdnCapability{to_text(*host), to_text(*domain)}};
    }
    case CapabilityCode::SoftwareVersion: {  // draft-abraitis-bgp-version-capability
      auto text_len = v.u8();
      if (!text_len || *text_len + 1U != len) {
        return malformed(length_offset, "software version length does not fill the capability");
      }
      return CapabilityValue{SoftwareVersionCapability{to_text(v.bytes(*text_len).value())}};
    }
    case CapabilityCode::OutboundRouteFiltering:
    case CapabilityCode::Bgpsec:
    case CapabilityCode::MultipleLabels:
    case CapabilityCode::DynamicCapability:
    case CapabilityCode::Multisession:
    case CapabilityCode::CpOrf:
    case CapabilityCode::CiscoMultisession:
      break;
  }
  // Unknown and uninterpreted codes survive unchanged (RFC 5492 section 3: ignore, keep).
  const auto rest = v.rest();
  return CapabilityValue{RawCapability{{rest.begin(), rest.end()}}};
}

// Octets of the value alone.
std::size_t value_size(const CapabilityValue& value) {
  return std::visit(
      [](const auto& c) -> std::size_t {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, MultiprotocolCapability> ||
                      std::is_same_v<T, FourOctetAsCapability>) {
          return 4;
        } else if constexpr (std::is_same_v<T, ExtendedNextHopCapability>) {
          return 6 * c.tuples.size();
        } else if constexpr (std::is_same_v<T, RoleCapability>) {
          return 1;
        } else if constexpr (std::is_same_v<T, GracefulRestartCapability>) {
          return 2 + 4 * c.tuples.size();
        } else if constexpr (std::is_same_v<T, AddPathCapability>) {
          return 4 * c.tuples.size();
        } else if constexpr (std::is_same_v<T, LlgrCapability>) {
          return 7 * c.tuples.size();
        } else if constexpr (std::is_same_v<T, FqdnCapability>) {
          return 2 + c.hostname.size() + c.domain.size();
        } else if constexpr (std::is_same_v<T, SoftwareVersionCapability>) {
          return 1 + c.version.size();
        } else if constexpr (std::is_same_v<T, RawCapability>) {
          return c.value.size();
        } else {
          return 0;  // the empty capabilities
        }
      },
      value);
}

void write_value(const CapabilityValue& value, wire::Writer& w) {
  std::visit(
      [&w](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, MultiprotocolCapability>) {
          w.u16(static_cast<std::uint16_t>(c.family.afi));
          w.u8(c.reserved);
          w.u8(static_cast<std::uint8_t>(c.family.safi));
        } else if constexpr (std::is_same_v<T, ExtendedNextHopCapability>) {
          for (const auto& t : c.tuples) {
            w.u16(static_cast<std::uint16_t>(t.nlri_afi));
            w.u16(t.nlri_safi);
            w.u16(static_cast<std::uint16_t>(t.next_hop_afi));
          }
        } else if constexpr (std::is_same_v<T, RoleCapability>) {
          w.u8(static_cast<std::uint8_t>(c.role));
        } else if constexpr (std::is_same_v<T, GracefulRestartCapability>) {
          w.u16(static_cast<std::uint16_t>(((c.flags & 0x0FU) << 12) | (c.restart_time & 0x0FFFU)));
          for (const auto& t : c.tuples) {
            write_afi_safi(w, t.family);
            w.u8(t.flags);
          }
        } else if constexpr (std::is_same_v<T, FourOctetAsCapability>) {
          w.u32(c.asn);
        } else if constexpr (std::is_same_v<T, AddPathCapability>) {
          for (const auto& t : c.tuples) {
            write_afi_safi(w, t.family);
            w.u8(static_cast<std::uint8_t>(t.mode));
          }
        } else if constexpr (std::is_same_v<T, LlgrCapability>) {
          for (const auto& t : c.tuples) {
            write_afi_safi(w, t.family);
            w.u8(t.flags);
            w.u24(t.stale_time & 0xFFFFFFU);
          }
        } else if constexpr (std::is_same_v<T, FqdnCapability>) {
          w.u8(static_cast<std::uint8_t>(c.hostname.size()));
          write_text(w, c.hostname);
          w.u8(static_cast<std::uint8_t>(c.domain.size()));
          write_text(w, c.domain);
        } else if constexpr (std::is_same_v<T, SoftwareVersionCapability>) {
          w.u8(static_cast<std::uint8_t>(c.version.size()));
          write_text(w, c.version);
        } else if constexpr (std::is_same_v<T, RawCapability>) {
          w.bytes(c.value);
        }
      },
      value);
}

}  // namespace

CapabilityCode capability_code_of(const CapabilityValue& value, CapabilityCode raw_code) {
  return std::visit(
      [raw_code](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, MultiprotocolCapability>) {
          return CapabilityCode::Multiprotocol;
        } else if constexpr (std::is_same_v<T, RouteRefreshCapability>) {
          return CapabilityCode::RouteRefresh;
        } else if constexpr (std::is_same_v<T, ExtendedNextHopCapability>) {
          return CapabilityCode::ExtendedNextHop;
        } else if constexpr (std::is_same_v<T, ExtendedMessageCapability>) {
          return CapabilityCode::ExtendedMessage;
        } else if constexpr (std::is_same_v<T, RoleCapability>) {
          return CapabilityCode::Role;
        } else if constexpr (std::is_same_v<T, GracefulRestartCapability>) {
          return CapabilityCode::GracefulRestart;
        } else if constexpr (std::is_same_v<T, FourOctetAsCapability>) {
          return CapabilityCode::FourOctetAs;
        } else if constexpr (std::is_same_v<T, AddPathCapability>) {
          return CapabilityCode::AddPath;
        } else if constexpr (std::is_same_v<T, EnhancedRouteRefreshCapability>) {
          return CapabilityCode::EnhancedRouteRefresh;
        } else if constexpr (std::is_same_v<T, LlgrCapability>) {
          return CapabilityCode::LongLivedGracefulRestart;
        } else if constexpr (std::is_same_v<T, FqdnCapability>) {
          return CapabilityCode::Fqdn;
        } else if constexpr (std::is_same_v<T, SoftwareVersionCapability>) {
          return CapabilityCode::SoftwareVersion;
        } else if constexpr (std::is_same_v<T, CiscoRouteRefreshCapability>) {
          return CapabilityCode::CiscoRouteRefresh;
        } else {
          return raw_code;
        }
      },
      value);
}

// RFC 5492 section 4.
Result<Capability> parse_capability(wire::Reader& r) {
  auto code = r.u8();
  if (!code) {
    return malformed(r.offset(), "capability header truncated");
  }
  const std::uint32_t length_offset = r.offset();
  auto length = r.u8();
  if (!length) {
    return malformed(length_offset, "capability header truncated");
  }
  auto v = r.sub(*length);
  if (!v) {
    return malformed(length_offset, "capability overruns its parameter");
  }
  auto value = parse_value(*code, *v, length_offset);
  if (!value) {
    return fail(value.error());
  }
  return Capability{static_cast<CapabilityCode>(*code), std::move(*value)};
}

Result<std::vector<Capability>> parse_capabilities(wire::Reader& r) {
  std::vector<Capability> out;
  while (!r.empty()) {
    auto c = parse_capability(r);
    if (!c) {
      return fail(c.error());
    }
    out.push_back(std::move(*c));
  }
  return out;
}

std::size_t encoded_capability_size(const Capability& c) {
  return 2 + value_size(c.value);
}

// RFC 5492 section 4.
Status encode_capability(const Capability& c, wire::Writer& w) {
  const std::size_t size = value_size(c.value);
  if (size > kMaxCapabilityValue) {
    return fail(ErrorKind::TooLarge, static_cast<std::uint32_t>(w.size()),
                "capability value exceeds 255 octets");
  }
  w.u8(static_cast<std::uint8_t>(capability_code_of(c.value, c.code)));
  w.u8(static_cast<std::uint8_t>(size));
  write_value(c.value, w);
  return {};
}

// ---- Negotiation ----------------------------------------------------------------------------

std::vector<AfiSafi> advertised_families(const Open& open) {
  std::vector<AfiSafi> out;
  for (const auto* mp : open.find_all<MultiprotocolCapability>()) {
    if (std::find(out.begin(), out.end(), mp->family) == out.end()) {
      out.push_back(mp->family);
    }
  }
  // RFC 4760 section 8 and RFC 4271: a speaker without cap 1 speaks IPv4 unicast only.
  if (out.empty()) {
    out.push_back(kIpv4Unicast);
  }
  return out;
}

namespace {

// The mode a speaker advertised for a family; for repeats within cap 69 the last one counts.
std::optional<AddPathTuple> add_path_mode(const Open& open, AfiSafi family) {
  std::optional<AddPathTuple> found;
  for (const auto* cap : open.find_all<AddPathCapability>()) {
    for (const auto& t : cap->tuples) {
      if (t.family == family) {
        found = t;
      }
    }
  }
  return found;
}

Failure open_error(std::uint8_t subcode, const char* message) {
  return fail(ErrorKind::BadValue, 0, message, error_code::kOpenMessage, subcode,
              Reaction::SessionReset);
}

// RFC 9234 section 4.2: every Role capability of one OPEN must agree.
Result<std::optional<BgpRole>> single_role(const Open& open) {
  std::optional<BgpRole> role;
  for (const auto* r : open.find_all<RoleCapability>()) {
    if (role && *role != r->role) {
      return open_error(open_subcode::kRoleMismatch, "conflicting BGP Role capabilities");
    }
    role = r->role;
  }
  return role;
}

}  // namespace

bool add_path_on_wire(const Open& sender, const Open& receiver, AfiSafi family) {
  const auto s = add_path_mode(sender, family);
  const auto r = add_path_mode(receiver, family);
  return s && r && s->can_send() && r->can_receive();
}

bool roles_compatible(BgpRole local, BgpRole peer) {
  switch (local) {
    case BgpRole::Provider:
      return peer == BgpRole::Customer;
    case BgpRole::Customer:
      return peer == BgpRole::Provider;
    case BgpRole::RouteServer:
      return peer == BgpRole::RsClient;
    case BgpRole::RsClient:
      return peer == BgpRole::RouteServer;
    case BgpRole::Peer:
      return peer == BgpRole::Peer;
  }
  return false;
}

bool NegotiatedSession::has_family(AfiSafi f) const {
  return std::find(families.begin(), families.end(), f) != families.end();
}

ParseContext NegotiatedSession::receive_context() const {
  ParseContext ctx;
  ctx.four_octet_as = four_octet_as;
  ctx.extended_message = extended_message;
  ctx.ibgp = ibgp;
  ctx.ebgp = !ibgp;
  for (const auto& f : add_path_receive) {
    ctx.set_add_path(f, true);
  }
  return ctx;
}

ParseContext NegotiatedSession::send_context() const {
  ParseContext ctx;
  ctx.four_octet_as = four_octet_as;
  ctx.extended_message = extended_message;
  ctx.ibgp = ibgp;
  ctx.ebgp = !ibgp;
  for (const auto& f : add_path_send) {
    ctx.set_add_path(f, true);
  }
  return ctx;
}

// RFC 4271 section 4.2 and 6.2, RFC 5492, RFC 4760 section 8, RFC 6793 section 4, RFC 7911
// section 5, RFC 8654 section 3, RFC 7313 section 3, RFC 9234 section 4.2.
Result<NegotiatedSession> negotiate(const Open& sent, const Open& received,
                                    const NegotiationOptions& options) {
  NegotiatedSession s;

  // RFC 4271 section 6.2: the peer's hold time must be 0 or at least 3.
  if (received.hold_time == 1 || received.hold_time == 2) {
    return open_error(open_subcode::kUnacceptableHoldTime, "hold time 1 or 2 is not allowed");
  }
  s.hold_time = std::min(sent.hold_time, received.hold_time);
  s.keepalive_time = s.hold_time == 0 ? 0 : std::max<std::uint16_t>(1, s.hold_time / 3);

  s.local_as = real_as(sent);
  s.peer_as = real_as(received);
  s.peer_as_mismatch = received.find_last<FourOctetAsCapability>() != nullptr &&
                       received.my_as != kAsTrans && received.my_as != s.peer_as;
  s.four_octet_as = sent.has_capability(CapabilityCode::FourOctetAs) &&
                    received.has_capability(CapabilityCode::FourOctetAs);
  s.ibgp = s.local_as == s.peer_as;
  s.peer_bgp_identifier = received.bgp_identifier;
  // RFC 4271 section 6.2 (as updated by RFC 6286 section 2.2): the same identifier is only an
  // error between speakers of one AS.
  if (s.ibgp && received.bgp_identifier == sent.bgp_identifier) {
    return open_error(open_subcode::kBadBgpIdentifier, "iBGP peer uses our BGP Identifier");
  }

  const auto ours = advertised_families(sent);
  const auto theirs = advertised_families(received);
  for (const auto& f : ours) {
    if (std::find(theirs.begin(), theirs.end(), f) != theirs.end()) {
      s.families.push_back(f);
    }
  }
  for (const auto& f : s.families) {
    if (add_path_on_wire(received, sent, f)) {
      s.add_path_receive.push_back(f);
    }
    if (add_path_on_wire(sent, received, f)) {
      s.add_path_send.push_back(f);
    }
  }

  s.extended_message = sent.has_capability(CapabilityCode::ExtendedMessage) &&
                       received.has_capability(CapabilityCode::ExtendedMessage);
  s.route_refresh = received.has_capability(CapabilityCode::RouteRefresh) ||
                    received.has_capability(CapabilityCode::CiscoRouteRefresh);
  s.enhanced_route_refresh = sent.has_capability(CapabilityCode::EnhancedRouteRefresh) &&
                             received.has_capability(CapabilityCode::EnhancedRouteRefresh);
  if (const auto* gr = received.find_last<GracefulRestartCapability>()) {
    s.peer_graceful_restart = *gr;
  }
  if (const auto* llgr = received.find_last<LlgrCapability>()) {
    s.peer_llgr = *llgr;
  }

  auto local_role = single_role(sent);
  if (!local_role) {
    return fail(local_role.error());
  }
  auto peer_role = single_role(received);
  if (!peer_role) {
    return fail(peer_role.error());
  }
  s.local_role = *local_role;
  s.peer_role = *peer_role;
  if (s.local_role && s.peer_role && !roles_compatible(*s.local_role, *s.peer_role)) {
    return open_error(open_subcode::kRoleMismatch, "BGP Roles do not form an allowed pair");
  }
  if (s.local_role && !s.peer_role && options.strict_role) {
    return open_error(open_subcode::kRoleMismatch, "peer advertised no BGP Role (strict mode)");
  }
  return s;
}

std::uint32_t real_as(const Open& open) {
  if (const auto* as4 = open.find_last<FourOctetAsCapability>()) {
    return as4->asn;
  }
  return open.my_as;
}

}  // namespace bgpscribe::codec::bgp
