#include "exporters/postgres/batch.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <tuple>

#include "codec/bgp/message_types.hpp"
#include "codec/bgp/notification.hpp"
#include "codec/bgp/text.hpp"
#include "codec/mrt/table_dump.hpp"
#include "codec/wire/reader.hpp"
#include "codec/wire/writer.hpp"
#include "exporters/api/framed_file.hpp"
#include "exporters/postgres/rows.hpp"

namespace bgpscribe::exporters::postgres {

namespace bgp = codec::bgp;

namespace {

// Versions 6 and 7 (written): a framed file (exporters/api/framed_file.hpp, kind PGBT) of five
// entries: the head (fixed size, kHeadBytes), the sessions (peers, events, downs), then the
// attribute, log and RIB rows' COPY data, each with its own CRC-32C. The head carries the part
// split, so a version 2 batch rewritten keeps its XXH3 split. Layout: docs/formats.md. Version
// 7 adds each peer's BMP source (router, router address, peer type, distinguisher,
// post-policy) after its OPENs. A batch without a peer that a BMP router reports is written as
// version 6, byte for byte as before, so the bgpscribe before version 7 still reads it.
//
// Versions 1 to 5 (read): an 8-byte magic "BGPSPGB<digit>", the fields below, a CRC-32 (zlib)
// of everything before it. Version 2 added `parts`; version 1 files read as one part. Version 3
// splits the parts by PostgreSQL's partition hash instead of XXH3 (same layout): version 2 files
// keep their XXH3 split, so that a retry splits them as the first try did. Version 4 adds the
// journal number of the batch's last record (Batch::last_seq) after restart_us; version 3 files
// read with last_seq 0. Version 5: a session down says what a graceful restart keeps, and its
// end is a "down" too.
constexpr FramedKind kBatchKind{"PGBT", 7, 6};
constexpr std::size_t kHeadBytes = std::size_t{6} * 8 + 4 + 1 + std::size_t{3} * 8;
constexpr std::size_t kLastSeqInHead = std::size_t{5} * 8;
constexpr std::size_t kEntries = 5;  // head, sessions, attrs, updates, rib
static_assert(Batch::kHeaderBytes == kFramedHeaderBytes + kFramedEntryHeaderBytes + kHeadBytes);
constexpr std::array<std::uint8_t, 7> kLegacyMagic{'B', 'G', 'P', 'S', 'P', 'G', 'B'};
constexpr std::size_t kLegacyMagicBytes = 8;

// ---- File encoding: big-endian integers, u32-length-prefixed strings and byte strings ----

// Big-endian integers through the codec's Writer, plus u64-length-prefixed strings, byte
// strings and string lists.
class Out {
 public:
  explicit Out(std::size_t reserve) : w_(reserve) {}
  void u8(std::uint8_t v) { w_.u8(v); }
  void u32(std::uint32_t v) { w_.u32(v); }
  void u64(std::uint64_t v) { w_.u64(v); }
  void i64(std::int64_t v) { w_.u64(static_cast<std::uint64_t>(v)); }
  void bytes(std::span<const std::uint8_t> v) {
    w_.u64(v.size());
    w_.bytes(v);
  }
  void str(std::string_view s) { bytes(codec::wire::text_bytes(s)); }
  void strs(const std::vector<std::string>& v) {
    w_.u32(static_cast<std::uint32_t>(v.size()));
    for (const auto& s : v) {
      str(s);
    }
  }
  void address(const bgp::IpAddress& a) {
    w_.u8(a.is_v4() ? 4 : 6);
    w_.bytes(a.bytes);
  }
  void header(std::uint16_t version) {
    put_framed_header(w_, FramedKind{kBatchKind.tag, version, kBatchKind.oldest});
  }
  std::size_t begin_entry() { return begin_framed_entry(w_); }
  void end_entry(std::size_t at) { end_framed_entry(w_, at); }
  void entry(std::span<const std::uint8_t> payload) { put_framed_entry(w_, payload); }
  std::vector<std::uint8_t> take() { return w_.take(); }

