// BGP message framing and the common 19-byte header (RFC 4271 section 4.1, RFC 8654).
//
// Framing is its own step, shared by the socket loop, the MRT reader and the BMP reader: given
// the bytes received so far it says "need more", "a message of N bytes" or "broken" (with the
// NOTIFICATION a speaker must send). It only looks at the header; it never decodes a body,
// never allocates and never keeps state between calls.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "codec/bgp/message_types.hpp"
#include "codec/wire/reader.hpp"
#include "codec/wire/result.hpp"
#include "codec/wire/writer.hpp"

namespace bgpscribe::codec::bgp {

struct MessageHeader {
  std::uint16_t length = 0;  // whole message, header included
  MessageType type = MessageType::Keepalive;
  friend bool operator==(const MessageHeader&, const MessageHeader&) = default;
};

// True for the types this codec frames (1..5 and the pre-standard 128).
bool is_known_message_type(std::uint8_t type);

// Smallest legal length of a message of `type` (RFC 4271 section 4, RFC 2918); KEEPALIVE is
// exactly this long.
std::size_t min_message_length(MessageType type);

// Largest legal length of a message of `type` when the session allows `max_size` (4096, or
// 65535 after RFC 8654 negotiation). OPEN and KEEPALIVE never exceed 4096 (RFC 8654 section 4).
std::size_t max_message_length(MessageType type, std::size_t max_size);

// RFC 4271 section 4.1 and 6.1: reads and checks a complete 19-byte header (marker 1/1, length
// range and per-type minimum 1/2, type 1/3). Offsets in errors are those of the reader.
[[nodiscard]] Result<MessageHeader> parse_header(wire::Reader& r,
                                                 std::size_t max_size = kMaxMessageSize);

enum class FrameStatus : std::uint8_t {
  NeedMore,  // not enough bytes yet; `size` is the smallest total worth waiting for
  Message,   // a complete message of `size` bytes starts the input
  Broken,    // the stream cannot be framed; send the NOTIFICATION in `error` and `data()`
};

struct Frame {
  FrameStatus status = FrameStatus::NeedMore;
  std::size_t size = 0;
  MessageHeader header{};  // valid for Message (and for NeedMore once 19 bytes arrived)
  Error error{};           // valid for Broken: code/subcode 1/1, 1/2 or 1/3 and the offset
  std::array<std::uint8_t, 2> data_bytes{};
  std::uint8_t data_size = 0;

  // The NOTIFICATION data RFC 4271 section 6.1 prescribes: the bad length for 1/2, the bad
  // type for 1/3, nothing for 1/1.
  [[nodiscard]] std::span<const std::uint8_t> data() const {
    return {data_bytes.data(), data_size};
  }
};

// RFC 4271 section 6.1: frames the first message of `input`. `max_size` is 4096, or 65535 when
// both sides advertised Extended Message (RFC 8654). A wrong marker is reported as soon as a
// wrong byte is visible, without waiting for the whole header.
[[nodiscard]] Frame frame(std::span<const std::uint8_t> input,
                          std::size_t max_size = kMaxMessageSize);

// A framed message split into header and body; `message` is the whole message.
struct MessageView {
  MessageHeader header{};
  wire::Bytes message{};
  wire::Bytes body{};
};

// Checks that `message` is exactly one well-framed message and splits it. Errors as frame();
// a length field that disagrees with the span size is 1/2.
[[nodiscard]] Result<MessageView> split_message(wire::Bytes message,
                                                std::size_t max_size = kMaxExtendedMessageSize,
                                                std::uint32_t base_offset = 0);

// RFC 4271 section 4.1: writes marker, a length placeholder and the type; returns the position
// of the message start, to hand to finish_message once the body is written.
std::size_t begin_message(wire::Writer& w, MessageType type);

// Patches the length of the message begun at `start`; fails with TooLarge when it exceeds the
// limit for its type under `max_size` (the Writer keeps the bytes; the caller discards them).
[[nodiscard]] Status finish_message(wire::Writer& w, std::size_t start, MessageType type,
                                    std::size_t max_size = kMaxMessageSize);

}  // namespace bgpscribe::codec::bgp
