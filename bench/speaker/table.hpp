// A synthetic full routing table for the speaker benchmarks, encoded as UPDATE messages before
// any session comes up, so that sending it costs only queueing bytes.
//
// The shared data set has no present-day full table (../shared/data/PROVENANCE.md), so the
// table is generated, deterministically from a seed: distinct, non-overlapping prefixes in
// address order with a full-table mix of lengths (mostly /24 for IPv4, /48 for IPv6), in
// groups of 1-20 prefixes that share one attribute set (1 for 46 %, 3.5 on average), AS paths
// of 2-8 ASes that start with the sender's AS (2- and 4-octet ASes), origin, MED, communities,
// large communities and aggregator on a share of the groups. It is benchmark input only: it
// knows nothing of sockets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "codec/bgp/parse_context.hpp"
#include "codec/wire/result.hpp"

namespace bgpscribe::bench {

struct TableOptions {
  std::size_t ipv4 = 1'000'000;  // IPv4 unicast prefixes
  std::size_t ipv6 = 0;          // IPv6 unicast prefixes (MP_REACH_NLRI)
  std::size_t per_update = 0;    // prefixes per attribute set; 0 = the realistic 1-20 mix
  std::uint32_t local_as = 65001;
  std::uint64_t seed = 1;
};

struct EncodedTable {
  std::vector<std::uint8_t> bytes;   // every UPDATE, back to back
  std::vector<std::size_t> offsets;  // message i is [offsets[i], offsets[i + 1])
  std::size_t ipv4_prefixes = 0;
  std::size_t ipv6_prefixes = 0;
  std::size_t attribute_sets = 0;

  [[nodiscard]] std::size_t messages() const { return offsets.empty() ? 0 : offsets.size() - 1; }
  [[nodiscard]] std::span<const std::uint8_t> message(std::size_t i) const {
    return std::span<const std::uint8_t>(bytes).subspan(offsets[i], offsets[i + 1] - offsets[i]);
  }
};

// Generates and encodes the table for a session with `ctx` (4-octet AS, no ADD-PATH is what
// the benchmarks negotiate) within `max_size`-byte messages. Fails when the address space
// runs out (past about 1.3 million IPv4 prefixes: short prefixes and their alignment use up
// 1.0.0.0-223.255.255.255) or a message cannot be encoded.
codec::Result<EncodedTable> build_table(const TableOptions& options,
                                        const codec::bgp::ParseContext& ctx, std::size_t max_size);

// One line describing the table: prefixes, messages, bytes, prefixes per message.
std::string describe(const EncodedTable& table);

}  // namespace bgpscribe::bench