 private:
  codec::wire::Writer w_;
};

class In {
 public:
  explicit In(std::span<const std::uint8_t> b) : b_(b) {}
  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] bool at_end() const { return pos_ == b_.size(); }
  std::uint8_t u8() { return need(1) ? b_[pos_++] : 0; }
  std::uint32_t u32() {
    if (!need(4)) {
      return 0;
    }
    pos_ += 4;
    return codec::wire::load_u32(b_, pos_ - 4);
  }
  std::uint64_t u64() {
    const std::uint64_t hi = u32();
    return (hi << 32) | u32();
  }
  std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
  std::vector<std::uint8_t> bytes() {
    const std::uint64_t n = u64();
    if (!need(n)) {
      return {};
    }
    std::vector<std::uint8_t> v(b_.begin() + static_cast<std::ptrdiff_t>(pos_),
                                b_.begin() + static_cast<std::ptrdiff_t>(pos_ + n));
    pos_ += n;
    return v;
  }
  std::string str() {
    const auto v = bytes();
    return {v.begin(), v.end()};
  }
  std::vector<std::string> strs() {
    std::vector<std::string> v;
    const std::uint32_t n = u32();
    for (std::uint32_t i = 0; i < n && ok_; ++i) {
      v.push_back(str());
    }
    return v;
  }
  // 0 or 1; anything else makes the file malformed (the writer only writes those).
  bool flag() {
    const std::uint8_t v = u8();
    if (v > 1) {
      ok_ = false;
    }
    return v == 1;
  }
  bgp::IpAddress address() {
    const std::uint8_t family = u8();
    bgp::IpAddress a;
    if (family != 4 && family != 6) {
      ok_ = false;
    }
    if (!need(16)) {
      return a;
    }
    a.family = family == 6 ? bgp::Afi::Ipv6 : bgp::Afi::Ipv4;
    std::memcpy(a.bytes.data(), b_.data() + pos_, 16);
    pos_ += 16;
    return a;
  }

