#include "collector/core/spool.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <unordered_map>

#include "codec/bgp/afi_safi.hpp"
#include "codec/wire/reader.hpp"
#include "codec/wire/writer.hpp"
#include "exporters/api/log.hpp"

namespace bgpscribe::collector {

namespace fs = std::filesystem;
namespace bgp = codec::bgp;
using exporters::Record;

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

void Spool::encode_body(const Record& record, std::uint64_t snapshot_id, codec::wire::Writer& w) {
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
  for (std::size_t i = 0; i < std::size(exporters::kRecordFamilies); ++i) {
    add_path |= c.add_path(exporters::kRecordFamilies[i]) ? static_cast<std::uint8_t>(1U << i) : 0;
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
  if (record.type == exporters::RecordType::PeerDown ||
      record.type == exporters::RecordType::StaleEnd) {
    // Absent in PeerDowns of bgpscribe before graceful restarts were recorded: read as none.
    w.u8(record.stale_families);
    w.u64(static_cast<std::uint64_t>(record.stale_since_us));
  }
}

std::optional<Record> Spool::decode(std::span<const std::uint8_t> bytes,
                                    std::uint64_t& snapshot_id) {
  Decoder d{codec::wire::Reader(bytes)};
  Record r;
  const auto type = d.u(1);
  if (type > static_cast<std::uint8_t>(exporters::RecordType::StaleEnd)) {
    return std::nullopt;
  }
  r.type = static_cast<exporters::RecordType>(type);
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
  if ((add_path >> std::size(exporters::kRecordFamilies)) != 0) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < std::size(exporters::kRecordFamilies); ++i) {
    if ((add_path & (1U << i)) != 0) {
      r.context.set_add_path(exporters::kRecordFamilies[i], true);
    }
  }
  if ((flags & 0x20) != 0) {
    r.context.first_as = static_cast<std::uint32_t>(d.u(4));
    if (r.context.first_as == 0) {
      return std::nullopt;  // the flag says there is one: never written so, damaged
    }
  }
  r.old_state = static_cast<exporters::SessionState>(d.u(2));
  r.new_state = static_cast<exporters::SessionState>(d.u(2));
  const auto has_peer = d.u(1);
  if (has_peer > 2) {
    return std::nullopt;
  }
  if (has_peer != 0) {
    auto p = std::make_shared<exporters::PeerInfo>();
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
  r.message = exporters::SharedBytes(d.bytes());
  r.sent_open = exporters::SharedBytes(d.bytes());
  snapshot_id = d.u(8);
  if (d.ok && d.r.remaining() >= 8) {
    r.seq = d.u(8);
  }
  if (d.ok && d.r.remaining() == 9 &&
      (r.type == exporters::RecordType::PeerDown || r.type == exporters::RecordType::StaleEnd)) {
    r.stale_families = static_cast<std::uint8_t>(d.u(1));
    r.stale_since_us = static_cast<std::int64_t>(d.u(8));
  }
  if (!d.ok || !d.r.empty()) {
    return std::nullopt;
  }
  return r;
}

Spool::Spool(std::string directory, std::uint64_t max_bytes, std::uint64_t segment_bytes)
    : directory_(std::move(directory)), max_bytes_(max_bytes), segment_bytes_(segment_bytes) {
  std::error_code ec;
  fs::create_directories(directory_, ec);
  if (ec) {
    throw std::runtime_error("cannot create spool directory " + directory_ + ": " + ec.message());
  }
  // Segments of an earlier run, oldest first (names are zero-padded sequence numbers).
  std::vector<std::pair<std::uint64_t, std::string>> found;
  for (const auto& e : fs::directory_iterator(directory_)) {
    const auto name = e.path().filename().string();
    if (e.is_regular_file() && name.ends_with(".spool")) {
      try {
        found.emplace_back(std::stoull(name), e.path().string());
      } catch (const std::exception&) {
        continue;  // not ours
      }
    }
  }
  std::sort(found.begin(), found.end());
  for (const auto& [n, path] : found) {
    const auto size = fs::file_size(path, ec);
    sealed_.emplace_back(path, ec ? 0 : size);
    total_bytes_ += ec ? 0 : size;
    next_segment_ = n + 1;
  }
}

Spool::~Spool() {
  std::lock_guard lock(mutex_);
  close_segment();
}

bool Spool::open_segment() {
  char name[32];
  std::snprintf(name, sizeof name, "%016llu.spool",
                static_cast<unsigned long long>(next_segment_++));
  current_path_ = (fs::path(directory_) / name).string();
  std::string error;
  current_ = exporters::FramedFileWriter::create(current_path_, kSegmentKind, error);
  if (!current_) {
    return false;  // the worker counts and reports the records lost
  }
  total_bytes_ += current_->bytes();
  return true;
}

void Spool::close_segment() {
  if (!current_) {
    return;
  }
  const auto bytes = current_->bytes();
  const bool has_records = current_->entries() > 0;
  current_->close();
  current_.reset();
  if (has_records) {
    sealed_.emplace_back(current_path_, bytes);
  } else {
    total_bytes_ -= std::min(total_bytes_, bytes);
    std::remove(current_path_.c_str());
  }
}

bool Spool::append(const Record& record) {
  std::lock_guard lock(mutex_);
  std::uint64_t snapshot_id = 0;
  if (record.type == exporters::RecordType::RibSnapshot && record.snapshot) {
    snapshot_id = next_snapshot_++;
  }
  buffer_.clear();
  encode_body(record, snapshot_id, buffer_);
  const bool rotate = current_ && current_->bytes() >= segment_bytes_;
  const std::uint64_t needed = exporters::kFramedEntryHeaderBytes + buffer_.size() +
                               (!current_ || rotate ? exporters::kFramedHeaderBytes : 0);
  if (total_bytes_ + needed > max_bytes_) {
    return false;
  }
  if (rotate) {
    close_segment();
  }
  if (!current_ && !open_segment()) {
    return false;
  }
  const auto before = current_->bytes();
  const bool ok = current_->append(buffer_.bytes());
  // A failed write loses what was buffered with it: the size goes down then.
  total_bytes_ = total_bytes_ - std::min(total_bytes_, before) + current_->bytes();
  if (!ok) {
    return false;
  }
  if (snapshot_id != 0) {
    snapshots_.emplace(snapshot_id, record.snapshot);
  }
  return true;
}

std::optional<std::string> Spool::take_segment() {
  std::lock_guard lock(mutex_);
  if (sealed_.empty() && current_ && current_->entries() > 0) {
    close_segment();
  }
  if (sealed_.empty()) {
    return std::nullopt;
  }
  auto [path, size] = sealed_.front();
  sealed_.pop_front();
  total_bytes_ -= std::min(total_bytes_, size);
  return path;
}

namespace {

// Version 1 segments (before the framing): u32 length, record; no header, no CRC.
Spool::SegmentReport read_version_1(std::span<const std::uint8_t> data, std::string_view name,
                                    const std::function<void(Record&&, std::uint64_t)>& f) {
  Spool::SegmentReport report;
  report.version = 1;
  std::size_t pos = 0;
  while (data.size() - pos >= 4) {
    const std::uint32_t n = codec::wire::load_u32(data, pos);
    if (data.size() - pos - 4 < n) {
      ++report.bad;
      report.problems.push_back(std::string(name) + ": record at offset " + std::to_string(pos) +
                                " is cut short (a torn tail)");
      break;
    }
    std::uint64_t snapshot_id = 0;
    auto r = Spool::decode(data.subspan(pos + 4, n), snapshot_id);
    if (!r) {
      ++report.bad;
      report.problems.push_back(std::string(name) + ": record at offset " + std::to_string(pos) +
                                " does not decode");
    } else {
      ++report.records;
      f(std::move(*r), snapshot_id);
    }
    pos += 4 + n;
  }
  return report;
}

}  // namespace

Spool::SegmentReport Spool::read_records(std::span<const std::uint8_t> segment,
                                         std::string_view name,
                                         const std::function<void(Record&&, std::uint64_t)>& f) {
  // A version 1 segment begins with its first record's length, never "BGPS" (0x42475053: no
  // record is a gigabyte long).
  if (!exporters::starts_framed(segment)) {
    return read_version_1(segment, name, f);
  }
  SegmentReport report;
  exporters::FramedReader reader(segment, kSegmentKind);
  report.version = reader.version();
  if (!reader.ok()) {
    report.refused = true;
    report.bad = 1;
    report.problems.push_back(std::string(name) + ": " + reader.error());
    return report;
  }
  while (auto entry = reader.next()) {
    std::uint64_t snapshot_id = 0;
    auto r = decode(entry->payload, snapshot_id);
    if (!r) {
      // Its CRC checks: written so, by a bgpscribe whose records this one cannot read.
      ++report.bad;
      report.problems.push_back(std::string(name) + ": entry at offset " +
                                std::to_string(entry->offset) + " is not a record");
      continue;
    }
    ++report.records;
    f(std::move(*r), snapshot_id);
  }
  auto problems = reader.problems(name);
  report.problems.insert(report.problems.end(), std::make_move_iterator(problems.begin()),
                         std::make_move_iterator(problems.end()));
  report.bad += reader.damage().size();
  switch (reader.end()) {
    case exporters::FramedEnd::Clean:
      break;
    case exporters::FramedEnd::Zeros:
      // Written sequentially, never preallocated: zeros are a size the filesystem extended
      // before a crash kept the data from it.
      ++report.bad;
      report.problems.push_back(std::string(name) + ": zeros from offset " +
                                std::to_string(reader.end_offset()) + " to the end (a torn tail)");
      break;
    case exporters::FramedEnd::Torn:
    case exporters::FramedEnd::Unreadable:
      ++report.bad;
      break;
  }
  return report;
}

std::size_t Spool::read_segment(const std::string& path, std::vector<Record>& out) {
  std::vector<std::uint8_t> data;
  {
    std::ifstream in(path, std::ios::binary);
    data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  // Records read back share one PeerInfo per peer, as the live ones did: one allocation per
  // peer instead of per record, and exporters that key on the object see one peer.
  std::unordered_map<std::uint32_t, exporters::PeerInfoPtr> peers;
  const auto report = read_records(data, path, [&](Record&& r, std::uint64_t snapshot_id) {
    if (r.type == exporters::RecordType::RibSnapshot) {
      std::lock_guard lock(mutex_);
      auto it = snapshots_.find(snapshot_id);
      if (it == snapshots_.end()) {
        return;  // from an earlier run: the tables it viewed are gone
      }
      r.snapshot = std::move(it->second);
      snapshots_.erase(it);
    }
    if (r.peer) {
      auto& known = peers[r.peer->id];
      if (known && *known == *r.peer) {
        r.peer = known;
      } else {
        known = r.peer;
      }
    }
    out.push_back(std::move(r));
  });
  // A few lines say where; the worker logs the count.
  constexpr std::size_t kLines = 5;
  for (std::size_t i = 0; i < report.problems.size() && i < kLines; ++i) {
    exporters::log(exporters::LogLevel::Warning, "spool", report.problems[i]);
  }
  if (report.problems.size() > kLines) {
    exporters::logf(exporters::LogLevel::Warning, "spool", "%s: %zu more problems", path.c_str(),
                    report.problems.size() - kLines);
  }
  if (report.refused) {
    exporters::logf(exporters::LogLevel::Error, "spool",
                    "%s left in place, unread: a bgpscribe that reads it delivers it at its start",
                    path.c_str());
    return report.bad;
  }
  std::remove(path.c_str());
  return report.bad;
}

bool Spool::empty() const {
  std::lock_guard lock(mutex_);
  return sealed_.empty() && (!current_ || current_->entries() == 0);
}

std::uint64_t Spool::bytes() const {
  std::lock_guard lock(mutex_);
  return total_bytes_;
}

}  // namespace bgpscribe::collector
