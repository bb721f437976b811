// The BGP NOTIFICATION message (RFC 4271 section 4.5) and the structured data some codes carry:
// the Shutdown Communication (RFC 8203, RFC 9003), Hard Reset (RFC 8538) and the data fields of
// RFC 4271 section 6 and RFC 4486.
//
// Notification is an owning value (they are rare and often kept for logs and Peer Down). Code
// and subcode keep any raw value. Parsing never refuses a NOTIFICATION because its data is odd:
// the structured accessors return nothing instead. Nothing here logs or sanitises text.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codec/bgp/afi_safi.hpp"
#include "codec/bgp/message_types.hpp"
#include "codec/wire/reader.hpp"
#include "codec/wire/result.hpp"
#include "codec/wire/writer.hpp"

namespace bgpscribe::codec::bgp {

struct Notification {
  std::uint8_t code = 0;
  std::uint8_t subcode = 0;
  std::vector<std::uint8_t> data;
  friend bool operator==(const Notification&, const Notification&) = default;
};

// RFC 4271 section 4.5: parses a complete NOTIFICATION message (header included; `message`
// must be exactly one message, up to 65535 octets since RFC 8654 allows it). Only framing
// errors (1/x) are possible.
[[nodiscard]] Result<Notification> parse_notification(wire::Bytes message,
                                                      std::uint32_t base_offset = 0);

// RFC 4271 section 4.5: writes a complete NOTIFICATION. `max_size` is 4096, or 65535 with
// RFC 8654; longer data fails with TooLarge.
[[nodiscard]] Status encode_notification(const Notification& n, wire::Writer& w,
                                         std::size_t max_size = kMaxMessageSize);

// ---- Shutdown Communication (RFC 8203 section 2, RFC 9003 section 2) ----------------------

inline constexpr std::size_t kMaxShutdownCommunication = 255;  // RFC 9003

// True for 6/2 and 6/4, the subcodes that may carry a Shutdown Communication.
bool may_carry_shutdown_communication(const Notification& n);

// The text of a 6/2 or 6/4 NOTIFICATION: nullopt when there is none, when the length octet is
// 0, or when it overruns the data (RFC 9003 section 2: ignore the text, keep the NOTIFICATION).
// The text is a copy and is not checked for UTF-8 (sanitise before logging).
std::optional<std::string> shutdown_communication(const Notification& n);

// Data for 6/2 or 6/4: Length(1) + text, cut to 255 octets without splitting a UTF-8 sequence.
std::vector<std::uint8_t> shutdown_communication_data(std::string_view text);

// ---- Hard Reset (RFC 8538 section 3) -----------------------------------------------------------

// The NOTIFICATION inside a 6/9 Hard Reset: nullopt unless the code is 6/9 and the data holds
// at least the inner code and subcode.
std::optional<Notification> hard_reset_inner(const Notification& n);

// Wraps `inner` in a Cease / Hard Reset NOTIFICATION.
Notification make_hard_reset(const Notification& inner);

// ---- Data fields (RFC 4271 section 6, RFC 4486 section 4) ------------------------------------

// 1/2 Bad Message Length: the erroneous Length field.
std::array<std::uint8_t, 2> bad_message_length_data(std::uint16_t length);
// 1/3 Bad Message Type: the erroneous Type field.
std::array<std::uint8_t, 1> bad_message_type_data(std::uint8_t type);
// 2/1 Unsupported Version Number: the largest version we support.
std::array<std::uint8_t, 2> unsupported_version_data(std::uint16_t version = 4);
// 6/1 Maximum Number of Prefixes Reached: AFI, SAFI and the limit.
std::array<std::uint8_t, 7> max_prefixes_data(AfiSafi family, std::uint32_t limit);

// The AFI/SAFI and limit of a 6/1 NOTIFICATION when its data has that shape.
struct MaxPrefixes {
  AfiSafi family{};
  std::uint32_t limit = 0;
  friend bool operator==(const MaxPrefixes&, const MaxPrefixes&) = default;
};
std::optional<MaxPrefixes> max_prefixes(const Notification& n);

}  // namespace bgpscribe::codec::bgp
