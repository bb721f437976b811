// AS_PATH and AS4_PATH (RFC 4271 4.3 and 5.1.2, RFC 5065, RFC 6793): a validated view over
// the segments, an owning form, and the RFC 6793 4.2.3 reconstruction of the true path from
// AS_PATH and AS4_PATH.
//
// The view validates once (segment types 1..4, count > 0, no overrun, no AS 0 per RFC 7607)
// and then iterates without allocation. No exceptions on input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "codec/bgp/attribute_types.hpp"
#include "codec/wire/reader.hpp"
#include "codec/wire/writer.hpp"

namespace bgpscribe::codec::bgp {

struct AsSegment {
  AsSegmentType type = AsSegmentType::AsSequence;
  std::vector<std::uint32_t> asns;
  friend bool operator==(const AsSegment&, const AsSegment&) = default;
};

// Owning AS path.
using AsPath = std::vector<AsSegment>;

class AsPathView {
 public:
  AsPathView() = default;

  // RFC 4271 4.3 / RFC 6793: validates the attribute value. `as_size` is 2 or 4. Errors carry
  // UPDATE 3/11 (Malformed AS_PATH) and the offset of the bad segment.
  static Result<AsPathView> parse(wire::Reader value, std::uint8_t as_size);
  // Wraps bytes without validation; for callers that must see malformed paths (tools that
  // mimic other software). Iteration stops at the first segment that does not fit.
  static AsPathView unchecked(std::span<const std::uint8_t> bytes, std::uint8_t as_size) {
    AsPathView v;
    v.bytes_ = bytes;
    v.as_size_ = as_size;
    return v;
  }

  struct Segment {
    AsSegmentType type;
    std::uint8_t count;
    std::span<const std::uint8_t> data;  // count * as_size bytes
    std::uint8_t as_size;
    [[nodiscard]] wire::BigEndianArray asns() const { return {data, as_size}; }
    [[nodiscard]] std::uint32_t asn(std::size_t i) const { return asns()[i]; }
  };

  // Calls f(const Segment&) for each segment.
  template <class F>
  void for_each_segment(F&& f) const {
    std::size_t pos = 0;
    while (bytes_.size() - pos >= 2) {
      const auto count = bytes_[pos + 1];
      const std::size_t len = static_cast<std::size_t>(count) * as_size_;
      if (bytes_.size() - pos - 2 < len) {
        return;
      }
      f(Segment{static_cast<AsSegmentType>(bytes_[pos]), count, bytes_.subspan(pos + 2, len),
                as_size_});
      pos += 2 + len;
    }
  }

  [[nodiscard]] std::span<const std::uint8_t> bytes() const { return bytes_; }
  [[nodiscard]] std::uint8_t as_size() const { return as_size_; }
  [[nodiscard]] bool empty() const { return bytes_.empty(); }
  // RFC 4271 9.1.2.2 path length: a set counts 1, confederation segments 0.
  [[nodiscard]] std::size_t path_length() const;
  // Last ASN of the last AS_SEQUENCE, or of a trailing AS_SET when it has exactly one member;
  // 0 when there is none (the origin AS for SQL and filters).
  [[nodiscard]] std::uint32_t origin_as() const;
  [[nodiscard]] AsPath to_owned() const;

 private:
  std::span<const std::uint8_t> bytes_{};
  std::uint8_t as_size_ = 4;
};

// RFC 6793 4.2.3: the path a 2-octet session really carried. AS4_PATH is ignored when it is
// longer than AS_PATH; confederation segments in AS4_PATH are dropped first (RFC 6793 6).
AsPath merge_as4_path(const AsPathView& as_path, const AsPathView& as4_path);

// The rules of AsPathView::path_length and origin_as for an owned path (a merged one).
std::size_t path_length(const AsPath& path);
std::uint32_t origin_as(const AsPath& path);

// Encodes segments with 2- or 4-octet ASNs; segments longer than 255 are split.
void encode_as_path(wire::Writer& w, const AsPath& path, std::uint8_t as_size);

// The path as text: codec/bgp/text.hpp.

}  // namespace bgpscribe::codec::bgp
