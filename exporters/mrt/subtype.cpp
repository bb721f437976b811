#include "exporters/mrt/subtype.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "codec/bgp/attribute_types.hpp"
#include "codec/bgp/message_types.hpp"
#include "codec/wire/reader.hpp"

namespace bgpscribe::exporters::mrt {

namespace {

using codec::bgp::AfiSafi;
using codec::mrt::Bgp4mpSubtype;

// What the walk saw, in the order of update_family's priorities.
struct Seen {
  bool mp_reach = false;
  bool mp_reach_routes = false;
  AfiSafi mp_reach_family{};
  bool mp_unreach = false;
  bool mp_unreach_routes = false;
  AfiSafi mp_unreach_family{};
  bool classic_withdrawn = false;
  bool classic_nlri = false;
};

// AFI(2) SAFI(1) at the start of an MP attribute value (RFC 4760 sections 3 and 4).
bool read_family(codec::wire::Reader& r, AfiSafi& f) {
  auto afi = r.u16();
  auto safi = r.u8();
  if (!afi || !safi) {
    return false;
  }
  f = {static_cast<codec::bgp::Afi>(*afi), static_cast<codec::bgp::Safi>(*safi)};
  return true;
}

// RFC 4271 section 4.3 and RFC 4760: walks an UPDATE's fields; false where a length does not
// fit (what was seen before stays valid).
bool walk(std::span<const std::uint8_t> message, Seen& s) {
  codec::wire::Reader r(message);
  if (!r.skip(codec::bgp::kHeaderSize)) {
    return false;
  }
  auto withdrawn_len = r.u16();
  if (!withdrawn_len || !r.skip(*withdrawn_len)) {
    return false;
  }
  s.classic_withdrawn = *withdrawn_len > 0;
  auto attrs_len = r.u16();
  if (!attrs_len) {
    return false;
  }
  auto attrs = r.sub(*attrs_len);
  if (!attrs) {
    return false;
  }
  s.classic_nlri = r.remaining() > 0;
  codec::wire::Reader& a = *attrs;
  while (!a.empty()) {
    auto flags = a.u8();
    auto type = a.u8();
    if (!flags || !type) {
      return false;
    }
    std::uint16_t len = 0;
    if ((*flags & codec::bgp::attr_flag::kExtendedLength) != 0) {
      auto l16 = a.u16();
      if (!l16) {
        return false;
      }
      len = *l16;
    } else {
      auto l8 = a.u8();
      if (!l8) {
        return false;
      }
      len = *l8;
    }
    auto value = a.sub(len);
    if (!value) {
      return false;
    }
    const auto t = static_cast<codec::bgp::AttributeType>(*type);
    if (t == codec::bgp::AttributeType::MpReachNlri && !s.mp_reach) {
      // AFI(2) SAFI(1) Next Hop Length(1) Next Hop Reserved(1) NLRI (RFC 4760 section 3).
      if (!read_family(*value, s.mp_reach_family)) {
        return false;
      }
      s.mp_reach = true;
      auto nh_len = value->u8();
      if (!nh_len || !value->skip(*nh_len) || !value->skip(1)) {
        return false;
      }
      s.mp_reach_routes = value->remaining() > 0;
    } else if (t == codec::bgp::AttributeType::MpUnreachNlri && !s.mp_unreach) {
      if (!read_family(*value, s.mp_unreach_family)) {
        return false;
      }
      s.mp_unreach = true;
      s.mp_unreach_routes = value->remaining() > 0;
    }
  }
  return true;
}

}  // namespace

UpdateFamily update_family(std::span<const std::uint8_t> message) {
  UpdateFamily out;
  if (message.size() < codec::bgp::kHeaderSize ||
      message[codec::bgp::kHeaderSize - 1] !=
          static_cast<std::uint8_t>(codec::bgp::MessageType::Update)) {
    return out;
  }
  Seen s;
  out.malformed = !walk(message, s);

  // Every family that carries routes, for the mixed check.
  std::array<AfiSafi, 3> carrying{};
  std::size_t n = 0;
  auto add = [&](AfiSafi f) {
    for (std::size_t i = 0; i < n; ++i) {
      if (carrying[i] == f) {
        return;
      }
    }
    carrying[n++] = f;
  };
  if (s.mp_reach_routes) {
    add(s.mp_reach_family);
  }
  if (s.classic_nlri || s.classic_withdrawn) {
    add(codec::bgp::kIpv4Unicast);
  }
  if (s.mp_unreach_routes) {
    add(s.mp_unreach_family);
  }

  // The family it goes by: the first of these, in this order, that the UPDATE has.
  const std::array<std::pair<bool, AfiSafi>, 6> order = {{
      {s.mp_reach_routes, s.mp_reach_family},
      {s.classic_nlri, codec::bgp::kIpv4Unicast},
      {s.mp_unreach_routes, s.mp_unreach_family},
      {s.classic_withdrawn, codec::bgp::kIpv4Unicast},
      {s.mp_unreach, s.mp_unreach_family},
      {s.mp_reach, s.mp_reach_family},
  }};
  const auto first =
      std::find_if(order.begin(), order.end(), [](const auto& o) { return o.first; });
  out.known = true;
  if (first != order.end()) {
    out.family = first->second;
  } else if (out.malformed) {
    out.known = false;  // nothing seen before the break: no family to go by
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (!(carrying[i] == out.family)) {
      out.mixed = true;
      out.other = carrying[i];
      break;
    }
  }
  return out;
}

SubtypeChoice choose_subtype(std::span<const std::uint8_t> message,
                             const codec::bgp::ParseContext& context) {
  SubtypeChoice c;
  bool add_path = false;
  // Without ADD-PATH on the session every UPDATE is a plain subtype: no need to walk it (the
  // walk is a few per cent of the collector's CPU on a full table).
  if (context.any_add_path()) {
    const UpdateFamily f = update_family(message);
    c.malformed = f.malformed;
    if (f.known) {
      add_path = context.add_path(f.family);
      c.add_path_conflict = f.mixed && context.add_path(f.other) != add_path;
    }
  }
  if (context.four_octet_as) {
    c.subtype = add_path ? Bgp4mpSubtype::MessageAs4Addpath : Bgp4mpSubtype::MessageAs4;
  } else {
    c.subtype = add_path ? Bgp4mpSubtype::MessageAddpath : Bgp4mpSubtype::Message;
  }
  return c;
}

}  // namespace bgpscribe::exporters::mrt
