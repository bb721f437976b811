// BGP message types and header limits (RFC 4271 section 4.1, RFC 8654, RFC 2918/7313).
#pragma once

#include <cstddef>
#include <cstdint>

namespace bgpscribe::codec::bgp {

enum class MessageType : std::uint8_t {
  Open = 1,
  Update = 2,
  Notification = 3,
  Keepalive = 4,
  RouteRefresh = 5,
  CiscoRouteRefresh = 128,  // pre-standard, goes with capability 128
};

inline constexpr std::size_t kHeaderSize = 19;
inline constexpr std::size_t kMarkerSize = 16;
inline constexpr std::size_t kMaxMessageSize = 4096;
inline constexpr std::size_t kMaxExtendedMessageSize = 65535;  // RFC 8654

// Names: codec/bgp/text.hpp.

}  // namespace bgpscribe::codec::bgp
