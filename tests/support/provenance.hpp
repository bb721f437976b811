// Test support: the per-file message counts that /work/shared/data/PROVENANCE.md states.
//
// PROVENANCE.md was written from tshark's reading of each capture; tests compare the codec's
// counts with it. This reads the Markdown, nothing more: it does not open the data files.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>

namespace bgpscribe::tests {

struct ProvenanceCounts {
  // "BGP messages:" (captures of BGP sessions) or "BMP messages:" (BMP captures), by the name
  // PROVENANCE uses: OPEN, UPDATE, ... or RouteMonitoring, PeerUp, StatsReport, ...
  std::map<std::string, std::size_t> messages;
  // "BGP PDUs inside BMP:", by BGP message name.
  std::map<std::string, std::size_t> inner_bgp;
};

// Keyed by the path relative to the data folder, e.g. "bgp-pcap/tcpdump/tests/bgp-evpn.pcap".
// Empty when the file cannot be read.
std::map<std::string, ProvenanceCounts> read_provenance(const std::filesystem::path& file);

}  // namespace bgpscribe::tests