 private:
  bool need(std::uint64_t n) {
    if (!ok_ || b_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    return true;
  }
  std::span<const std::uint8_t> b_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

std::uint32_t crc_of(std::span<const std::uint8_t> b) {
  return static_cast<std::uint32_t>(
      ::crc32(0L, b.data(), static_cast<uInt>(b.size())));  // batches stay far below 4 GiB
}

// The peers, events and session downs (the second entry from version 6; inline before).
// `stale`: the downs carry the graceful restart fields (version 5 on); `bmp`: the peers carry
// their BMP source (version 7 on).
void put_sessions(Out& o, const Batch& b, bool bmp) {
  o.u32(static_cast<std::uint32_t>(b.peers.size()));
  for (const auto& p : b.peers) {
    o.address(p.address);
    o.u32(p.asn);
    o.str(p.name);
    o.u32(p.bgp_id);
    o.address(p.local_address);
    o.u32(p.local_as);
    o.u32(p.local_bgp_id);
    o.i64(p.first_us);
    o.i64(p.last_us);
    o.u8(p.has_session ? 1 : 0);
    o.strs(p.capabilities_sent);
    o.strs(p.capabilities_received);
    o.bytes(p.open_sent);
    o.bytes(p.open_received);
    if (bmp) {
      o.str(p.router);
      o.address(p.router_address);
      o.u8(p.bmp_peer_type);
      o.u64(p.distinguisher);
      o.u8(p.post_policy ? 1 : 0);
    }
  }
  o.u32(static_cast<std::uint32_t>(b.events.size()));
  for (const auto& e : b.events) {
    o.i64(e.time_us);
    o.u32(e.peer);
    o.str(e.old_state);
    o.str(e.new_state);
    o.str(e.reason);
    o.u8(e.has_notification ? 1 : 0);
    o.u8(e.code);
    o.u8(e.subcode);
    o.str(e.notification_text);
    o.bytes(e.notification_data);
    o.str(e.sent_by);
  }
  o.u32(static_cast<std::uint32_t>(b.downs.size()));
  for (const auto& d : b.downs) {
    o.i64(d.time_us);
    o.u32(d.peer);
    o.u32(static_cast<std::uint32_t>(d.ord));
    o.u8(d.stale_end ? 1 : 0);
    o.u8(d.stale_afis);
    o.i64(d.stale_since_us);
  }
}

void get_sessions(In& in, Batch& b, bool stale, bool bmp) {
  const std::uint32_t peers = in.u32();
  for (std::uint32_t i = 0; i < peers && in.ok(); ++i) {
    BatchPeer p;
    p.address = in.address();
    p.asn = in.u32();
    p.name = in.str();
    p.bgp_id = in.u32();
    p.local_address = in.address();
    p.local_as = in.u32();
    p.local_bgp_id = in.u32();
    p.first_us = in.i64();
    p.last_us = in.i64();
    p.has_session = in.flag();
    p.capabilities_sent = in.strs();
    p.capabilities_received = in.strs();
    p.open_sent = in.bytes();
    p.open_received = in.bytes();
    if (bmp) {
      p.router = in.str();
      p.router_address = in.address();
      p.bmp_peer_type = in.u8();
      p.distinguisher = in.u64();
      p.post_policy = in.flag();
    }
    b.peers.push_back(std::move(p));
  }
  const std::uint32_t events = in.u32();
  for (std::uint32_t i = 0; i < events && in.ok(); ++i) {
    BatchEvent e;
    e.time_us = in.i64();
    e.peer = in.u32();
    e.old_state = in.str();
    e.new_state = in.str();
    e.reason = in.str();
    e.has_notification = in.flag();
    e.code = in.u8();
    e.subcode = in.u8();
    e.notification_text = in.str();
    e.notification_data = in.bytes();
    e.sent_by = in.str();
    b.events.push_back(std::move(e));
  }
  const std::uint32_t downs = in.u32();
  for (std::uint32_t i = 0; i < downs && in.ok(); ++i) {
    BatchDown d;
    d.time_us = in.i64();
    d.peer = in.u32();
    d.ord = static_cast<std::int32_t>(in.u32());
    if (stale) {
      d.stale_end = in.flag();
      d.stale_afis = in.u8();
      d.stale_since_us = in.i64();
    }
    b.downs.push_back(d);
  }
}

// What every version checks once the fields are read.
bool check(const Batch& b, std::string& error) {
  if (b.parts < 1 || b.parts > kMaxParts) {
    error = "batch in " + std::to_string(b.parts) + " parts (1 to " + std::to_string(kMaxParts) +
            " allowed)";
    return false;
  }
  for (std::size_t i = 0; i < b.peers.size(); ++i) {
    const BatchPeer& p = b.peers[i];
    // bgp.peers refuses such a row (peers_own_session_check): refused here, as damage.
    if (!p.from_bmp() && (!p.router_address.is_unspecified() || p.bmp_peer_type != 0 ||
                          p.distinguisher != 0 || p.post_policy)) {
      error = "peer " + std::to_string(i) + " has BMP fields but no router";
      return false;
    }
  }
  for (const auto& e : b.events) {
    if (e.peer >= b.peers.size()) {
      error =
          "event names peer " + std::to_string(e.peer) + " of " + std::to_string(b.peers.size());
      return false;
    }
  }
  for (const auto& d : b.downs) {
    if (d.peer >= b.peers.size()) {
      error = "session down names peer " + std::to_string(d.peer) + " of " +
              std::to_string(b.peers.size());
      return false;
    }
  }
  return true;
}

// The version of a file of versions 1 to 5 from its magic ("BGPSPGB1" to "BGPSPGB5"; the framed
// header of version 6 on begins "BGPSPGBT"), 0 for any other.
int legacy_version(std::span<const std::uint8_t> file) {
  if (file.size() < kLegacyMagicBytes ||
      !std::equal(kLegacyMagic.begin(), kLegacyMagic.end(), file.begin()) || file[7] < '1' ||
      file[7] > '5') {
    return 0;
  }
  return file[7] - '0';
}

// Versions 1 to 5.
std::optional<Batch> parse_legacy(std::span<const std::uint8_t> file, int version,
                                  std::string& error) {
  if (file.size() < kLegacyMagicBytes + 4) {
    error = "truncated batch file";
    return std::nullopt;
  }
  const auto body = file.first(file.size() - 4);
  In tail(file.last(4));
  if (crc_of(body) != tail.u32()) {
    error = "CRC-32 mismatch: the file is damaged";
    return std::nullopt;
  }
  In in(body.subspan(kLegacyMagicBytes));
  Batch b;
  b.sequence = in.u64();
  b.first_us = in.i64();
  b.last_us = in.i64();
  b.checkpoint_us = in.i64();
  b.restart_us = in.i64();
  b.last_seq = version >= 4 ? in.u64() : 0;
  b.parts = version >= 2 ? in.u32() : 1;
  b.split = version == 2 ? PartSplit::Xxh3 : PartSplit::PartitionHash;
  b.update_rows = in.u64();
  b.rib_rows = in.u64();
  b.attr_rows = in.u64();
  get_sessions(in, b, version >= 5, false);
  b.attrs = in.bytes();
  b.updates = in.bytes();
  b.rib = in.bytes();
  if (!in.ok() || !in.at_end()) {
    error = "truncated or malformed batch body";
    return std::nullopt;
  }
  if (!check(b, error)) {
    return std::nullopt;
  }
  return b;
}

}  // namespace

std::vector<std::uint8_t> Batch::serialize() const {
  // The COPY data is nearly all of it: one allocation instead of doublings of tens of MB.
  Out o(attrs.size() + updates.size() + rib.size() + 4096);
  const bool bmp =
      std::any_of(peers.begin(), peers.end(), [](const BatchPeer& p) { return p.from_bmp(); });
  o.header(bmp ? kBatchKind.version : kBatchKind.oldest);
  auto at = o.begin_entry();
  o.u64(sequence);
  o.i64(first_us);
  o.i64(last_us);
  o.i64(checkpoint_us);
  o.i64(restart_us);
  o.u64(last_seq);
  o.u32(parts);
  o.u8(split == PartSplit::Xxh3 ? 1 : 0);
  o.u64(update_rows);
  o.u64(rib_rows);
  o.u64(attr_rows);
  o.end_entry(at);
  at = o.begin_entry();
  put_sessions(o, *this, bmp);
  o.end_entry(at);
  o.entry(attrs);
  o.entry(updates);
  o.entry(rib);
  return o.take();
}

std::uint64_t Batch::last_seq_of(std::span<const std::uint8_t> header) {
  if (legacy_version(header) == 0) {
    FramedReader reader(header, kBatchKind);
    const auto head = reader.next();
    if (!head || head->payload.size() != kHeadBytes) {
      return 0;
    }
    In in(head->payload.subspan(kLastSeqInHead));
    return in.u64();
  }
  // Versions 4 and 5: after the magic, the sequence and four times.
  constexpr std::size_t kAt = kLegacyMagicBytes + std::size_t{5} * 8;
  if (header.size() < kAt + 8 || legacy_version(header) < 4) {
    return 0;
  }
  return (std::uint64_t{codec::wire::load_u32(header, kAt)} << 32) |
         codec::wire::load_u32(header, kAt + 4);
}

std::optional<Batch> Batch::parse(std::span<const std::uint8_t> file, std::string& error) {
  if (const int version = legacy_version(file); version != 0) {
    return parse_legacy(file, version, error);
  }
  FramedReader reader(file, kBatchKind);
  if (!reader.ok()) {
    error = reader.error();
    return std::nullopt;
  }
  std::array<std::span<const std::uint8_t>, kEntries> entries;
  std::size_t n = 0;
  while (auto e = reader.next()) {
    if (n == kEntries) {
      error = "more than " + std::to_string(kEntries) + " entries";
      return std::nullopt;
    }
    entries[n++] = e->payload;
  }
  // Written whole and renamed into place: anything but five whole entries is damage.
  if (const auto problems = reader.problems("batch"); !problems.empty()) {
    error = problems.front();
    return std::nullopt;
  }
  if (reader.end() != FramedEnd::Clean || n != kEntries) {
    error = "truncated batch file (" + std::to_string(n) + " of " + std::to_string(kEntries) +
            " entries)";
    return std::nullopt;
  }
  Batch b;
  In head(entries[0]);
  b.sequence = head.u64();
  b.first_us = head.i64();
  b.last_us = head.i64();
  b.checkpoint_us = head.i64();
  b.restart_us = head.i64();
  b.last_seq = head.u64();
  b.parts = head.u32();
  const bool xxh3 = head.flag();
  b.split = xxh3 ? PartSplit::Xxh3 : PartSplit::PartitionHash;
  b.update_rows = head.u64();
  b.rib_rows = head.u64();
  b.attr_rows = head.u64();
  if (!head.ok() || !head.at_end()) {
    error = "malformed batch head (" + std::to_string(entries[0].size()) + " bytes)";
    return std::nullopt;
  }
  In sessions(entries[1]);
  get_sessions(sessions, b, true, reader.version() >= 7);
  if (!sessions.ok() || !sessions.at_end()) {
    error = "malformed peers, events or session downs";
    return std::nullopt;
  }
  b.attrs.assign(entries[2].begin(), entries[2].end());
  b.updates.assign(entries[3].begin(), entries[3].end());
  b.rib.assign(entries[4].begin(), entries[4].end());
  if (!check(b, error)) {
    return std::nullopt;
  }
  return b;
}

// ---- BatchBuilder -------------------------------------------------------------------------------

namespace {

// The address families of Record::stale_families: the archive keys routes by prefix alone, so
// a family's SAFIs (unicast, multicast) go together.
std::uint8_t stale_afis(std::uint8_t families) {
  std::uint8_t afis = 0;
  for (std::size_t i = 0; i < std::size(exporters::kRecordFamilies); ++i) {
    if ((families & (1U << i)) != 0) {
      afis |= exporters::kRecordFamilies[i].afi == bgp::Afi::Ipv6 ? kStaleIpv6 : kStaleIpv4;
    }
  }
  return afis;
}

}  // namespace

BatchBuilder::BatchBuilder(std::size_t known_attr_limit) : known_attr_limit_(known_attr_limit) {}

bool BatchBuilder::empty() const {
  return update_rows_.rows() == 0 && events_.empty() && downs_.empty() && checkpoint_us_ == 0 &&
         restart_us_ == 0 && peers_.empty();
}

std::uint32_t BatchBuilder::peer_index(const Record& r) {
  const PeerInfo* info = r.peer.get();
  if (auto it = peer_of_.find(info); it != peer_of_.end()) {
    peers_[it->second].last_us = r.time_us;
    return it->second;
  }
  // A peer is what bgp.peers keys on, (source, address, AS), not a PeerInfo object: records
  // read back from the collector's disk spool each carry a PeerInfo of their own, and a batch
  // that made a peer of each held one RIB row per copy for one key (the upsert then failed for
  // good). The source keeps the peers that BMP routers report apart: two routers reporting one
  // neighbour, or its pre- and post-policy routes, are two peers (PeerInfo::id differs too).
  PeerKey key;
  if (info->from_bmp()) {
    key.router = info->router;
    key.bmp_peer_type = info->bmp_peer_type;
    key.distinguisher = info->distinguisher;
    key.post_policy = info->post_policy;
  }
  key.address = info->peer_address;
  key.asn = info->peer_as;
  auto [by_key, added] =
      peer_by_key_.try_emplace(std::move(key), static_cast<std::uint32_t>(peers_.size()));
  if (added) {
    BatchPeer p;
    p.address = info->peer_address;
    p.asn = info->peer_as;
    p.router = by_key->first.router;
    p.bmp_peer_type = by_key->first.bmp_peer_type;
    p.distinguisher = by_key->first.distinguisher;
    p.post_policy = by_key->first.post_policy;
    p.first_us = r.time_us;
    peers_.push_back(std::move(p));
  }
  // The newest PeerInfo of a peer knows the most (its BGP identifier and local address come
  // with the OPEN and the connection).
  BatchPeer& p = peers_[by_key->second];
  p.name = info->name;
  if (info->peer_bgp_id != 0) {
    p.bgp_id = info->peer_bgp_id;
  }
  if (!info->local_address.is_unspecified()) {
    p.local_address = info->local_address;
  }
  if (info->local_as != 0) {
    p.local_as = info->local_as;
  }
  if (info->local_bgp_id != 0) {
    p.local_bgp_id = info->local_bgp_id;
  }
  if (info->from_bmp() && !info->router_address.is_unspecified()) {
    p.router_address = info->router_address;
  }
  p.last_us = r.time_us;
  peer_of_.emplace(info, by_key->second);
  peer_infos_.push_back(r.peer);  // keeps the pointer key alive and unique
  return by_key->second;
}

std::int32_t BatchBuilder::next_ord(std::uint32_t collector_peer_id, std::int64_t time_us) {
  PeerOrder& o = order_[collector_peer_id];
  if (o.last_us == time_us) {
    ++o.ord;
  } else {
    o.last_us = time_us;
    o.ord = 0;
  }
  return o.ord;
}

bool BatchBuilder::add(const Record& r) {
  last_seq_ = std::max(last_seq_, r.seq);
  if (r.type == RecordType::Start) {
    // The collector started: every session of its earlier runs is over (after whatever the
    // journal gave again), sealed at once.
    restart(r.time_us);
    return true;
  }
  if (r.type == RecordType::RibSnapshot) {
    checkpoint_us_ = r.time_us;
    if (first_us_ == 0) {
      first_us_ = r.time_us;
    }
    last_us_ = std::max(last_us_, r.time_us);
    return true;
  }
  if (!r.peer) {
    return false;
  }
  if (first_us_ == 0) {
    first_us_ = r.time_us;
  }
  last_us_ = std::max(last_us_, r.time_us);
  const std::uint32_t peer = peer_index(r);
  switch (r.type) {
    case RecordType::Message:
      on_message(r, peer);
      return false;
    case RecordType::StateChange: {
      BatchEvent e;
      e.time_us = r.time_us;
      e.peer = peer;
      e.old_state = to_string(r.old_state);
      e.new_state = to_string(r.new_state);
      e.reason = r.reason;
      if (r.old_state == SessionState::Established) {
        pending_down_[peer] = std::move(e);  // completed by the PeerDown record that follows
      } else {
        events_.push_back(std::move(e));
      }
      return false;
    }
    case RecordType::PeerUp: {
      BatchPeer& p = peers_[peer];
      p.has_session = true;
      p.open_received.assign(r.message.span().begin(), r.message.span().end());
      p.open_sent.assign(r.sent_open.span().begin(), r.sent_open.span().end());
      p.capabilities_received = capability_strings(r.message.span());
      p.capabilities_sent = capability_strings(r.sent_open.span());
      return false;
    }
    case RecordType::PeerDown: {
      BatchEvent e;
      if (auto it = pending_down_.find(peer); it != pending_down_.end()) {
        e = std::move(it->second);
        pending_down_.erase(it);
      } else {
        e.time_us = r.time_us;
        e.peer = peer;
        e.old_state = to_string(SessionState::Established);
        e.new_state = to_string(SessionState::Idle);
        e.reason = r.reason;
      }
      if (!r.message.empty()) {
        if (auto n = bgp::parse_notification(r.message.span())) {
          e.has_notification = true;
          e.code = n->code;
          e.subcode = n->subcode;
          e.notification_data = n->data;
          e.notification_text = bgp::notification_text(n->code, n->subcode);
          e.sent_by = r.local_notification ? "local" : "peer";
        }
      }
      events_.push_back(std::move(e));
      BatchDown d{r.time_us, peer, next_ord(r.peer->id, r.time_us)};
      d.stale_afis = stale_afis(r.stale_families);
      downs_.push_back(d);
      return true;
    }
    case RecordType::StaleEnd: {
      // No seal: rows after it in the batch are the new session's, announced after
      // stale_since_us, and stay.
      BatchDown d{r.time_us, peer, next_ord(r.peer->id, r.time_us)};
      d.stale_end = true;
      d.stale_afis = stale_afis(r.stale_families);
      d.stale_since_us = r.stale_since_us;
      if (d.stale_afis != 0) {
        downs_.push_back(d);
      }
      return false;
    }
    case RecordType::RibSnapshot:
    case RecordType::Start:
      break;  // handled above
  }
  return false;
}

BatchBuilder::PrefixKey BatchBuilder::PrefixKey::of(const bgp::Prefix& p) {
  const auto& b = p.address.bytes;
  PrefixKey k;
  k.high = p.address.is_v4() ? 4 : 6;
  for (std::size_t i = 0; i < 7; ++i) {
    k.high = (k.high << 8) | b[i];
  }
  for (std::size_t i = 7; i < 15; ++i) {
    k.low = (k.low << 8) | b[i];
  }
  k.tail = (static_cast<std::uint32_t>(b[15]) << 8) | p.length;
  return k;
}

void BatchBuilder::route(std::uint32_t peer, const bgp::Nlri& n, std::int64_t time_us,
                         std::int32_t ord, std::optional<std::int64_t> attr_id) {
  const bgp::Prefix prefix = n.prefix();
  RowRef ref;
  ref.key = PrefixKey::of(prefix);
  ref.offset = static_cast<std::uint32_t>(update_rows_.size());
  update_rows_.row(6);
  update_rows_.timestamptz(time_us);
  update_rows_.int4(static_cast<std::int32_t>(peer));  // batch-local until the writer maps it
  update_rows_.int4(ord);
  update_rows_.cidr(prefix);
  update_rows_.int8(n.path_id);
  if (attr_id) {
    update_rows_.int8(*attr_id);
    ++stats_.announced;
  } else {
    update_rows_.null();
    ++stats_.withdrawn;
  }
  ref.size = static_cast<std::uint32_t>(update_rows_.size() - ref.offset);
  row_refs_.push_back(ref);
  auto [it, added] = rib_.try_emplace(RibKey{peer, n.path_id, prefix});
  RibState& s = it->second;
  if (attr_id) {
    // `since` changes with the attributes; once they changed inside this batch, the database's
    // `since` for the same attributes (from before the change) no longer applies.
    const bool changed_here = !added && (!s.announced || s.attr_id != *attr_id);
    if (added || changed_here) {
      s.since = time_us;
    }
    s.fresh = s.fresh || changed_here;
    s.announced = true;
    s.attr_id = *attr_id;
    s.updated = time_us;
  } else {
    s.announced = false;
    s.fresh = true;
  }
}

void BatchBuilder::on_message(const Record& r, std::uint32_t peer) {
  const auto bytes = r.message.span();
  if (bytes.size() < 19 || bytes[18] != static_cast<std::uint8_t>(bgp::MessageType::Update)) {
    return;  // OPEN, KEEPALIVE, NOTIFICATION, ROUTE-REFRESH: the MRT archive keeps those
  }
  ++stats_.messages;
  if (!bgp::parse_update_into(bytes, r.context, update_)) {
    ++stats_.unparsable;  // the session was reset for it (RFC 7606 section 4); MRT has it
    return;
  }
  const std::int32_t ord = next_ord(r.peer->id, r.time_us);
  const auto& attrs = update_.attributes;
  for (const auto& n : update_.withdrawn) {
    route(peer, n, r.time_us, ord, std::nullopt);
  }
  if (attrs.has(bgp::AttributeType::MpUnreachNlri) && attrs.mp_unreach.withdrawn.decoded()) {
    for (const auto& n : attrs.mp_unreach.withdrawn) {
      route(peer, n, r.time_us, ord, std::nullopt);
    }
  }
  if (!update_.has_announcements()) {
    return;
  }
  const bool mp = attrs.has(bgp::AttributeType::MpReachNlri) && attrs.mp_reach.nlri.decoded();
  if (update_.reaction() >= codec::Reaction::TreatAsWithdraw) {
    // RFC 7606 section 2: the routes of a malformed UPDATE are withdrawn, as the collector's
    // Adj-RIB-In does.
    ++stats_.treat_as_withdraw;
    for (const auto& n : update_.nlri) {
      route(peer, n, r.time_us, ord, std::nullopt);
    }
    if (mp) {
      for (const auto& n : attrs.mp_reach.nlri) {
        route(peer, n, r.time_us, ord, std::nullopt);
      }
    }
    return;
  }
  canonical_.clear();
  codec::mrt::rib_entry_attributes(attrs, r.context, canonical_);
  const std::int64_t id = attr_id_of(canonical_);
  if (known_attrs_.insert(id).second) {
    write_attr_row(attr_rows_, id, attrs, r.context, canonical_, r.time_us);
    ++stats_.attr_sets;
    if (known_attrs_.size() > known_attr_limit_) {
      known_attrs_.clear();
    }
  }
  for (const auto& n : update_.nlri) {
    route(peer, n, r.time_us, ord, id);
  }
  if (mp) {
    for (const auto& n : attrs.mp_reach.nlri) {
      route(peer, n, r.time_us, ord, id);
    }
  }
}

// Rows fetched ahead of the one being copied when walking rows in sort order (seal).
constexpr std::size_t kPrefetchAhead = 8;

Batch BatchBuilder::seal(std::uint64_t sequence) {
  // A dynamic peer's first transitions come before its OPEN told its AS (asn 0): when the
  // batch also holds the same address of the same source with its AS, those transitions
  // belong to that peer.
  for (auto& p : peers_) {
    if (p.asn != 0) {
      continue;
    }
    for (const auto& q : peers_) {
      if (q.asn != 0 && q.address == p.address && q.same_source(p)) {
        p.asn = q.asn;
        p.bgp_id = q.bgp_id;
        p.name = q.name;
        p.local_address = q.local_address;
        p.local_as = q.local_as;
        p.local_bgp_id = q.local_bgp_id;
        p.router_address = q.router_address;
        break;
      }
    }
  }
  Batch b;
  b.sequence = sequence;
  b.first_us = first_us_;
  b.last_us = last_us_;
  b.checkpoint_us = checkpoint_us_;
  b.restart_us = restart_us_;
  b.last_seq = last_seq_;
  if (b.first_us == 0) {
    b.first_us = b.last_us = restart_us_;
  }
  b.peers = std::move(peers_);
  b.events = std::move(events_);
  b.downs = std::move(downs_);
  b.attr_rows = attr_rows_.rows();
  b.update_rows = update_rows_.rows();
  const auto attrs = attr_rows_.finish();
  b.attrs.assign(attrs.begin(), attrs.end());
  // The log rows in prefix order (stable: one prefix's rows keep their order): the server's
  // btree inserts into the (prefix, time) index then walk neighbouring pages instead of random
  // ones, which halves its COPY time. Row order carries no meaning (time and ord do).
  const auto updates = update_rows_.finish();
  const std::uint32_t header_end = row_refs_.empty() ? 0 : row_refs_.front().offset;
  std::stable_sort(row_refs_.begin(), row_refs_.end(),
                   [](const RowRef& x, const RowRef& y) { return x.key < y.key; });
  if (!row_refs_.empty()) {
    // The same bytes in another order: the header, every row once, the trailer.
    b.updates = std::vector<std::uint8_t>(updates.size());
    std::span<std::uint8_t> out(b.updates);
    std::memcpy(out.data(), updates.data(), header_end);
    out = out.subspan(header_end);
    for (std::size_t i = 0; i < row_refs_.size(); ++i) {
      // The rows are read in prefix order, i.e. from all over the buffer: fetching a few rows
      // ahead hides the cache misses that otherwise are most of this loop's time.
      if (i + kPrefetchAhead < row_refs_.size()) {
        __builtin_prefetch(&updates[row_refs_[i + kPrefetchAhead].offset]);
      }
      const RowRef& r = row_refs_[i];
      std::memcpy(out.data(), &updates[r.offset], r.size);
      out = out.subspan(r.size);
    }
    std::memcpy(out.data(), updates.last(2).data(), 2);  // trailer
  }
  // The RIB rows in key order, for the same reason (the primary key leads with the prefix).
  struct RibRow {
    PrefixKey prefix;
    std::uint64_t peer_path;  // peer, path id
    const RibKey* key;
    const RibState* state;
  };
  std::vector<RibRow> rib_rows;
  rib_rows.reserve(rib_.size());
  for (const auto& [key, state] : rib_) {
    rib_rows.push_back({PrefixKey::of(key.prefix),
                        (static_cast<std::uint64_t>(key.peer) << 32) | key.path_id, &key, &state});
  }
  std::sort(rib_rows.begin(), rib_rows.end(), [](const RibRow& x, const RibRow& y) {
    return std::tie(x.prefix, x.peer_path) < std::tie(y.prefix, y.peer_path);
  });
  CopyWriter& rib = rib_rows_;  // kept, with its room, from batch to batch
  for (std::size_t i = 0; i < rib_rows.size(); ++i) {
    if (i + kPrefetchAhead < rib_rows.size()) {  // map slots in prefix order: as above
      __builtin_prefetch(rib_rows[i + kPrefetchAhead].key);
      __builtin_prefetch(rib_rows[i + kPrefetchAhead].state);
    }
    const RibKey& key = *rib_rows[i].key;
    const RibState& s = *rib_rows[i].state;
    rib.row(7);
    rib.int4(static_cast<std::int32_t>(key.peer));
    rib.cidr(key.prefix);
    rib.int8(key.path_id);
    if (s.announced) {
      rib.int8(s.attr_id);
      rib.timestamptz(s.since);
      rib.timestamptz(s.updated);
    } else {
      rib.null();
      rib.null();
      rib.null();
    }
    rib.boolean(s.fresh);
  }
  b.rib_rows = rib.rows();
  const auto rib_bytes = rib.finish();
  b.rib.assign(rib_bytes.begin(), rib_bytes.end());

  peers_.clear();
  peer_infos_.clear();
  peer_of_.clear();
  peer_by_key_.clear();
  events_.clear();
  downs_.clear();
  // clear() frees a large table; the next batch of a table load is as large again, so the
  // room is taken at once instead of by doublings (each a rehash of every entry).
  const std::size_t rib_size = rib_.size();
  rib_.clear();
  rib_.reserve(rib_size);
  attr_rows_.clear();
  update_rows_.clear();
  rib_rows_.clear();
  row_refs_.clear();
  first_us_ = 0;
  last_us_ = 0;
  checkpoint_us_ = 0;
  restart_us_ = 0;
  return b;
}

}  // namespace bgpscribe::exporters::postgres
