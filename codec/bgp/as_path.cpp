#include "codec/bgp/as_path.hpp"

#include "codec/bgp/notification_codes.hpp"

namespace bgpscribe::codec::bgp {

Result<AsPathView> AsPathView::parse(wire::Reader value, std::uint8_t as_size) {
  AsPathView v;
  v.bytes_ = value.rest();
  v.as_size_ = as_size;
  while (!value.empty()) {
    const std::uint32_t seg_offset = value.offset();
    auto type = value.u8();
    auto count = value.u8();
    if (!type || !count) {
      return fail(ErrorKind::Truncated, seg_offset, "AS_PATH segment header truncated",
                  error_code::kUpdateMessage, update_subcode::kMalformedAsPath,
                  Reaction::TreatAsWithdraw);
    }
    if (*type < 1 || *type > 4) {
      return fail(ErrorKind::BadValue, seg_offset, "AS_PATH segment type is not 1..4",
                  error_code::kUpdateMessage, update_subcode::kMalformedAsPath,
                  Reaction::TreatAsWithdraw);
    }
    if (*count == 0) {
      return fail(ErrorKind::BadLength, seg_offset + 1, "AS_PATH segment with zero ASNs",
                  error_code::kUpdateMessage, update_subcode::kMalformedAsPath,
                  Reaction::TreatAsWithdraw);
    }
    auto data = value.bytes(static_cast<std::size_t>(*count) * as_size);
    if (!data) {
      return fail(ErrorKind::Truncated, seg_offset, "AS_PATH segment overruns the attribute",
                  error_code::kUpdateMessage, update_subcode::kMalformedAsPath,
                  Reaction::TreatAsWithdraw);
    }
    const wire::BigEndianArray asns(*data, as_size);
    for (std::size_t i = 0; i < asns.size(); ++i) {
      if (asns[i] == 0) {
        // RFC 7607: AS 0 must not appear in AS_PATH.
        return fail(ErrorKind::BadValue, seg_offset + 2 + static_cast<std::uint32_t>(i * as_size),
                    "AS_PATH contains AS 0", error_code::kUpdateMessage,
                    update_subcode::kMalformedAsPath, Reaction::TreatAsWithdraw);
      }
    }
  }
  return v;
}

std::size_t AsPathView::path_length() const {
  std::size_t n = 0;
  for_each_segment([&](const Segment& s) {
    switch (s.type) {
      case AsSegmentType::AsSet:
        n += 1;
        break;
      case AsSegmentType::AsSequence:
        n += s.count;
        break;
      default:
        break;
    }
  });
  return n;
}

std::uint32_t AsPathView::origin_as() const {
  std::uint32_t origin = 0;
  for_each_segment([&](const Segment& s) {
    if (s.type == AsSegmentType::AsSequence) {
      // Unchecked views may hold an empty segment (count 0): it names no AS.
      origin = s.count > 0 ? s.asn(s.count - 1U) : 0;
    } else if (s.type == AsSegmentType::AsSet) {
      origin = s.count == 1 ? s.asn(0) : 0;
    }
  });
  return origin;
}

std::size_t path_length(const AsPath& path) {
  std::size_t n = 0;
  for (const auto& s : path) {
    n += s.type == AsSegmentType::AsSet        ? 1
         : s.type == AsSegmentType::AsSequence ? s.asns.size()
                                               : 0;
  }
  return n;
}

std::uint32_t origin_as(const AsPath& path) {
  std::uint32_t origin = 0;
  for (const auto& s : path) {
    if (s.type == AsSegmentType::AsSequence) {
      origin = s.asns.empty() ? 0 : s.asns.back();
    } else if (s.type == AsSegmentType::AsSet) {
      origin = s.asns.size() == 1 ? s.asns[0] : 0;
    }
  }
  return origin;
}

AsPath AsPathView::to_owned() const {
  AsPath path;
  for_each_segment([&](const Segment& s) {
    AsSegment seg;
    seg.type = s.type;
    const wire::BigEndianArray asns = s.asns();
    seg.asns.reserve(asns.size());
    for (const std::uint32_t asn : asns) {
      seg.asns.push_back(asn);
    }
    path.push_back(std::move(seg));
  });
  return path;
}

AsPath merge_as4_path(const AsPathView& as_path, const AsPathView& as4_path) {
  AsPath four;
  for (auto& seg : as4_path.to_owned()) {
    if (seg.type == AsSegmentType::AsSet || seg.type == AsSegmentType::AsSequence) {
      four.push_back(std::move(seg));
    }
  }
  std::size_t four_len = 0;
  for (const auto& seg : four) {
    four_len += seg.type == AsSegmentType::AsSet ? 1 : seg.asns.size();
  }
  const std::size_t two_len = as_path.path_length();
  AsPath two = as_path.to_owned();
  if (as4_path.empty() || two_len < four_len) {
    return two;
  }
  // Keep the leading (two_len - four_len) ASNs of AS_PATH with their segment structure;
  // confederation segments count 0 and are kept while they lead.
  std::size_t keep = two_len - four_len;
  AsPath merged;
  for (auto& seg : two) {
    if (seg.type == AsSegmentType::AsConfedSequence || seg.type == AsSegmentType::AsConfedSet) {
      if (keep > 0 || merged.size() == 0) {
        merged.push_back(std::move(seg));
      }
      continue;
    }
    if (keep == 0) {
      break;
    }
    if (seg.type == AsSegmentType::AsSet) {
      merged.push_back(std::move(seg));
      keep -= 1;
      continue;
    }
    if (seg.asns.size() > keep) {
      seg.asns.resize(keep);
    }
    keep -= seg.asns.size();
    merged.push_back(std::move(seg));
  }
  for (auto& seg : four) {
    merged.push_back(std::move(seg));
  }
  return merged;
}

void encode_as_path(wire::Writer& w, const AsPath& path, std::uint8_t as_size) {
  for (const auto& seg : path) {
    std::size_t done = 0;
    do {
      const std::size_t n = std::min<std::size_t>(255, seg.asns.size() - done);
      w.u8(static_cast<std::uint8_t>(seg.type));
      w.u8(static_cast<std::uint8_t>(n));
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t asn = seg.asns[done + i];
        if (as_size == 4) {
          w.u32(asn);
        } else {
          w.u16(asn > 0xFFFF ? static_cast<std::uint16_t>(kAsTrans)
                             : static_cast<std::uint16_t>(asn));
        }
      }
      done += n;
    } while (done < seg.asns.size());
  }
}

}  // namespace bgpscribe::codec::bgp
