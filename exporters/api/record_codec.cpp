#include "exporters/api/record_codec.hpp"

#include <algorithm>
#include <iterator>
#include <memory>

#include "codec/wire/reader.hpp"

namespace bgpscribe::exporters {

namespace bgp = codec::bgp;

namespace {

void put_ip(codec::wire::Writer& w, const bgp::IpAddress& a) {
  w.u8(static_cast<std::uint8_t>(a.family));
  w.bytes(a.bytes);
}

void put_string(codec::wire::Writer& w, std::span<const std::uint8_t> s) {
  w.u32(static_cast<std::uint32_t>(s.size()));
  w.bytes(s);
}

struct Decoder {
  codec::wire::Reader r;
  bool ok = true;
  std::uint64_t u(int bytes) {
    if (!ok) {
      return 0;
    }
    switch (bytes) {
      case 1:
        if (auto v = r.u8()) {
          return *v;
        }
        break;
      case 2:
        if (auto v = r.u16()) {
          return *v;
        }
        break;
      case 4:
        if (auto v = r.u32()) {
          return *v;
        }
        break;
      default:
        if (auto v = r.u64()) {
          return *v;
        }
        break;
    }
    ok = false;
    return 0;
  }
  std::span<const std::uint8_t> bytes() {
    const auto n = u(4);
    if (!ok) {
      return {};
    }
    if (auto b = r.bytes(n)) {
      return *b;
    }
    ok = false;
    return {};
  }
  bgp::IpAddress ip() {
    bgp::IpAddress a;
    a.family = static_cast<bgp::Afi>(u(1));
    if (auto b = r.bytes(16); ok && b) {
      std::copy(b->begin(), b->end(), a.bytes.begin());
    } else {
      ok = false;
    }
    return a;
  }
};

}  // namespace

void encode_record(const Record& record, std::uint64_t snapshot_id, codec::wire::Writer& w) {
  w.u8(static_cast<std::uint8_t>(record.type));
  w.u64(static_cast<std::uint64_t>(record.time_us));
  std::uint8_t flags = 0;
  const auto& c = record.context;
  flags |= c.four_octet_as ? 0x01 : 0;
  flags |= c.extended_message ? 0x02 : 0;
  flags |= c.ibgp ? 0x04 : 0;
  flags |= c.ebgp ? 0x08 : 0;
  flags |= record.local_notification ? 0x10 : 0;
  flags |= c.first_as != 0 ? 0x20 : 0;
  w.u8(flags);
  std::uint8_t add_path = 0;
  for (std::size_t i = 0; i < std::size(kRecordFamilies); ++i) {
    add_path |= c.add_path(kRecordFamilies[i]) ? static_cast<std::uint8_t>(1U << i) : 0;
  }
  w.u8(add_path);
  if (c.first_as != 0) {
    w.u32(c.first_as);  // enforce-first-as: the decoder's decisions need it (flag 0x20)
  }
  w.u16(static_cast<std::uint16_t>(record.old_state));
  w.u16(static_cast<std::uint16_t>(record.new_state));
  // 1: a peer; 2: a peer with the BMP source fields after the session's.
  w.u8(!record.peer ? 0 : record.peer->from_bmp() ? 2 : 1);
  if (record.peer) {
    const auto& p = *record.peer;
    w.u32(p.id);
    put_string(w, codec::wire::text_bytes(p.name));
    put_ip(w, p.peer_address);
    put_ip(w, p.local_address);
    w.u16(p.peer_port);
    w.u16(p.local_port);
    w.u32(p.peer_as);
    w.u32(p.local_as);
    w.u32(p.peer_bgp_id);
    w.u32(p.local_bgp_id);
    if (p.from_bmp()) {
      put_string(w, codec::wire::text_bytes(p.router));
      put_ip(w, p.router_address);
      w.u8(p.bmp_peer_type);
      w.u64(p.distinguisher);
      w.u8(p.post_policy ? 1 : 0);
    }
  }
  put_string(w, codec::wire::text_bytes(record.reason));
  put_string(w, record.message.span());
  put_string(w, record.sent_open.span());
  w.u64(snapshot_id);
  w.u64(record.seq);  // absent in spools of bgpscribe before the journal: read as 0
  if (record.type == RecordType::PeerDown || record.type == RecordType::StaleEnd) {
    // Absent in PeerDowns of bgpscribe before graceful restarts were recorded: read as none.
    w.u8(record.stale_families);
    w.u64(static_cast<std::uint64_t>(record.stale_since_us));
  }
}

std::optional<Record> decode_record(std::span<const std::uint8_t> bytes,
                                    std::uint64_t& snapshot_id) {
  Decoder d{codec::wire::Reader(bytes)};
  Record r;
  const auto type = d.u(1);
  if (type > static_cast<std::uint8_t>(RecordType::StaleEnd)) {
    return std::nullopt;
  }
  r.type = static_cast<RecordType>(type);
  r.time_us = static_cast<std::int64_t>(d.u(8));
  const auto flags = d.u(1);
  if ((flags & ~std::uint64_t{0x3f}) != 0) {
    return std::nullopt;  // not a flag we write: damaged
  }
  r.context.four_octet_as = (flags & 0x01) != 0;
  r.context.extended_message = (flags & 0x02) != 0;
  r.context.ibgp = (flags & 0x04) != 0;
  r.context.ebgp = (flags & 0x08) != 0;
  r.local_notification = (flags & 0x10) != 0;
  const auto add_path = d.u(1);
  if ((add_path >> std::size(kRecordFamilies)) != 0) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < std::size(kRecordFamilies); ++i) {
    if ((add_path & (1U << i)) != 0) {
      r.context.set_add_path(kRecordFamilies[i], true);
    }
  }
  if ((flags & 0x20) != 0) {
    r.context.first_as = static_cast<std::uint32_t>(d.u(4));
    if (r.context.first_as == 0) {
      return std::nullopt;  // the flag says there is one: never written so, damaged
    }
  }
  r.old_state = static_cast<SessionState>(d.u(2));
  r.new_state = static_cast<SessionState>(d.u(2));
  const auto has_peer = d.u(1);
  if (has_peer > 2) {
    return std::nullopt;
  }
  if (has_peer != 0) {
    auto p = std::make_shared<PeerInfo>();
    p->id = static_cast<std::uint32_t>(d.u(4));
    auto name = d.bytes();
    p->name.assign(name.begin(), name.end());
    p->peer_address = d.ip();
    p->local_address = d.ip();
    p->peer_port = static_cast<std::uint16_t>(d.u(2));
    p->local_port = static_cast<std::uint16_t>(d.u(2));
    p->peer_as = static_cast<std::uint32_t>(d.u(4));
    p->local_as = static_cast<std::uint32_t>(d.u(4));
    p->peer_bgp_id = static_cast<std::uint32_t>(d.u(4));
    p->local_bgp_id = static_cast<std::uint32_t>(d.u(4));
    if (has_peer == 2) {
      auto router = d.bytes();
      p->router.assign(router.begin(), router.end());
      p->router_address = d.ip();
      p->bmp_peer_type = static_cast<std::uint8_t>(d.u(1));
      p->distinguisher = d.u(8);
      const auto post = d.u(1);
      if (p->router.empty() || post > 1) {
        return std::nullopt;  // never written so: damaged
      }
      p->post_policy = post == 1;
    }
    r.peer = std::move(p);
  }
  auto reason = d.bytes();
  r.reason.assign(reason.begin(), reason.end());
  r.message = SharedBytes(d.bytes());
  r.sent_open = SharedBytes(d.bytes());
  snapshot_id = d.u(8);
  if (d.ok && d.r.remaining() >= 8) {
    r.seq = d.u(8);
  }
  if (d.ok && d.r.remaining() == 9 &&
      (r.type == RecordType::PeerDown || r.type == RecordType::StaleEnd)) {
    r.stale_families = static_cast<std::uint8_t>(d.u(1));
    r.stale_since_us = static_cast<std::int64_t>(d.u(8));
  }
  if (!d.ok || !d.r.empty()) {
    return std::nullopt;
  }
  return r;
}

}  // namespace bgpscribe::exporters
