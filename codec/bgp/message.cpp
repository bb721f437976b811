#include "codec/bgp/message.hpp"

#include <algorithm>

#include "codec/bgp/notification_codes.hpp"

namespace bgpscribe::codec::bgp {

namespace {

constexpr std::size_t kLengthOffset = kMarkerSize;
constexpr std::size_t kTypeOffset = kMarkerSize + 2;

Failure header_error(std::uint32_t offset, std::uint8_t subcode, const char* message) {
  return fail(ErrorKind::BadValue, offset, message, error_code::kMessageHeader, subcode,
              Reaction::SessionReset);
}

// Index of the first marker byte that is not 0xFF among the first `n` bytes, or n.
std::size_t bad_marker_index(std::span<const std::uint8_t> input, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (input[i] != 0xFF) {
      return i;
    }
  }
  return n;
}

}  // namespace

bool is_known_message_type(std::uint8_t type) {
  switch (static_cast<MessageType>(type)) {
    case MessageType::Open:
    case MessageType::Update:
    case MessageType::Notification:
    case MessageType::Keepalive:
    case MessageType::RouteRefresh:
    case MessageType::CiscoRouteRefresh:
      return true;
  }
  return false;
}

std::size_t min_message_length(MessageType type) {
  switch (type) {
    case MessageType::Open:
      return 29;  // RFC 4271 section 4.2: 10 fixed octets after the header
    case MessageType::Update:
      return 23;  // two 2-octet length fields
    case MessageType::Notification:
      return 21;  // code and subcode
    case MessageType::Keepalive:
      return kHeaderSize;
    case MessageType::RouteRefresh:
    case MessageType::CiscoRouteRefresh:
      return 23;  // AFI, reserved/subtype, SAFI (RFC 2918 section 3)
  }
  return kHeaderSize;
}

std::size_t max_message_length(MessageType type, std::size_t max_size) {
  // RFC 8654 section 4: the extension applies to every message except OPEN and KEEPALIVE.
  if (type == MessageType::Open || type == MessageType::Keepalive) {
    return std::min(max_size, kMaxMessageSize);
  }
  return std::min(max_size, kMaxExtendedMessageSize);
}

// RFC 4271 section 4.1 (layout) and 6.1 (error handling).
Result<MessageHeader> parse_header(wire::Reader& r, std::size_t max_size) {
  const std::uint32_t start = r.offset();
  if (r.remaining() < kHeaderSize) {
    return r.truncated("BGP header truncated");
  }
  auto marker = r.bytes(kMarkerSize);
  if (std::size_t bad = bad_marker_index(*marker, kMarkerSize); bad != kMarkerSize) {
    return header_error(start + static_cast<std::uint32_t>(bad),
                        header_subcode::kConnectionNotSynchronized, "BGP marker is not all ones");
  }
  const std::uint16_t length = r.u16().value();
  const std::uint8_t raw_type = r.u8().value();
  const auto length_offset = start + static_cast<std::uint32_t>(kLengthOffset);
  if (length < kHeaderSize || length > std::min(max_size, kMaxExtendedMessageSize)) {
    return header_error(length_offset, header_subcode::kBadMessageLength,
                        "BGP message length out of range");
  }
  if (!is_known_message_type(raw_type)) {
    return header_error(start + static_cast<std::uint32_t>(kTypeOffset),
                        header_subcode::kBadMessageType, "unknown BGP message type");
  }
  const auto type = static_cast<MessageType>(raw_type);
  if (length < min_message_length(type) || length > max_message_length(type, max_size)) {
    return header_error(length_offset, header_subcode::kBadMessageLength,
                        "BGP message length invalid for its type");
  }
  if (type == MessageType::Keepalive && length != kHeaderSize) {
    return header_error(length_offset, header_subcode::kBadMessageLength,
                        "KEEPALIVE must be exactly 19 octets");
  }
  return MessageHeader{length, type};
}

// RFC 4271 section 6.1, shared by the socket loop, MRT and BMP readers.
Frame frame(std::span<const std::uint8_t> input, std::size_t max_size) {
  Frame f;
  if (input.size() < kHeaderSize) {
    // Detect a lost marker early: a desynchronised stream will not become valid by waiting.
    const std::size_t n = std::min(input.size(), kMarkerSize);
    if (std::size_t bad = bad_marker_index(input, n); bad != n) {
      f.status = FrameStatus::Broken;
      f.error =
          header_error(static_cast<std::uint32_t>(bad), header_subcode::kConnectionNotSynchronized,
                       "BGP marker is not all ones")
              .error;
      return f;
    }
    f.status = FrameStatus::NeedMore;
    f.size = kHeaderSize;
    return f;
  }
  wire::Reader r(input.first(kHeaderSize));
  auto header = parse_header(r, max_size);
  if (!header) {
    f.status = FrameStatus::Broken;
    f.error = header.error();
    // RFC 4271 section 6.1: 1/2 carries the erroneous Length field, 1/3 the Type field.
    if (f.error.subcode == header_subcode::kBadMessageLength) {
      f.data_bytes = {input[kLengthOffset], input[kLengthOffset + 1]};
      f.data_size = 2;
    } else if (f.error.subcode == header_subcode::kBadMessageType) {
      f.data_bytes = {input[kTypeOffset], 0};
      f.data_size = 1;
    }
    return f;
  }
  f.header = *header;
  f.size = header->length;
  f.status = input.size() >= header->length ? FrameStatus::Message : FrameStatus::NeedMore;
  return f;
}

Result<MessageView> split_message(wire::Bytes message, std::size_t max_size,
                                  std::uint32_t base_offset) {
  wire::Reader r(message, base_offset);
  auto header = parse_header(r, max_size);
  if (!header) {
    return fail(header.error());
  }
  if (header->length != message.size()) {
    return header_error(base_offset + static_cast<std::uint32_t>(kLengthOffset),
                        header_subcode::kBadMessageLength,
                        "BGP length field disagrees with the message size");
  }
  return MessageView{*header, message, message.subspan(kHeaderSize)};
}

std::size_t begin_message(wire::Writer& w, MessageType type) {
  const std::size_t start = w.size();
  w.fill(kMarkerSize, 0xFF);
  w.placeholder_u16();
  w.u8(static_cast<std::uint8_t>(type));
  return start;
}

Status finish_message(wire::Writer& w, std::size_t start, MessageType type, std::size_t max_size) {
  const std::size_t length = w.since(start);
  if (length > max_message_length(type, max_size)) {
    return fail(ErrorKind::TooLarge, static_cast<std::uint32_t>(start),
                "BGP message exceeds the size limit");
  }
  w.patch_u16(start + kLengthOffset, static_cast<std::uint16_t>(length));
  return {};
}

}  // namespace bgpscribe::codec::bgp
