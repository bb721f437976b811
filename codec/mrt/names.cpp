// Names of MRT code points: one switch per registry (RFC 6396 section 4, RFC 6397, RFC 8050).
#include "codec/mrt/types.hpp"

namespace bgpscribe::codec::mrt {
namespace {

const char* bgp_subtype_name(std::uint16_t subtype) {
  switch (static_cast<BgpSubtype>(subtype)) {
    case BgpSubtype::Null:
      return "NULL";
    case BgpSubtype::Update:
      return "UPDATE";
    case BgpSubtype::PrefUpdate:
      return "PREF_UPDATE";
    case BgpSubtype::StateChange:
      return "STATE_CHANGE";
    case BgpSubtype::Sync:
      return "SYNC";
    case BgpSubtype::Open:
      return "OPEN";
    case BgpSubtype::Notify:
      return "NOTIFY";
    case BgpSubtype::Keepalive:
      return "KEEPALIVE";
  }
  return nullptr;
}

const char* table_dump_subtype_name(std::uint16_t subtype) {
  switch (static_cast<TableDumpSubtype>(subtype)) {
    case TableDumpSubtype::AfiIpv4:
      return "AFI_IPv4";
    case TableDumpSubtype::AfiIpv6:
      return "AFI_IPv6";
    case TableDumpSubtype::AfiIpv4As4:
      return "AFI_IPv4_AS4";
    case TableDumpSubtype::AfiIpv6As4:
      return "AFI_IPv6_AS4";
  }
  return nullptr;
}

const char* table_dump_v2_subtype_name(std::uint16_t subtype) {
  switch (static_cast<TableDumpV2Subtype>(subtype)) {
    case TableDumpV2Subtype::PeerIndexTable:
      return "PEER_INDEX_TABLE";
    case TableDumpV2Subtype::RibIpv4Unicast:
      return "RIB_IPV4_UNICAST";
    case TableDumpV2Subtype::RibIpv4Multicast:
      return "RIB_IPV4_MULTICAST";
    case TableDumpV2Subtype::RibIpv6Unicast:
      return "RIB_IPV6_UNICAST";
    case TableDumpV2Subtype::RibIpv6Multicast:
      return "RIB_IPV6_MULTICAST";
    case TableDumpV2Subtype::RibGeneric:
      return "RIB_GENERIC";
    case TableDumpV2Subtype::GeoPeerTable:
      return "GEO_PEER_TABLE";
    case TableDumpV2Subtype::RibIpv4UnicastAddpath:
      return "RIB_IPV4_UNICAST_ADDPATH";
    case TableDumpV2Subtype::RibIpv4MulticastAddpath:
      return "RIB_IPV4_MULTICAST_ADDPATH";
    case TableDumpV2Subtype::RibIpv6UnicastAddpath:
      return "RIB_IPV6_UNICAST_ADDPATH";
    case TableDumpV2Subtype::RibIpv6MulticastAddpath:
      return "RIB_IPV6_MULTICAST_ADDPATH";
    case TableDumpV2Subtype::RibGenericAddpath:
      return "RIB_GENERIC_ADDPATH";
  }
  return nullptr;
}

const char* bgp4mp_subtype_name(std::uint16_t subtype) {
  switch (static_cast<Bgp4mpSubtype>(subtype)) {
    case Bgp4mpSubtype::StateChange:
      return "BGP4MP_STATE_CHANGE";
    case Bgp4mpSubtype::Message:
      return "BGP4MP_MESSAGE";
    case Bgp4mpSubtype::Entry:
      return "BGP4MP_ENTRY";
    case Bgp4mpSubtype::Snapshot:
      return "BGP4MP_SNAPSHOT";
    case Bgp4mpSubtype::MessageAs4:
      return "BGP4MP_MESSAGE_AS4";
    case Bgp4mpSubtype::StateChangeAs4:
      return "BGP4MP_STATE_CHANGE_AS4";
    case Bgp4mpSubtype::MessageLocal:
      return "BGP4MP_MESSAGE_LOCAL";
    case Bgp4mpSubtype::MessageAs4Local:
      return "BGP4MP_MESSAGE_AS4_LOCAL";
    case Bgp4mpSubtype::MessageAddpath:
      return "BGP4MP_MESSAGE_ADDPATH";
    case Bgp4mpSubtype::MessageAs4Addpath:
      return "BGP4MP_MESSAGE_AS4_ADDPATH";
    case Bgp4mpSubtype::MessageLocalAddpath:
      return "BGP4MP_MESSAGE_LOCAL_ADDPATH";
    case Bgp4mpSubtype::MessageAs4LocalAddpath:
      return "BGP4MP_MESSAGE_AS4_LOCAL_ADDPATH";
  }
  return nullptr;
}

}  // namespace

const char* to_string(Type type) {
  switch (type) {
    case Type::Null:
      return "NULL";
    case Type::Start:
      return "START";
    case Type::Die:
      return "DIE";
    case Type::IAmDead:
      return "I_AM_DEAD";
    case Type::PeerDown:
      return "PEER_DOWN";
    case Type::Bgp:
      return "BGP";
    case Type::Rip:
      return "RIP";
    case Type::Idrp:
      return "IDRP";
    case Type::Ripng:
      return "RIPNG";
    case Type::Bgp4Plus:
      return "BGP4PLUS";
    case Type::Bgp4Plus01:
      return "BGP4PLUS_01";
    case Type::Ospfv2:
      return "OSPFv2";
    case Type::TableDump:
      return "TABLE_DUMP";
    case Type::TableDumpV2:
      return "TABLE_DUMP_V2";
    case Type::Bgp4mp:
      return "BGP4MP";
    case Type::Bgp4mpEt:
      return "BGP4MP_ET";
    case Type::Isis:
      return "ISIS";
    case Type::IsisEt:
      return "ISIS_ET";
    case Type::Ospfv3:
      return "OSPFv3";
    case Type::Ospfv3Et:
      return "OSPFv3_ET";
  }
  return nullptr;
}

const char* subtype_name(Type type, std::uint16_t subtype) {
  switch (type) {
    case Type::Bgp:
    case Type::Bgp4Plus:
    case Type::Bgp4Plus01:
      return bgp_subtype_name(subtype);
    case Type::TableDump:
      return table_dump_subtype_name(subtype);
    case Type::TableDumpV2:
      return table_dump_v2_subtype_name(subtype);
    case Type::Bgp4mp:
    case Type::Bgp4mpEt:
      return bgp4mp_subtype_name(subtype);
    default:
      return nullptr;
  }
}

const char* to_string(BgpState state) {
  switch (state) {
    case BgpState::Idle:
      return "Idle";
    case BgpState::Connect:
      return "Connect";
    case BgpState::Active:
      return "Active";
    case BgpState::OpenSent:
      return "OpenSent";
    case BgpState::OpenConfirm:
      return "OpenConfirm";
    case BgpState::Established:
      return "Established";
  }
  return nullptr;
}

}  // namespace bgpscribe::codec::mrt
