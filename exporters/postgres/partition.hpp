// PostgreSQL's hash partitioning of a cidr column (PARTITION BY HASH (prefix), schema version 4),
// computed as the server computes it, so that the writer can split a batch into parts that
// each land in partitions of their own (schema/sql/0004_prefix_hash_partitions.sql).
//
// The server routes a row to the partition whose remainder is hash % modulus, where hash is
// hash_combine64(0, hashinetextended(prefix, HASH_PARTITION_SEED)) and hashinetextended is
// hash_bytes_extended (Bob Jenkins' lookup3, 64-bit variant) over the cidr's family, bits and
// address octets. Those functions are part of the on-disk format of hash-partitioned tables
// (pg_upgrade keeps such tables as they are), so they do not change between releases. The
// writer only relies on them for speed: rows always go in through the parent table.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace bgpscribe::exporters::postgres {

// PostgreSQL's hash_bytes_extended (src/common/hashfn.c).
std::uint64_t pg_hash_bytes_extended(std::span<const std::uint8_t> key, std::uint64_t seed);

// The hash PostgreSQL's hash partitioning reduces modulo the modulus, for a cidr given as its
// binary COPY value (family, bits, is_cidr, length, address octets); nullopt when the value is
// not a well-formed IPv4 or IPv6 cidr.
std::optional<std::uint64_t> cidr_partition_hash(std::span<const std::uint8_t> copy_value);

}  // namespace bgpscribe::exporters::postgres
