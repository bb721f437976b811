// NOTIFICATION error codes and subcodes (RFC 4271 section 4.5 and the IANA registry).
#pragma once

#include <cstdint>

namespace bgpscribe::codec::bgp {

namespace error_code {
inline constexpr std::uint8_t kMessageHeader = 1;
inline constexpr std::uint8_t kOpenMessage = 2;
inline constexpr std::uint8_t kUpdateMessage = 3;
inline constexpr std::uint8_t kHoldTimerExpired = 4;
inline constexpr std::uint8_t kFsm = 5;
inline constexpr std::uint8_t kCease = 6;
inline constexpr std::uint8_t kRouteRefresh = 7;
inline constexpr std::uint8_t kSendHoldTimerExpired = 8;  // RFC 9687
}  // namespace error_code

namespace header_subcode {
inline constexpr std::uint8_t kConnectionNotSynchronized = 1;
inline constexpr std::uint8_t kBadMessageLength = 2;
inline constexpr std::uint8_t kBadMessageType = 3;
}  // namespace header_subcode

namespace open_subcode {
inline constexpr std::uint8_t kUnsupportedVersion = 1;
inline constexpr std::uint8_t kBadPeerAs = 2;
inline constexpr std::uint8_t kBadBgpIdentifier = 3;
inline constexpr std::uint8_t kUnsupportedOptionalParameter = 4;
inline constexpr std::uint8_t kUnacceptableHoldTime = 6;
inline constexpr std::uint8_t kUnsupportedCapability = 7;
inline constexpr std::uint8_t kRoleMismatch = 11;  // RFC 9234
}  // namespace open_subcode

namespace update_subcode {
inline constexpr std::uint8_t kMalformedAttributeList = 1;
inline constexpr std::uint8_t kUnrecognizedWellKnownAttribute = 2;
inline constexpr std::uint8_t kMissingWellKnownAttribute = 3;
inline constexpr std::uint8_t kAttributeFlagsError = 4;
inline constexpr std::uint8_t kAttributeLengthError = 5;
inline constexpr std::uint8_t kInvalidOrigin = 6;
inline constexpr std::uint8_t kInvalidNextHop = 8;
inline constexpr std::uint8_t kOptionalAttributeError = 9;
inline constexpr std::uint8_t kInvalidNetworkField = 10;
inline constexpr std::uint8_t kMalformedAsPath = 11;
}  // namespace update_subcode

namespace fsm_subcode {
inline constexpr std::uint8_t kUnspecified = 0;
inline constexpr std::uint8_t kUnexpectedInOpenSent = 1;
inline constexpr std::uint8_t kUnexpectedInOpenConfirm = 2;
inline constexpr std::uint8_t kUnexpectedInEstablished = 3;
}  // namespace fsm_subcode

namespace cease_subcode {
inline constexpr std::uint8_t kMaxPrefixesReached = 1;
inline constexpr std::uint8_t kAdministrativeShutdown = 2;
inline constexpr std::uint8_t kPeerDeconfigured = 3;
inline constexpr std::uint8_t kAdministrativeReset = 4;
inline constexpr std::uint8_t kConnectionRejected = 5;
inline constexpr std::uint8_t kOtherConfigurationChange = 6;
inline constexpr std::uint8_t kConnectionCollisionResolution = 7;
inline constexpr std::uint8_t kOutOfResources = 8;
inline constexpr std::uint8_t kHardReset = 9;  // RFC 8538
inline constexpr std::uint8_t kBfdDown = 10;   // RFC 9384
}  // namespace cease_subcode

namespace route_refresh_subcode {
inline constexpr std::uint8_t kInvalidMessageLength = 1;  // RFC 7313
}

// Names and the text of a code and subcode: codec/bgp/text.hpp.

}  // namespace bgpscribe::codec::bgp
