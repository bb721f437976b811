// The record codec: a Record (exporters/api/record.hpp) as bytes and back, peer included, for
// what carries records outside the process: the collector's spool segments and journal entries
// (collector/core) and the Kafka exporter's records topic, which the archiver reads.
//
// Pure: no files, no clocks. The byte layout and its older forms are in docs/formats.md
// ("Collector spool segments"). RibSnapshot records encode only the snapshot number given
// here; their tables stay in the process that made them.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "codec/wire/writer.hpp"
#include "exporters/api/record.hpp"

namespace bgpscribe::exporters {

// Appends the encoding of `record` (its snapshot, if any, by `snapshot_id`) to `w`.
void encode_record(const Record& record, std::uint64_t snapshot_id, codec::wire::Writer& w);
// The record of `bytes` (the whole of them), setting `snapshot_id`; nullopt when they are not
// one (damaged, or a record type or flag this bgpscribe does not know).
std::optional<Record> decode_record(std::span<const std::uint8_t> bytes,
                                    std::uint64_t& snapshot_id);

}  // namespace bgpscribe::exporters
