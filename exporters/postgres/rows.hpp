// What the archive's rows hold, computed from the codec's views: attribute set ids and columns
// (bgp.attr_sets), capability lists of bgp.peers, NOTIFICATION text of bgp.peer_events.
// docs/postgres-exporter.md and schema/sql/0001_archive.sql describe the columns; keep the
// three in step.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "codec/bgp/attributes.hpp"
#include "codec/bgp/parse_context.hpp"
#include "exporters/postgres/copy.hpp"

namespace bgpscribe::exporters::postgres {

// The id of an attribute set: XXH3-64 of its canonical bytes (codec::mrt::rib_entry_attributes)
// as a signed bigint. Stable across versions and machines: every collector writing one
// database computes the same id for the same set.
std::int64_t attr_id_of(std::span<const std::uint8_t> canonical);

// The columns of bgp.attr_sets, in the order of kAttrColumns.
inline constexpr const char* kAttrColumns =
    "attr_id, origin, as_path, as_path_text, as_path_length, origin_as, next_hop, "
    "next_hop_link_local, med, local_pref, communities, large_communities, extended_communities, "
    "aggregator_as, aggregator_address, atomic_aggregate, originator_id, cluster_list, otc, "
    "unknown, raw, first_seen";
inline constexpr std::uint16_t kAttrColumnCount = 22;

// Appends one bgp.attr_sets row for the attributes `pa` of an UPDATE received with `context`
// (2-octet sessions: AS4_PATH and AS4_AGGREGATOR merged, RFC 6793 section 4.2.3).
void write_attr_row(CopyWriter& w, std::int64_t attr_id, const codec::bgp::PathAttributes& pa,
                    const codec::bgp::ParseContext& context,
                    std::span<const std::uint8_t> canonical, std::int64_t time_us);

// The text of each community of an attribute value, as codec/bgp/text.hpp spells it (the text
// of every output, docs/text.md): "65000:100" (RFC 1997), "65000:1:2" (large, RFC 8092),
// "rt:65000:100", "ro:192.0.2.1:7" or "0x" and 16 hex digits (extended, RFC 4360).
std::vector<std::string> community_strings(std::span<const std::uint8_t> list);
std::vector<std::string> large_community_strings(std::span<const std::uint8_t> list);
std::vector<std::string> extended_community_strings(std::span<const std::uint8_t> list);

// The capabilities of an OPEN message (header included), one codec::bgp::capability_text each:
// "multiprotocol ipv6/unicast", "4-octet-as 4200000000", "add-path ipv4/unicast receive", ...
// Empty when the OPEN does not parse.
std::vector<std::string> capability_strings(std::span<const std::uint8_t> open_message);

}  // namespace bgpscribe::exporters::postgres
