#include "codec/bgp/text.hpp"

#include <string_view>

#include "codec/bgp/ip.hpp"
#include "codec/bgp/notification_codes.hpp"
#include "codec/wire/reader.hpp"

namespace bgpscribe::codec::bgp {

// ---- Registry names ---------------------------------------------------------------------------

const char* to_string(Afi afi) {
  switch (afi) {
    case Afi::Ipv4:
      return "ipv4";
    case Afi::Ipv6:
      return "ipv6";
    case Afi::L2vpn:
      return "l2vpn";
    case Afi::BgpLs:
      return "bgp-ls";
  }
  return nullptr;
}

const char* to_string(Safi safi) {
  switch (safi) {
    case Safi::Unicast:
      return "unicast";
    case Safi::Multicast:
      return "multicast";
    case Safi::LabeledUnicast:
      return "labeled-unicast";
    case Safi::McastVpn:
      return "mcast-vpn";
    case Safi::Vpls:
      return "vpls";
    case Safi::Evpn:
      return "evpn";
    case Safi::BgpLs:
      return "bgp-ls";
    case Safi::BgpLsVpn:
      return "bgp-ls-vpn";
    case Safi::SrPolicy:
      return "sr-policy";
    case Safi::MplsVpn:
      return "mpls-vpn";
    case Safi::MulticastVpn:
      return "multicast-vpn";
    case Safi::RouteTargetConstraint:
      return "rt-constraint";
    case Safi::FlowSpec:
      return "flowspec";
    case Safi::FlowSpecVpn:
      return "flowspec-vpn";
  }
  return nullptr;
}

const char* to_string(MessageType type) {
  switch (type) {
    case MessageType::Open:
      return "OPEN";
    case MessageType::Update:
      return "UPDATE";
    case MessageType::Notification:
      return "NOTIFICATION";
    case MessageType::Keepalive:
      return "KEEPALIVE";
    case MessageType::RouteRefresh:
      return "ROUTE-REFRESH";
    case MessageType::CiscoRouteRefresh:
      return "ROUTE-REFRESH-CISCO";
  }
  return nullptr;
}

const char* to_string(CapabilityCode code) {
  switch (code) {
    case CapabilityCode::Multiprotocol:
      return "multiprotocol";
    case CapabilityCode::RouteRefresh:
      return "route-refresh";
    case CapabilityCode::OutboundRouteFiltering:
      return "orf";
    case CapabilityCode::ExtendedNextHop:
      return "extended-next-hop";
    case CapabilityCode::ExtendedMessage:
      return "extended-message";
    case CapabilityCode::Bgpsec:
      return "bgpsec";
    case CapabilityCode::MultipleLabels:
      return "multiple-labels";
    case CapabilityCode::Role:
      return "role";
    case CapabilityCode::GracefulRestart:
      return "graceful-restart";
    case CapabilityCode::FourOctetAs:
      return "4-octet-as";
    case CapabilityCode::DynamicCapability:
      return "dynamic-capability";
    case CapabilityCode::Multisession:
      return "multisession";
    case CapabilityCode::AddPath:
      return "add-path";
    case CapabilityCode::EnhancedRouteRefresh:
      return "enhanced-route-refresh";
    case CapabilityCode::LongLivedGracefulRestart:
      return "long-lived-graceful-restart";
    case CapabilityCode::CpOrf:
      return "cp-orf";
    case CapabilityCode::Fqdn:
      return "fqdn";
    case CapabilityCode::SoftwareVersion:
      return "software-version";
    case CapabilityCode::CiscoRouteRefresh:
      return "route-refresh-cisco";
    case CapabilityCode::CiscoMultisession:
      return "multisession-cisco";
  }
  return nullptr;
}

const char* to_string(AttributeType type) {
  switch (type) {
    case AttributeType::Origin:
      return "ORIGIN";
    case AttributeType::AsPath:
      return "AS_PATH";
    case AttributeType::NextHop:
      return "NEXT_HOP";
    case AttributeType::MultiExitDisc:
      return "MULTI_EXIT_DISC";
    case AttributeType::LocalPref:
      return "LOCAL_PREF";
    case AttributeType::AtomicAggregate:
      return "ATOMIC_AGGREGATE";
    case AttributeType::Aggregator:
      return "AGGREGATOR";
    case AttributeType::Communities:
      return "COMMUNITIES";
    case AttributeType::OriginatorId:
      return "ORIGINATOR_ID";
    case AttributeType::ClusterList:
      return "CLUSTER_LIST";
    case AttributeType::MpReachNlri:
      return "MP_REACH_NLRI";
    case AttributeType::MpUnreachNlri:
      return "MP_UNREACH_NLRI";
    case AttributeType::ExtendedCommunities:
      return "EXTENDED_COMMUNITIES";
    case AttributeType::As4Path:
      return "AS4_PATH";
    case AttributeType::As4Aggregator:
      return "AS4_AGGREGATOR";
    case AttributeType::PmsiTunnel:
      return "PMSI_TUNNEL";
    case AttributeType::TunnelEncapsulation:
      return "TUNNEL_ENCAPSULATION";
    case AttributeType::Ipv6ExtendedCommunities:
      return "IPV6_EXTENDED_COMMUNITIES";
    case AttributeType::Aigp:
      return "AIGP";
    case AttributeType::BgpLs:
      return "BGP_LS";
    case AttributeType::LargeCommunities:
      return "LARGE_COMMUNITIES";
    case AttributeType::BgpsecPath:
      return "BGPSEC_PATH";
    case AttributeType::Otc:
      return "OTC";
    case AttributeType::PrefixSid:
      return "PREFIX_SID";
    case AttributeType::AttrSet:
      return "ATTR_SET";
  }
  return nullptr;
}

const char* error_code_name(std::uint8_t code) {
  switch (code) {
    case error_code::kMessageHeader:
      return "Message Header Error";
    case error_code::kOpenMessage:
      return "OPEN Message Error";
    case error_code::kUpdateMessage:
      return "UPDATE Message Error";
    case error_code::kHoldTimerExpired:
      return "Hold Timer Expired";
    case error_code::kFsm:
      return "Finite State Machine Error";
    case error_code::kCease:
      return "Cease";
    case error_code::kRouteRefresh:
      return "ROUTE-REFRESH Message Error";
    case error_code::kSendHoldTimerExpired:
      return "Send Hold Timer Expired";
    default:
      return nullptr;
  }
}

const char* error_subcode_name(std::uint8_t code, std::uint8_t subcode) {
  switch (code) {
    case error_code::kMessageHeader:
      switch (subcode) {
        case header_subcode::kConnectionNotSynchronized:
          return "Connection Not Synchronized";
        case header_subcode::kBadMessageLength:
          return "Bad Message Length";
        case header_subcode::kBadMessageType:
          return "Bad Message Type";
        default:
          return nullptr;
      }
    case error_code::kOpenMessage:
      switch (subcode) {
        case open_subcode::kUnsupportedVersion:
          return "Unsupported Version Number";
        case open_subcode::kBadPeerAs:
          return "Bad Peer AS";
        case open_subcode::kBadBgpIdentifier:
          return "Bad BGP Identifier";
        case open_subcode::kUnsupportedOptionalParameter:
          return "Unsupported Optional Parameter";
        case open_subcode::kUnacceptableHoldTime:
          return "Unacceptable Hold Time";
        case open_subcode::kUnsupportedCapability:
          return "Unsupported Capability";
        case open_subcode::kRoleMismatch:
          return "Role Mismatch";
        default:
          return nullptr;
      }
    case error_code::kUpdateMessage:
      switch (subcode) {
        case update_subcode::kMalformedAttributeList:
          return "Malformed Attribute List";
        case update_subcode::kUnrecognizedWellKnownAttribute:
          return "Unrecognized Well-known Attribute";
        case update_subcode::kMissingWellKnownAttribute:
          return "Missing Well-known Attribute";
        case update_subcode::kAttributeFlagsError:
          return "Attribute Flags Error";
        case update_subcode::kAttributeLengthError:
          return "Attribute Length Error";
        case update_subcode::kInvalidOrigin:
          return "Invalid ORIGIN Attribute";
        case update_subcode::kInvalidNextHop:
          return "Invalid NEXT_HOP Attribute";
        case update_subcode::kOptionalAttributeError:
          return "Optional Attribute Error";
        case update_subcode::kInvalidNetworkField:
          return "Invalid Network Field";
        case update_subcode::kMalformedAsPath:
          return "Malformed AS_PATH";
        default:
          return nullptr;
      }
    case error_code::kFsm:
      switch (subcode) {
        case fsm_subcode::kUnexpectedInOpenSent:
          return "Receive Unexpected Message in OpenSent State";
        case fsm_subcode::kUnexpectedInOpenConfirm:
          return "Receive Unexpected Message in OpenConfirm State";
        case fsm_subcode::kUnexpectedInEstablished:
          return "Receive Unexpected Message in Established State";
        default:
          return nullptr;
      }
    case error_code::kCease:
      switch (subcode) {
        case cease_subcode::kMaxPrefixesReached:
          return "Maximum Number of Prefixes Reached";
        case cease_subcode::kAdministrativeShutdown:
          return "Administrative Shutdown";
        case cease_subcode::kPeerDeconfigured:
          return "Peer De-configured";
        case cease_subcode::kAdministrativeReset:
          return "Administrative Reset";
        case cease_subcode::kConnectionRejected:
          return "Connection Rejected";
        case cease_subcode::kOtherConfigurationChange:
          return "Other Configuration Change";
        case cease_subcode::kConnectionCollisionResolution:
          return "Connection Collision Resolution";
        case cease_subcode::kOutOfResources:
          return "Out of Resources";
        case cease_subcode::kHardReset:
          return "Hard Reset";
        case cease_subcode::kBfdDown:
          return "BFD Down";
        default:
          return nullptr;
      }
    case error_code::kRouteRefresh:
      return subcode == route_refresh_subcode::kInvalidMessageLength ? "Invalid Message Length"
                                                                     : nullptr;
    default:
      return nullptr;
  }
}

const char* origin_name(Origin o) {
  switch (o) {
    case Origin::Igp:
      return "IGP";
    case Origin::Egp:
      return "EGP";
    case Origin::Incomplete:
      return "INCOMPLETE";
  }
  return "INCOMPLETE";
}

// ---- Values as text ---------------------------------------------------------------------------

namespace {

// The name, or the code in decimal.
template <class Code>
std::string name_or_number(Code code) {
  const char* name = to_string(code);
  return name != nullptr ? std::string(name) : std::to_string(static_cast<unsigned>(code));
}

}  // namespace

std::string family_text(AfiSafi f) {
  std::string s = name_or_number(f.afi);
  s += '/';
  s += name_or_number(f.safi);
  return s;
}

std::string capability_name(CapabilityCode code) {
  return name_or_number(code);
}

std::string capability_text(const Capability& c) {
  std::string s = capability_name(c.code);
  if (const auto* mp = c.get<MultiprotocolCapability>()) {
    s += ' ' + family_text(mp->family);
  } else if (const auto* as4 = c.get<FourOctetAsCapability>()) {
    s += ' ' + std::to_string(as4->asn);
  } else if (const auto* ap = c.get<AddPathCapability>()) {
    for (const auto& t : ap->tuples) {
      s += ' ' + family_text(t.family) +
           (t.mode == AddPathMode::Both   ? " send/receive"
            : t.mode == AddPathMode::Send ? " send"
                                          : " receive");
    }
  } else if (const auto* gr = c.get<GracefulRestartCapability>()) {
    s += ' ' + std::to_string(gr->restart_time) + 's';
    for (const auto& t : gr->tuples) {
      s += ' ' + family_text(t.family);
    }
  } else if (const auto* role = c.get<RoleCapability>()) {
    s += ' ' + std::to_string(static_cast<unsigned>(role->role));
  } else if (const auto* fqdn = c.get<FqdnCapability>()) {
    s += ' ' + fqdn->hostname + (fqdn->domain.empty() ? "" : "." + fqdn->domain);
  }
  return s;
}

std::string notification_text(std::uint8_t code, std::uint8_t subcode) {
  const char* code_name = error_code_name(code);
  std::string s = code_name != nullptr ? code_name : "code " + std::to_string(code);
  if (const char* sub = error_subcode_name(code, subcode)) {
    s += " / ";
    s += sub;
  } else if (subcode != 0) {
    s += " / subcode " + std::to_string(subcode);
  }
  return s;
}

std::size_t format_community(std::uint32_t community, char* out) {
  const std::span<char> text(out, kCommunityTextMax);
  std::size_t n = format_u64(community >> 16, text);
  text[n++] = ':';
  return n + format_u64(community & 0xFFFFU, text.subspan(n));
}

void append_community(std::string& out, std::uint32_t community) {
  char buf[kCommunityTextMax];
  out.append(buf, format_community(community, buf));
}

std::string community_text(std::uint32_t community) {
  std::string s;
  append_community(s, community);
  return s;
}

std::size_t format_large_community(std::span<const std::uint8_t> octets, char* out) {
  const std::span<char> text(out, kLargeCommunityTextMax);
  std::size_t n = format_u64(wire::load_u32(octets, 0), text);
  text[n++] = ':';
  n += format_u64(wire::load_u32(octets, 4), text.subspan(n));
  text[n++] = ':';
  return n + format_u64(wire::load_u32(octets, 8), text.subspan(n));
}

void append_large_community(std::string& out, std::span<const std::uint8_t> octets) {
  char buf[kLargeCommunityTextMax];
  out.append(buf, format_large_community(octets, buf));
}

std::string large_community_text(std::span<const std::uint8_t> octets) {
  std::string s;
  append_large_community(s, octets);
  return s;
}

std::string large_community_text(const std::array<std::uint32_t, 3>& community) {
  std::array<std::uint8_t, 12> octets{};
  for (std::size_t i = 0; i < 12; ++i) {
    octets[i] = static_cast<std::uint8_t>(community[i / 4] >> (24 - 8 * (i % 4)));
  }
  return large_community_text(octets);
}

void append_extended_community(std::string& out, std::span<const std::uint8_t> c) {
  const bool typed = c.size() == 8;
  const std::uint8_t type = typed ? c[0] : 0;
  const std::uint8_t sub = typed ? c[1] : 0;
  // Bit 0x40 is "non-transitive" (RFC 4360 2); 0x80 is the IANA authority bit: other types.
  const std::uint8_t base = type & static_cast<std::uint8_t>(~0x40U);
  const char* kind = sub == 0x02 ? "rt" : sub == 0x03 ? "ro" : nullptr;
  if (!typed || kind == nullptr || base > 0x02) {
    out += "0x";
    append_hex(out, c);
    return;
  }
  out += kind;
  out.push_back(':');
  char buf[24];
  if (base == 0x00) {  // 2-octet AS : 4-octet number
    out.append(buf, format_u64(wire::load_u16(c, 2), buf));
    out.push_back(':');
    out.append(buf, format_u64(wire::load_u32(c, 4), buf));
  } else if (base == 0x01) {  // IPv4 address : 2-octet number
    out.append(buf, format_ipv4(wire::load_u32(c, 2), buf));
    out.push_back(':');
    out.append(buf, format_u64(wire::load_u16(c, 6), buf));
  } else {  // 4-octet AS : 2-octet number (RFC 5668)
    out.append(buf, format_u64(wire::load_u32(c, 2), buf));
    out.push_back(':');
    out.append(buf, format_u64(wire::load_u16(c, 6), buf));
  }
}

std::string extended_community_text(std::span<const std::uint8_t> community) {
  std::string out;
  append_extended_community(out, community);
  return out;
}

std::string extended_community_text(std::uint64_t community) {
  std::array<std::uint8_t, 8> octets{};
  for (std::size_t i = 0; i < 8; ++i) {
    octets[i] = static_cast<std::uint8_t>(community >> (56 - 8 * i));
  }
  return extended_community_text(octets);
}

AsSegmentMarks as_segment_marks(AsSegmentType type) {
  switch (type) {
    case AsSegmentType::AsSet:
      return {'{', '}', ','};
    case AsSegmentType::AsConfedSequence:
      return {'(', ')', ' '};
    case AsSegmentType::AsConfedSet:
      return {'[', ']', ','};
    case AsSegmentType::AsSequence:
      break;
  }
  return {'\0', '\0', ' '};
}

std::string to_string(const AsPath& path) {
  std::string out;
  char buf[24];
  for (const auto& seg : path) {
    if (!out.empty()) {
      out += ' ';
    }
    const AsSegmentMarks marks = as_segment_marks(seg.type);
    if (marks.open != '\0') {
      out += marks.open;
    }
    for (std::size_t i = 0; i < seg.asns.size(); ++i) {
      if (i != 0) {
        out += marks.separator;
      }
      out.append(buf, format_u64(seg.asns[i], buf));
    }
    if (marks.close != '\0') {
      out += marks.close;
    }
  }
  return out;
}

std::size_t format_hex(std::span<const std::uint8_t> bytes, char* out) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  const std::span<char> text(out, bytes.size() * 2);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    text[2 * i] = kHex[bytes[i] >> 4];
    text[2 * i + 1] = kHex[bytes[i] & 0x0FU];
  }
  return text.size();
}

