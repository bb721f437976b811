#include "codec/mrt/record.hpp"

#include <algorithm>

namespace bgpscribe::codec::mrt {

// RFC 6396 section 2-3.
Frame frame(Bytes buffer, std::uint32_t max_length) {
  Frame f;
  if (buffer.size() < kHeaderSize) {
    f.status = FrameStatus::NeedMore;
    f.size = kHeaderSize;
    return f;
  }
  const auto type = static_cast<Type>(wire::load_u16(buffer, 4));
  const std::uint32_t length = wire::load_u32(buffer, 8);
  const std::uint64_t size = kHeaderSize + std::uint64_t{length};
  if (length > max_length) {
    f.status = FrameStatus::Broken;
    f.size = size;
    f.error = Error{ErrorKind::TooLarge, 0, 0,
                    Reaction::None,      8, "MRT record length exceeds the 16 MiB limit"};
    return f;
  }
  if (is_extended_time(type) && length < kMicrosecondsSize) {
    // The microseconds are counted in Length (RFC 6396 section 3), so it is at least 4.
    f.status = FrameStatus::Broken;
    f.size = size;
    f.error =
        Error{ErrorKind::BadLength, 0, 0,
              Reaction::None,       8, "MRT _ET record length shorter than its microseconds field"};
    return f;
  }
  f.size = size;
  f.status = buffer.size() >= size ? FrameStatus::Complete : FrameStatus::NeedMore;
  return f;
}

// RFC 6396 section 2-3.
Result<Record> parse_record(Bytes bytes) {
  wire::Reader r(bytes);
  Record rec;
  auto ts = r.u32();
  auto type = r.u16();
  auto subtype = r.u16();
  auto length = r.u32();
  if (!length) {
    return fail(length.error().kind, length.error().offset, "MRT header truncated");
  }
  rec.header.timestamp = *ts;
  rec.header.type = static_cast<Type>(*type);
  rec.header.subtype = *subtype;
  rec.header.length = *length;
  if (r.remaining() < *length) {
    return fail(ErrorKind::Truncated, 8, "MRT record shorter than its length field");
  }
  if (r.remaining() > *length) {
    return fail(ErrorKind::BadLength, static_cast<std::uint32_t>(kHeaderSize + *length),
                "bytes after the MRT record");
  }
  if (rec.header.extended_time()) {
    auto us = r.u32();
    if (!us) {
      return fail(ErrorKind::BadLength, 8, "MRT _ET record length shorter than its microseconds");
    }
    rec.header.microseconds = *us;
  }
  rec.bytes = bytes;
  rec.body = r.rest();
  return rec;
}

std::size_t begin_record(Type type, std::uint16_t subtype, const Timestamp& time, wire::Writer& w) {
  const std::size_t start = w.size();
  w.u32(time.seconds);
  w.u16(static_cast<std::uint16_t>(type));
  w.u16(subtype);
  w.placeholder_u32();
  if (is_extended_time(type)) {
    w.u32(time.microseconds);
  }
  return start;
}

Status finish_record(std::size_t start, wire::Writer& w) {
  const std::size_t length = w.since(start) - kHeaderSize;
  if (length > kMaxRecordLength) {
    return fail(ErrorKind::TooLarge, 8, "MRT record length exceeds the 16 MiB limit");
  }
  w.patch_u32(start + 8, static_cast<std::uint32_t>(length));
  return {};
}

bool bytes_equal(Bytes a, Bytes b) {
  return std::ranges::equal(a, b);
}

bool operator==(const Raw& a, const Raw& b) {
  return bytes_equal(a.body, b.body);
}

// RFC 6396 section 2.
Status encode_raw(Type type, std::uint16_t subtype, const Timestamp& time, Bytes body,
                  wire::Writer& w) {
  const std::size_t start = begin_record(type, subtype, time, w);
  w.bytes(body);
  return finish_record(start, w);
}

bgp::ParseContext parse_context_for(const Record& record) {
  bgp::ParseContext ctx;
  ctx.extended_message = true;
  switch (record.header.type) {
    case Type::Bgp4mp:
    case Type::Bgp4mpEt: {
      const auto s = static_cast<Bgp4mpSubtype>(record.header.subtype);
      ctx.four_octet_as = is_as4(s);
      ctx.set_add_path_all(is_add_path(s));
      break;
    }
    case Type::TableDumpV2:
      // RFC 6396 section 4.3.4: RIB entries always use 4-octet AS_PATH; their ADD-PATH ids are
      // in the entry, not in the attributes.
      ctx.four_octet_as = true;
      break;
    case Type::TableDump: {
      const auto s = static_cast<TableDumpSubtype>(record.header.subtype);
      ctx.four_octet_as = s == TableDumpSubtype::AfiIpv4As4 || s == TableDumpSubtype::AfiIpv6As4;
      break;
    }
    case Type::Bgp:
    case Type::Bgp4Plus:
    case Type::Bgp4Plus01:
      // These predate RFC 6793 (4-octet AS numbers).
      ctx.four_octet_as = false;
      break;
    default:
      break;
  }
  return ctx;
}

bool mp_reach_abbreviated(const Record& record) {
  return record.header.type == Type::TableDumpV2 &&
         is_rib(static_cast<TableDumpV2Subtype>(record.header.subtype));
}

}  // namespace bgpscribe::codec::mrt
