// The one decision per MRT record that every output of `bgpscribe dump` follows: print it
// (possibly with a warning), report it as malformed, or say it is of a kind we do not decode.
//
// Formats differ in what they show, never in which records they trust: a record is malformed
// when any part a format would print cannot be parsed (its MRT body, the BGP message it
// carries, an NLRI block, a RIB entry's peer index). RFC 7606 attribute problems that keep the
// prefixes readable (treat-as-withdraw, attribute discard) do not make a record malformed.
// Offsets count from the record's first byte. No I/O, no allocation but for type 5 messages.
#pragma once

#include <cstdint>

#include "codec/bgp/parse_context.hpp"
#include "codec/bgp/update.hpp"
#include "codec/mrt/record.hpp"
#include "codec/mrt/table_dump.hpp"

namespace bgpscribe::codec::mrt {

enum class Verdict : std::uint8_t {
  Clean,        // decode and print it
  Warning,      // decode and print it, and report `problem` (what was guessed or skipped)
  Malformed,    // print nothing, report `problem` as an error
  Unsupported,  // a type or subtype we keep as bytes (BGP4MP_ENTRY, OSPF, ...): not an error
};

struct RecordCheck {
  Verdict verdict = Verdict::Clean;
  Error problem{};  // for Warning and Malformed; offset from the record's first byte
  // How to decode the BGP bytes the record carries (parse_context_for, or ADD-PATH inferred).
  bgp::ParseContext context{};
  // The NLRI (or RIB entries) parse only with RFC 7911 path identifiers, which the subtype
  // does not announce: BIRD has written such records. Decoded with them, as other MRT readers
  // do, and reported as a Warning.
  bool add_path_inferred = false;
  // TABLE_DUMP: the number of whole entries in the record (RFC 6396 has one; see
  // parse_table_dump_entry).
  std::uint32_t entries = 0;
  // The UPDATE was parsed into the caller's bgp::Update (see check_record).
  bool update = false;

  [[nodiscard]] bool printable() const {
    return verdict == Verdict::Clean || verdict == Verdict::Warning;
  }
};

// Decides for one record. `peers` is the PEER_INDEX_TABLE in force (nullptr before any), which
// RIB records refer to.
RecordCheck check_record(const Record& record, const PeerIndexTable* peers);
// The same; for a printable UPDATE record (BGP4MP or type 5) `update` is left holding the parse
// with `context`, error offsets from the record's first byte, so formats need not parse again
// (then `RecordCheck::update` is true). Its views point into the record's bytes.
RecordCheck check_record(const Record& record, const PeerIndexTable* peers, bgp::Update& update);

}  // namespace bgpscribe::codec::mrt
