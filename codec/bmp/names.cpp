// Names and layouts of BMP code points: one switch per registry.
#include "codec/bmp/types.hpp"

namespace bgpscribe::codec::bmp {

StatKind stat_kind(StatType type) {
  switch (type) {
    case StatType::RejectedPrefixes:
    case StatType::DuplicatePrefixAdvertisements:
    case StatType::DuplicateWithdraws:
    case StatType::ClusterListLoop:
    case StatType::AsPathLoop:
    case StatType::OriginatorIdInvalidated:
    case StatType::AsConfedLoop:
    case StatType::TreatAsWithdrawUpdates:
    case StatType::TreatAsWithdrawPrefixes:
    case StatType::DuplicateUpdates:
      return StatKind::Counter32;
    case StatType::AdjRibInRoutes:
    case StatType::LocRibRoutes:
    case StatType::AdjRibOutPrePolicyRoutes:
    case StatType::AdjRibOutPostPolicyRoutes:
      return StatKind::Gauge64;
    case StatType::PerAfiSafiAdjRibInRoutes:
    case StatType::PerAfiSafiLocRibRoutes:
    case StatType::PerAfiSafiAdjRibOutPrePolicyRoutes:
    case StatType::PerAfiSafiAdjRibOutPostPolicyRoutes:
      return StatKind::AfiSafiGauge64;
  }
  return StatKind::Unknown;
}

const char* to_string(MessageType type) {
  switch (type) {
    case MessageType::RouteMonitoring:
      return "route-monitoring";
    case MessageType::StatisticsReport:
      return "statistics-report";
    case MessageType::PeerDown:
      return "peer-down";
    case MessageType::PeerUp:
      return "peer-up";
    case MessageType::Initiation:
      return "initiation";
    case MessageType::Termination:
      return "termination";
    case MessageType::RouteMirroring:
      return "route-mirroring";
    case MessageType::RoutePolicyAttributeTrace:
      return "route-policy-attribute-trace";
  }
  return nullptr;
}

const char* to_string(PeerType type) {
  switch (type) {
    case PeerType::GlobalInstance:
      return "global";
    case PeerType::RdInstance:
      return "rd";
    case PeerType::LocalInstance:
      return "local";
    case PeerType::LocRibInstance:
      return "loc-rib";
  }
  return nullptr;
}

const char* to_string(StatType type) {
  switch (type) {
    case StatType::RejectedPrefixes:
      return "rejected-prefixes";
    case StatType::DuplicatePrefixAdvertisements:
      return "duplicate-prefix-advertisements";
    case StatType::DuplicateWithdraws:
      return "duplicate-withdraws";
    case StatType::ClusterListLoop:
      return "cluster-list-loop";
    case StatType::AsPathLoop:
      return "as-path-loop";
    case StatType::OriginatorIdInvalidated:
      return "originator-id-invalidated";
    case StatType::AsConfedLoop:
      return "as-confed-loop";
    case StatType::AdjRibInRoutes:
      return "adj-rib-in-routes";
    case StatType::LocRibRoutes:
      return "loc-rib-routes";
    case StatType::PerAfiSafiAdjRibInRoutes:
      return "per-afi-safi-adj-rib-in-routes";
    case StatType::PerAfiSafiLocRibRoutes:
      return "per-afi-safi-loc-rib-routes";
    case StatType::TreatAsWithdrawUpdates:
      return "treat-as-withdraw-updates";
    case StatType::TreatAsWithdrawPrefixes:
      return "treat-as-withdraw-prefixes";
    case StatType::DuplicateUpdates:
      return "duplicate-updates";
    case StatType::AdjRibOutPrePolicyRoutes:
      return "adj-rib-out-pre-policy-routes";
    case StatType::AdjRibOutPostPolicyRoutes:
      return "adj-rib-out-post-policy-routes";
    case StatType::PerAfiSafiAdjRibOutPrePolicyRoutes:
      return "per-afi-safi-adj-rib-out-pre-policy-routes";
    case StatType::PerAfiSafiAdjRibOutPostPolicyRoutes:
      return "per-afi-safi-adj-rib-out-post-policy-routes";
  }
  return nullptr;
}

const char* to_string(PeerDownReason reason) {
  switch (reason) {
    case PeerDownReason::LocalNotification:
      return "local-notification";
    case PeerDownReason::LocalNoNotification:
      return "local-no-notification";
    case PeerDownReason::RemoteNotification:
      return "remote-notification";
    case PeerDownReason::RemoteNoNotification:
      return "remote-no-notification";
    case PeerDownReason::PeerDeconfigured:
      return "peer-deconfigured";
    case PeerDownReason::LocalSystemClosedTlv:
      return "local-system-closed-tlv";
  }
  return nullptr;
}

const char* to_string(InformationType type) {
  switch (type) {
    case InformationType::String:
      return "string";
    case InformationType::SysDescr:
      return "sysDescr";
    case InformationType::SysName:
      return "sysName";
    case InformationType::VrfTableName:
      return "vrf-table-name";
    case InformationType::AdminLabel:
      return "admin-label";
  }
  return nullptr;
}

const char* to_string(TerminationReason reason) {
  switch (reason) {
    case TerminationReason::AdministrativelyClosed:
      return "administratively-closed";
    case TerminationReason::Unspecified:
      return "unspecified";
    case TerminationReason::OutOfResources:
      return "out-of-resources";
    case TerminationReason::RedundantConnection:
      return "redundant-connection";
    case TerminationReason::PermanentlyAdministrativelyClosed:
      return "permanently-administratively-closed";
  }
  return nullptr;
}

const char* to_string(MirroringInformation code) {
  switch (code) {
    case MirroringInformation::ErroredPdu:
      return "errored-pdu";
    case MirroringInformation::MessagesLost:
      return "messages-lost";
  }
  return nullptr;
}

}  // namespace bgpscribe::codec::bmp
