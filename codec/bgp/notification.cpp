#include "codec/bgp/notification.hpp"

#include "codec/bgp/message.hpp"
#include "codec/bgp/notification_codes.hpp"

namespace bgpscribe::codec::bgp {

// RFC 4271 section 4.5.
Result<Notification> parse_notification(wire::Bytes message, std::uint32_t base_offset) {
  auto view = split_message(message, kMaxExtendedMessageSize, base_offset);
  if (!view) {
    return fail(view.error());
  }
  if (view->header.type != MessageType::Notification) {
    return fail(ErrorKind::BadValue, base_offset + 18, "not a NOTIFICATION message",
                error_code::kMessageHeader, header_subcode::kBadMessageType);
  }
  // split_message guaranteed code and subcode (minimum length 21).
  wire::Reader r(view->body, base_offset + static_cast<std::uint32_t>(kHeaderSize));
  Notification n;
  n.code = r.u8().value();
  n.subcode = r.u8().value();
  const auto rest = r.rest();
  n.data.assign(rest.begin(), rest.end());
  return n;
}

// RFC 4271 section 4.5.
Status encode_notification(const Notification& n, wire::Writer& w, std::size_t max_size) {
  const std::size_t start = begin_message(w, MessageType::Notification);
  w.u8(n.code);
  w.u8(n.subcode);
  w.bytes(n.data);
  return finish_message(w, start, MessageType::Notification, max_size);
}

bool may_carry_shutdown_communication(const Notification& n) {
  return n.code == error_code::kCease && (n.subcode == cease_subcode::kAdministrativeShutdown ||
                                          n.subcode == cease_subcode::kAdministrativeReset);
}

// RFC 8203 section 2, RFC 9003 section 2.
std::optional<std::string> shutdown_communication(const Notification& n) {
  if (!may_carry_shutdown_communication(n) || n.data.empty()) {
    return std::nullopt;
  }
  const std::size_t length = n.data[0];
  if (length == 0 || length + 1 > n.data.size()) {
    return std::nullopt;
  }
  // A copy: the codec does not view octets as chars in place.
  const auto first = n.data.begin() + 1;
  return std::string(first, first + static_cast<std::ptrdiff_t>(length));
}

// RFC 9003 section 2: at most 255 octets; never cut inside a UTF-8 sequence.
std::vector<std::uint8_t> shutdown_communication_data(std::string_view text) {
  std::size_t length = text.size();
  if (length > kMaxShutdownCommunication) {
    length = kMaxShutdownCommunication;
    // Back off over continuation octets (10xxxxxx) so the cut lands on a character start.
    while (length > 0 && (static_cast<std::uint8_t>(text[length]) & 0xC0U) == 0x80U) {
      --length;
    }
  }
  std::vector<std::uint8_t> data;
  data.reserve(length + 1);
  data.push_back(static_cast<std::uint8_t>(length));
  for (std::size_t i = 0; i < length; ++i) {
    data.push_back(static_cast<std::uint8_t>(text[i]));
  }
  return data;
}

// RFC 8538 section 3.
std::optional<Notification> hard_reset_inner(const Notification& n) {
  if (n.code != error_code::kCease || n.subcode != cease_subcode::kHardReset || n.data.size() < 2) {
    return std::nullopt;
  }
  Notification inner;
  inner.code = n.data[0];
  inner.subcode = n.data[1];
  inner.data.assign(n.data.begin() + 2, n.data.end());
  return inner;
}

Notification make_hard_reset(const Notification& inner) {
  Notification n;
  n.code = error_code::kCease;
  n.subcode = cease_subcode::kHardReset;
  n.data.reserve(2 + inner.data.size());
  n.data.push_back(inner.code);
  n.data.push_back(inner.subcode);
  n.data.insert(n.data.end(), inner.data.begin(), inner.data.end());
  return n;
}

std::array<std::uint8_t, 2> bad_message_length_data(std::uint16_t length) {
  return {static_cast<std::uint8_t>(length >> 8), static_cast<std::uint8_t>(length)};
}

std::array<std::uint8_t, 1> bad_message_type_data(std::uint8_t type) {
  return {type};
}

std::array<std::uint8_t, 2> unsupported_version_data(std::uint16_t version) {
  return {static_cast<std::uint8_t>(version >> 8), static_cast<std::uint8_t>(version)};
}

// RFC 4486 section 4.
std::array<std::uint8_t, 7> max_prefixes_data(AfiSafi family, std::uint32_t limit) {
  const auto afi = static_cast<std::uint16_t>(family.afi);
  return {static_cast<std::uint8_t>(afi >> 8),    static_cast<std::uint8_t>(afi),
          static_cast<std::uint8_t>(family.safi), static_cast<std::uint8_t>(limit >> 24),
          static_cast<std::uint8_t>(limit >> 16), static_cast<std::uint8_t>(limit >> 8),
          static_cast<std::uint8_t>(limit)};
}

std::optional<MaxPrefixes> max_prefixes(const Notification& n) {
  if (n.code != error_code::kCease || n.subcode != cease_subcode::kMaxPrefixesReached ||
      n.data.size() != 7) {
    return std::nullopt;
  }
  wire::Reader r(n.data);
  MaxPrefixes m;
  m.family.afi = static_cast<Afi>(r.u16().value());
  m.family.safi = static_cast<Safi>(r.u8().value());
  m.limit = r.u32().value();
  return m;
}

}  // namespace bgpscribe::codec::bgp