void append_hex(std::string& out, std::span<const std::uint8_t> bytes) {
  const std::size_t at = out.size();
  out.resize(at + bytes.size() * 2);
  format_hex(bytes, std::span<char>(out).subspan(at).data());
}

namespace {

// Octets of the well-formed UTF-8 sequence (RFC 3629 section 4) starting `s`, or 0.
std::size_t utf8_sequence_length(std::string_view s) {
  const auto lead = static_cast<unsigned char>(s[0]);
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    n = 2;
    cp = lead & 0x1FU;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    n = 3;
    cp = lead & 0x0FU;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    n = 4;
    cp = lead & 0x07U;
  } else {
    return 0;
  }
  if (s.size() < n) {
    return 0;
  }
  for (std::size_t i = 1; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0U) != 0x80U) {
      return 0;
    }
    cp = (cp << 6) | (c & 0x3FU);
  }
  // No overlong forms, no surrogates, nothing past U+10FFFF.
  if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
      (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return n;
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else if (c < 0x80) {
          out.push_back(s[i]);
        } else if (const std::size_t n = utf8_sequence_length(s.substr(i)); n > 0) {
          out.append(s.substr(i, n));
          i += n - 1;
        } else {
          // RFC 8259 section 8.1: JSON text is UTF-8. Text from the wire (view names, Shutdown
          // Communications) need not be, so each stray octet becomes U+FFFD.
          out += "\\ufffd";
        }
    }
  }
  out.push_back('"');
}

}  // namespace bgpscribe::codec::bgp
