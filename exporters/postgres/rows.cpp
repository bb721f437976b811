#include "exporters/postgres/rows.hpp"

#include <xxhash.h>

#include "codec/bgp/as_path.hpp"
#include "codec/bgp/attribute_types.hpp"
#include "codec/bgp/open.hpp"
#include "codec/bgp/text.hpp"
#include "codec/wire/reader.hpp"

namespace bgpscribe::exporters::postgres {

namespace bgp = codec::bgp;

std::int64_t attr_id_of(std::span<const std::uint8_t> canonical) {
  return static_cast<std::int64_t>(XXH3_64bits(canonical.data(), canonical.size()));
}

std::vector<std::string> community_strings(std::span<const std::uint8_t> list) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i + 4 <= list.size(); i += 4) {
    out.push_back(bgp::community_text(codec::wire::load_u32(list, i)));
  }
  return out;
}

std::vector<std::string> large_community_strings(std::span<const std::uint8_t> list) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i + 12 <= list.size(); i += 12) {
    out.push_back(bgp::large_community_text(list.subspan(i, 12)));
  }
  return out;
}

std::vector<std::string> extended_community_strings(std::span<const std::uint8_t> list) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i + 8 <= list.size(); i += 8) {
    out.push_back(bgp::extended_community_text(list.subspan(i, 8)));
  }
  return out;
}

void write_attr_row(CopyWriter& w, std::int64_t attr_id, const bgp::PathAttributes& pa,
                    const bgp::ParseContext& context, std::span<const std::uint8_t> canonical,
                    std::int64_t time_us) {
  w.row(kAttrColumnCount);
  w.int8(attr_id);
  if (pa.has(bgp::AttributeType::Origin)) {
    w.text(bgp::origin_name(pa.origin));
  } else {
    w.null();
  }
  // AS path: 2-octet sessions carry the real path in AS4_PATH (RFC 6793 section 4.2.3).
  if (pa.has(bgp::AttributeType::AsPath)) {
    const bgp::AsPath path = bgp::effective_as_path(pa, context.four_octet_as);
    std::vector<std::int64_t> flat;
    for (const auto& s : path) {
      flat.insert(flat.end(), s.asns.begin(), s.asns.end());
    }
    w.int8_array(flat);
    w.text(bgp::to_string(path));
    // RFC 4271 9.1.2.2 a): a set counts 1, confederation segments 0 (RFC 5065 5.3).
    w.int4(static_cast<std::int32_t>(bgp::path_length(path)));
    if (const std::uint32_t origin = bgp::origin_as(path); origin != 0) {
      w.int8(origin);
    } else {
      w.null();
    }
  } else {
    w.null();
    w.null();
    w.null();
    w.null();
  }
  // Next hop: NEXT_HOP, else the global (and link-local) address of MP_REACH_NLRI.
  if (pa.has(bgp::AttributeType::NextHop)) {
    w.inet(bgp::IpAddress::v4(pa.next_hop), 32, false);
    w.null();
  } else if (pa.has(bgp::AttributeType::MpReachNlri) && pa.mp_reach.next_hop.valid) {
    const auto& nh = pa.mp_reach.next_hop;
    w.inet(nh.global, nh.global.is_v4() ? 32 : 128, false);
    if (nh.has_link_local) {
      w.inet(nh.link_local, 128, false);
    } else {
      w.null();
    }
  } else {
    w.null();
    w.null();
  }
  if (pa.has(bgp::AttributeType::MultiExitDisc)) {
    w.int8(pa.med);
  } else {
    w.null();
  }
  if (pa.has(bgp::AttributeType::LocalPref)) {
    w.int8(pa.local_pref);
  } else {
    w.null();
  }
  auto strings = [&](bgp::AttributeType t, std::vector<std::string> v) {
    if (pa.has(t)) {
      w.text_array(v);
    } else {
      w.null();
    }
  };
  strings(bgp::AttributeType::Communities, community_strings(pa.communities));
  strings(bgp::AttributeType::LargeCommunities, large_community_strings(pa.large_communities));
  strings(bgp::AttributeType::ExtendedCommunities,
          extended_community_strings(pa.extended_communities));
  // AGGREGATOR: 2-octet sessions carry an AS_TRANS one's real AS in AS4_AGGREGATOR.
  if (const auto a = bgp::effective_aggregator(pa, context.four_octet_as)) {
    w.int8(a->asn);
    w.inet(bgp::IpAddress::v4(a->address), 32, false);
  } else {
    w.null();
    w.null();
  }
  w.boolean(pa.has(bgp::AttributeType::AtomicAggregate));
  if (pa.has(bgp::AttributeType::OriginatorId)) {
    w.inet(bgp::IpAddress::v4(pa.originator_id), 32, false);
  } else {
    w.null();
  }
  if (pa.has(bgp::AttributeType::ClusterList)) {
    std::vector<bgp::IpAddress> ids;
    for (std::size_t i = 0; i + 4 <= pa.cluster_list.size(); i += 4) {
      ids.push_back(bgp::IpAddress::v4(codec::wire::load_u32(pa.cluster_list, i)));
    }
    w.inet_array(ids);
  } else {
    w.null();
  }
  if (pa.has(bgp::AttributeType::Otc)) {
    w.int8(pa.otc);
  } else {
    w.null();
  }
  // Attributes the codec does not decode, as received (flags, type, length, value).
  std::vector<std::uint8_t> unknown;
  bgp::RawAttributeIterator it(canonical, 0);
  bgp::RawAttribute a;
  while (it.next(a)) {
    if (!bgp::is_known_attribute(a.type)) {
      unknown.push_back(a.flags);
      unknown.push_back(a.type);
      if ((a.flags & bgp::attr_flag::kExtendedLength) != 0) {
        unknown.push_back(static_cast<std::uint8_t>(a.value.size() >> 8));
      }
      unknown.push_back(static_cast<std::uint8_t>(a.value.size()));
      unknown.insert(unknown.end(), a.value.begin(), a.value.end());
    }
  }
  if (unknown.empty()) {
    w.null();
  } else {
    w.bytea(unknown);
  }
  w.bytea(canonical);
  w.timestamptz(time_us);
}

std::vector<std::string> capability_strings(std::span<const std::uint8_t> open_message) {
  std::vector<std::string> out;
  auto open = bgp::parse_open(open_message);
  if (!open) {
    return out;
  }
  for (const auto& p : open->parameters) {
    for (const auto& c : p.capabilities) {
      out.push_back(bgp::capability_text(c));
    }
  }
  return out;
}

}  // namespace bgpscribe::exporters::postgres
