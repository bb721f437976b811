#include "exporters/mrt/rib.hpp"

#include <vector>

#include "codec/mrt/table_dump.hpp"

namespace bgpscribe::exporters::mrt {

namespace {

using codec::bgp::Afi;
using codec::bgp::AfiSafi;
using codec::bgp::Safi;
using codec::mrt::TableDumpV2Subtype;

// RFC 6396 section 4.3.2 and RFC 8050 section 4.
TableDumpV2Subtype subtype_for(AfiSafi f, bool add_path) {
  const bool v6 = f.afi == Afi::Ipv6;
  if (f.safi == Safi::Multicast) {
    if (v6) {
      return add_path ? TableDumpV2Subtype::RibIpv6MulticastAddpath
                      : TableDumpV2Subtype::RibIpv6Multicast;
    }
    return add_path ? TableDumpV2Subtype::RibIpv4MulticastAddpath
                    : TableDumpV2Subtype::RibIpv4Multicast;
  }
  if (v6) {
    return add_path ? TableDumpV2Subtype::RibIpv6UnicastAddpath
                    : TableDumpV2Subtype::RibIpv6Unicast;
  }
  return add_path ? TableDumpV2Subtype::RibIpv4UnicastAddpath : TableDumpV2Subtype::RibIpv4Unicast;
}

// Size of one encoded RIB entry (RFC 6396 section 4.3.4, RFC 8050 section 4).
std::size_t entry_size(const codec::mrt::RibEntry& e, bool add_path) {
  return 2 + 4 + (add_path ? 4 : 0) + 2 + e.attributes.size();
}

}  // namespace

RibDumpResult write_rib(const RibSnapshot& snapshot, const std::string& view_name,
                        std::optional<std::uint32_t> collector_bgp_id, FileStream& stream,
                        std::size_t sync_bytes, Metrics& metrics) {
  RibDumpResult result;
  const auto& peers = snapshot.peers();
  const auto timestamp = static_cast<std::uint32_t>(snapshot.time_us() / 1'000'000);

  // RFC 6396 section 4.3.1: one PEER_INDEX_TABLE before the RIB records; index = position.
  codec::mrt::PeerIndexTable table;
  table.view_name = view_name;
  table.collector_bgp_id = collector_bgp_id.value_or(0);
  table.peers.reserve(peers.size());
  for (const RibPeer& p : peers) {
    if (!p.info) {
      table.peers.push_back(codec::mrt::Peer::make(0, codec::bgp::IpAddress{}, 0));
      continue;
    }
    if (!collector_bgp_id && table.collector_bgp_id == 0) {
      table.collector_bgp_id = p.info->local_bgp_id;
    }
    table.peers.push_back(
        codec::mrt::Peer::make(p.info->peer_bgp_id, p.info->peer_address, p.info->peer_as));
  }
  if (!codec::mrt::encode(table, timestamp, stream.buffer())) {
    return result;  // more than 65535 peers or a name that long: nothing sensible to write
  }
  stream.added();

  std::uint32_t sequence = 0;
  std::vector<codec::mrt::RibEntry> plain;
  std::vector<codec::mrt::RibEntry> with_ids;
  std::vector<bool> add_path_peer(peers.size());
  bool ok = true;

  // Writes `entries` for `prefix` as one or more records of at most kMaxRibRecordBody bytes.
  auto emit = [&](const codec::bgp::Prefix& prefix, AfiSafi family,
                  const std::vector<codec::mrt::RibEntry>& entries, bool add_path) {
    const TableDumpV2Subtype subtype = subtype_for(family, add_path);
    const std::size_t fixed = 4 + 1 + (prefix.length + 7) / 8 + 2;
    std::size_t first = 0;
    while (first < entries.size() && ok) {
      std::size_t size = fixed;
      std::size_t last = first;
      while (last < entries.size() && last - first < 0xFFFF &&
             (last == first || size + entry_size(entries[last], add_path) <= kMaxRibRecordBody)) {
        size += entry_size(entries[last], add_path);
        ++last;
      }
      const auto part = std::span<const codec::mrt::RibEntry>(entries).subspan(first, last - first);
      if (!codec::mrt::encode_rib(subtype, sequence++, prefix, part, timestamp, stream.buffer())) {
        ok = false;  // attributes longer than 65535: cannot happen for received routes
        return;
      }
      stream.added();
      ++result.records;
      first = last;
    }
    if (stream.pending_bytes() >= sync_bytes && !stream.sync()) {
      ok = false;
    }
  };

  for (const AfiSafi family : snapshot.families()) {
    if (!ok) {
      break;
    }
    const bool plain_family = codec::bgp::is_plain_prefix_family(family);
    for (std::size_t i = 0; i < peers.size(); ++i) {
      add_path_peer[i] = peers[i].add_path_for(family);
    }
    snapshot.for_each_prefix(
        family, [&](const codec::bgp::Prefix& prefix, std::span<const RibRoute> routes) {
          if (!ok) {
            return;
          }
          if (!plain_family || prefix.family() != family.afi) {
            metrics.rib_routes_skipped += routes.size();
            return;
          }
          plain.clear();
          with_ids.clear();
          for (const RibRoute& r : routes) {
            const bool ap = r.peer_index < add_path_peer.size() && add_path_peer[r.peer_index];
            (ap ? with_ids : plain)
                .push_back({r.peer_index, r.originated, ap ? r.path_id : 0, r.attributes});
          }
          // RFC 8050 section 4: routes of ADD-PATH and other peers cannot share a record.
          if (!plain.empty()) {
            emit(prefix, family, plain, false);
          }
          if (!with_ids.empty()) {
            emit(prefix, family, with_ids, true);
          }
          ++result.prefixes;
          result.routes += routes.size();
        });
  }
  metrics.rib_records += result.records;
  result.ok = ok;
  return result;
}

}  // namespace bgpscribe::exporters::mrt
