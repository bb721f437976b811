// Names of BGP code points: one switch per registry.
#include "codec/bgp/afi_safi.hpp"
#include "codec/bgp/attribute_types.hpp"
#include "codec/bgp/capability_codes.hpp"
#include "codec/bgp/message_types.hpp"
#include "codec/bgp/notification_codes.hpp"

namespace bgpscribe::codec::bgp {

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

}  // namespace bgpscribe::codec::bgp
