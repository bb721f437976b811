#include "codec/bgp/open.hpp"

#include "codec/bgp/message.hpp"
#include "codec/bgp/notification_codes.hpp"

namespace bgpscribe::codec::bgp {

namespace {

constexpr std::size_t kClassicMaxParameters = 255;
constexpr std::size_t kNoLength = static_cast<std::size_t>(-1);

Failure open_error(ErrorKind kind, std::uint32_t offset, std::uint8_t subcode,
                   const char* message) {
  return fail(kind, offset, message, error_code::kOpenMessage, subcode, Reaction::SessionReset);
}

std::size_t parameter_value_size(const OptionalParameter& p) {
  if (p.type != open_parameter::kCapabilities) {
    return p.value.size();
  }
  std::size_t n = 0;
  for (const auto& c : p.capabilities) {
    n += encoded_capability_size(c);
  }
  return n;
}

// One optional parameter; `length_offset` is the offset of its length field.
Result<OptionalParameter> parse_parameter(std::uint8_t type, wire::Reader& value,
                                          std::uint32_t type_offset) {
  OptionalParameter p;
  p.type = type;
  if (type != open_parameter::kCapabilities) {
    // RFC 4271 section 6.2; RFC 5492 deprecates Authentication (type 1) too.
    return open_error(ErrorKind::Unsupported, type_offset,
                      open_subcode::kUnsupportedOptionalParameter,
                      "unsupported optional parameter");
  }
  auto caps = parse_capabilities(value);
  if (!caps) {
    return fail(caps.error());
  }
  p.capabilities = std::move(*caps);
  return p;
}

}  // namespace

void Open::add_capability(Capability c) {
  if (parameters.empty() || parameters.back().type != open_parameter::kCapabilities) {
    parameters.push_back(OptionalParameter{});
  }
  parameters.back().capabilities.push_back(std::move(c));
}

bool Open::has_capability(CapabilityCode code) const {
  for (const auto& p : parameters) {
    for (const auto& c : p.capabilities) {
      if (c.code == code) {
        return true;
      }
    }
  }
  return false;
}

// RFC 4271 sections 4.2 and 6.2, RFC 9072 section 2, RFC 5492 section 4, RFC 7607.
Result<Open> parse_open(wire::Bytes message, std::uint32_t base_offset) {
  auto view = split_message(message, kMaxMessageSize, base_offset);
  if (!view) {
    return fail(view.error());
  }
  if (view->header.type != MessageType::Open) {
    return fail(ErrorKind::BadValue, base_offset + 18, "not an OPEN message",
                error_code::kMessageHeader, header_subcode::kBadMessageType);
  }
  wire::Reader r(view->body, base_offset + static_cast<std::uint32_t>(kHeaderSize));
  Open open;
  // split_message guaranteed the 10 fixed octets (minimum OPEN length 29).
  const std::uint32_t version_offset = r.offset();
  open.version = r.u8().value();
  const std::uint32_t as_offset = r.offset();
  open.my_as = r.u16().value();
  const std::uint32_t hold_offset = r.offset();
  open.hold_time = r.u16().value();
  const std::uint32_t id_offset = r.offset();
  open.bgp_identifier = r.u32().value();
  const std::uint32_t opt_len_offset = r.offset();
  const std::uint8_t opt_len = r.u8().value();

  // RFC 4271 section 6.2 checks, in the order of the fields.
  if (open.version != kBgpVersion) {
    return open_error(ErrorKind::Unsupported, version_offset, open_subcode::kUnsupportedVersion,
                      "unsupported BGP version");
  }
  if (open.my_as == 0) {  // RFC 7607 section 2
    return open_error(ErrorKind::BadValue, as_offset, open_subcode::kBadPeerAs, "My AS is 0");
  }
  if (open.hold_time == 1 || open.hold_time == 2) {
    return open_error(ErrorKind::BadValue, hold_offset, open_subcode::kUnacceptableHoldTime,
                      "hold time 1 or 2 is not allowed");
  }
  if (open.bgp_identifier == 0) {  // RFC 6286 section 2.1
    return open_error(ErrorKind::BadValue, id_offset, open_subcode::kBadBgpIdentifier,
                      "BGP Identifier is 0");
  }

  // RFC 9072 section 2: a non-zero length followed by type 255 announces the extended form.
  bool extended = false;
  std::size_t params_len = opt_len;
  if (opt_len != 0 && r.remaining() >= 1 && r.peek_u8() == open_parameter::kExtendedLength) {
    extended = true;
    (void)r.u8();
    const std::uint32_t ext_len_offset = r.offset();
    auto ext_len = r.u16();
    if (!ext_len) {
      return open_error(ErrorKind::Truncated, ext_len_offset, 0,
                        "extended optional parameters length truncated");
    }
    params_len = *ext_len;
  }
  if (r.remaining() != params_len) {
    return open_error(ErrorKind::BadLength, opt_len_offset, 0,
                      "optional parameters length disagrees with the message length");
  }
  open.extended_parameters = extended;

  while (!r.empty()) {
    const std::uint32_t type_offset = r.offset();
    const std::uint8_t type = r.u8().value();
    const std::uint32_t length_offset = r.offset();
    // RFC 9072 section 2: the extended form widens each parameter length to 2 octets.
    std::size_t length = 0;
    if (extended) {
      auto l = r.u16();
      length = l ? *l : kNoLength;
    } else {
      auto l = r.u8();
      length = l ? *l : kNoLength;
    }
    if (length == kNoLength) {
      return open_error(ErrorKind::Truncated, length_offset, 0,
                        "optional parameter header truncated");
    }
    auto value = r.sub(length);
    if (!value) {
      return open_error(ErrorKind::BadLength, length_offset, 0,
                        "optional parameter overruns the parameters");
    }
    auto p = parse_parameter(type, *value, type_offset);
    if (!p) {
      return fail(p.error());
    }
    open.parameters.push_back(std::move(*p));
  }
  return open;
}

// RFC 4271 section 4.2, RFC 9072 section 2.
Status encode_open(const Open& open, wire::Writer& w) {
  std::size_t classic_total = 0;
  bool needs_extended = open.extended_parameters;
  for (const auto& p : open.parameters) {
    const std::size_t n = parameter_value_size(p);
    if (n > 0xFFFF) {
      return fail(ErrorKind::TooLarge, static_cast<std::uint32_t>(w.size()),
                  "optional parameter exceeds 65535 octets");
    }
    if (n > 0xFF) {
      needs_extended = true;
    }
    classic_total += 2 + n;
  }
  if (classic_total > kClassicMaxParameters) {
    needs_extended = true;
  }

  const std::size_t start = begin_message(w, MessageType::Open);
  w.u8(open.version);
  w.u16(open.my_as);
  w.u16(open.hold_time);
  w.u32(open.bgp_identifier);
  std::size_t ext_len_at = 0;
  if (needs_extended) {
    w.u8(open_parameter::kExtendedLength);
    w.u8(open_parameter::kExtendedLength);
    ext_len_at = w.placeholder_u16();
  } else {
    w.u8(static_cast<std::uint8_t>(classic_total));
  }
  const std::size_t params_start = w.size();
  for (const auto& p : open.parameters) {
    w.u8(p.type);
    const std::size_t n = parameter_value_size(p);
    if (needs_extended) {
      w.u16(static_cast<std::uint16_t>(n));
    } else {
      w.u8(static_cast<std::uint8_t>(n));
    }
    if (p.type == open_parameter::kCapabilities) {
      for (const auto& c : p.capabilities) {
        BGPSCRIBE_TRY(encode_capability(c, w));
      }
    } else {
      w.bytes(p.value);
    }
  }
  if (needs_extended) {
    const std::size_t n = w.since(params_start);
    if (n > 0xFFFF) {
      return fail(ErrorKind::TooLarge, static_cast<std::uint32_t>(start),
                  "optional parameters exceed 65535 octets");
    }
    w.patch_u16(ext_len_at, static_cast<std::uint16_t>(n));
  }
  return finish_message(w, start, MessageType::Open);
}

}  // namespace bgpscribe::codec::bgp
