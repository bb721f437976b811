// MRT records (RFC 6396 section 2-3, RFC 8050): the common header, framing and the record view.
//
// A Record is a view over the bytes of exactly one record (header included); the body parsers in
// table_dump.hpp and bgp4mp.hpp turn it into typed views whose variable parts stay spans into
// those bytes. Error offsets count from the record's first byte (the FileReader adds the record's
// position in the stream). Nothing here allocates, throws, or reads anything but wire::Reader;
// no I/O (file.hpp does that).
#pragma once

#include <cstddef>
#include <cstdint>
#include <variant>

#include "codec/bgp/parse_context.hpp"
#include "codec/mrt/types.hpp"
#include "codec/wire/reader.hpp"
#include "codec/wire/result.hpp"
#include "codec/wire/writer.hpp"

namespace bgpscribe::codec::mrt {

using wire::Bytes;

// The header's Length is 32 bits, but no real record comes near 16 MiB (a full PEER_INDEX_TABLE
// or a RIB record with every peer is well under 1 MiB); a larger value means a corrupt or
// non-MRT stream, and buffering it would break the constant-memory promise of the reader.
inline constexpr std::uint32_t kMaxRecordLength = 16U * 1024U * 1024U;

// When a record was written: seconds, plus microseconds for the _ET types (RFC 6396 section 3).
struct Timestamp {
  std::uint32_t seconds = 0;
  std::uint32_t microseconds = 0;
  bool extended = false;  // write a BGP4MP_ET record (with microseconds) instead of BGP4MP
  friend bool operator==(const Timestamp&, const Timestamp&) = default;
};

// RFC 6396 section 2 (common header) and section 3 (extended timestamp).
struct Header {
  std::uint32_t timestamp = 0;
  Type type = Type::Null;
  std::uint16_t subtype = 0;
  std::uint32_t length = 0;        // as on the wire: _ET types count the microseconds in it
  std::uint32_t microseconds = 0;  // _ET types only, else 0

  [[nodiscard]] bool extended_time() const { return is_extended_time(type); }
  // Size of the whole record: 12 header octets plus Length.
  [[nodiscard]] std::uint64_t record_size() const { return kHeaderSize + std::uint64_t{length}; }
  [[nodiscard]] Timestamp time() const { return {timestamp, microseconds, extended_time()}; }
  friend bool operator==(const Header&, const Header&) = default;
};

struct Record {
  Header header;
  Bytes bytes;  // the whole record, header (and microseconds) included
  Bytes body;   // what follows the header and, for _ET types, the microseconds
  // Offset of body[0] inside bytes (12, or 16 for _ET), so body errors stay record-relative.
  [[nodiscard]] std::uint32_t body_offset() const {
    return static_cast<std::uint32_t>(bytes.size() - body.size());
  }
};

// Framing (RFC 6396 section 2): how much of `buffer` the next record takes.
enum class FrameStatus : std::uint8_t {
  NeedMore,  // `size` bytes are needed before the record can be framed or completed
  Complete,  // the first `size` bytes are one whole record
  Broken,    // `error` says why; `size` is the record size the length field claims (the caller
             // may skip that many bytes to resynchronise), 0 when it frames nothing
};

struct Frame {
  FrameStatus status = FrameStatus::NeedMore;
  std::uint64_t size = 0;
  Error error{};
};

// Frames the record at the start of `buffer`; refuses lengths above `max_length` (TooLarge)
// and _ET records whose length cannot hold the microseconds (BadLength).
Frame frame(Bytes buffer, std::uint32_t max_length = kMaxRecordLength);

// RFC 6396 section 2-3: parses the header of `bytes`, which must hold exactly one record.
Result<Record> parse_record(Bytes bytes);

// Writes a header with a placeholder length; finish_record patches it (RFC 6396 section 2-3).
// Returns the position of the record's first byte in the writer.
std::size_t begin_record(Type type, std::uint16_t subtype, const Timestamp& time, wire::Writer& w);
Status finish_record(std::size_t start, wire::Writer& w);

// A record we keep as bytes: unknown types and subtypes, GEO_PEER_TABLE (RFC 6397), the old
// Zebra BGP4MP_ENTRY/SNAPSHOT, deprecated records other than BGP messages.
struct Raw {
  Bytes body;
  friend bool operator==(const Raw& a, const Raw& b);
};
// RFC 6396 section 2: writes `body` unchanged under a header of the given type and subtype.
Status encode_raw(Type type, std::uint16_t subtype, const Timestamp& time, Bytes body,
                  wire::Writer& w);

// The decoding facts a record implies for the BGP bytes it carries (RFC 6396 section 4.3.4 and
// 4.4, RFC 8050 sections 3-4): BGP4MP *_AS4 subtypes and every TABLE_DUMP_V2 RIB entry carry
// 4-octet AS_PATHs, *_ADDPATH BGP4MP subtypes carry path ids in every NLRI. Extended message is
// on because the archive recorded whatever the session accepted.
bgp::ParseContext parse_context_for(const Record& record);
// True where MP_REACH_NLRI inside the attributes is the abbreviated TABLE_DUMP_V2 form (next-hop
// length and next hop only, RFC 6396 section 4.3.4). Older RIS bviews write the full form
// anyway; the attribute decoder tells them apart by value[0] + 1 == attribute length.
bool mp_reach_abbreviated(const Record& record);

bool bytes_equal(Bytes a, Bytes b);

}  // namespace bgpscribe::codec::mrt
