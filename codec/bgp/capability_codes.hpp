// Capability codes carried in OPEN (RFC 5492 and the IANA registry).
#pragma once

#include <cstdint>

namespace bgpscribe::codec::bgp {

enum class CapabilityCode : std::uint8_t {
  Multiprotocol = 1,           // RFC 4760
  RouteRefresh = 2,            // RFC 2918
  OutboundRouteFiltering = 3,  // RFC 5291
  ExtendedNextHop = 5,         // RFC 8950
  ExtendedMessage = 6,         // RFC 8654
  Bgpsec = 7,                  // RFC 8205
  MultipleLabels = 8,          // RFC 8277
  Role = 9,                    // RFC 9234
  GracefulRestart = 64,        // RFC 4724
  FourOctetAs = 65,            // RFC 6793
  DynamicCapability = 67,
  Multisession = 68,
  AddPath = 69,                   // RFC 7911
  EnhancedRouteRefresh = 70,      // RFC 7313
  LongLivedGracefulRestart = 71,  // RFC 9494
  CpOrf = 72,                     // RFC 7543
  Fqdn = 73,
  SoftwareVersion = 75,
  CiscoRouteRefresh = 128,
  CiscoMultisession = 131,
};

// Names and capability text: codec/bgp/text.hpp.

}  // namespace bgpscribe::codec::bgp
