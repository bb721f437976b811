#include "collector/core/spool.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <unordered_map>

#include "codec/bgp/afi_safi.hpp"
#include "codec/wire/reader.hpp"
#include "codec/wire/writer.hpp"

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

std::span<const std::uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};  // NOLINT
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

void Spool::encode(const Record& record, std::uint64_t snapshot_id,
                   std::vector<std::uint8_t>& out) {
  codec::wire::Writer w;
  const auto at = w.placeholder_u32();
  encode_body(record, snapshot_id, w);
  w.patch_u32(at, static_cast<std::uint32_t>(w.since(at) - 4));
  const auto bytes = w.bytes();
  out.insert(out.end(), bytes.begin(), bytes.end());
}

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
  w.u8(record.peer ? 1 : 0);
  if (record.peer) {
    const auto& p = *record.peer;
    w.u32(p.id);
    put_string(w, as_bytes(p.name));
    put_ip(w, p.peer_address);
    put_ip(w, p.local_address);
    w.u16(p.peer_port);
    w.u16(p.local_port);
    w.u32(p.peer_as);
    w.u32(p.local_as);
    w.u32(p.peer_bgp_id);
    w.u32(p.local_bgp_id);
  }
  put_string(w, as_bytes(record.reason));
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
  if (has_peer > 1) {
    return std::nullopt;
  }
  if (has_peer == 1) {
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
  current_ = std::fopen(current_path_.c_str(), "wb");
  current_bytes_ = 0;
  return current_ != nullptr;
}

void Spool::close_segment() {
  if (current_ == nullptr) {
    return;
  }
  std::fclose(current_);
  current_ = nullptr;
  if (current_bytes_ > 0) {
    sealed_.emplace_back(current_path_, current_bytes_);
  } else {
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
  encode(record, snapshot_id, buffer_);
  if (total_bytes_ + buffer_.size() > max_bytes_) {
    return false;
  }
  if (current_ != nullptr && current_bytes_ >= segment_bytes_) {
    close_segment();
  }
  if (current_ == nullptr && !open_segment()) {
    return false;
  }
  if (std::fwrite(buffer_.data(), 1, buffer_.size(), current_) != buffer_.size()) {
    return false;
  }
  if (snapshot_id != 0) {
    snapshots_.emplace(snapshot_id, record.snapshot);
  }
  current_bytes_ += buffer_.size();
  total_bytes_ += buffer_.size();
  return true;
}

std::optional<std::string> Spool::take_segment() {
  std::lock_guard lock(mutex_);
  if (sealed_.empty() && current_ != nullptr && current_bytes_ > 0) {
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

std::size_t Spool::read_segment(const std::string& path, std::vector<Record>& out) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::uint8_t> data((std::istreambuf_iterator<char>(in)),
                                 std::istreambuf_iterator<char>());
  in.close();
  std::size_t pos = 0;
  std::size_t bad = 0;
  // Records read back share one PeerInfo per peer, as the live ones did: one allocation per
  // peer instead of per record, and exporters that key on the object see one peer.
  std::unordered_map<std::uint32_t, exporters::PeerInfoPtr> peers;
  while (data.size() - pos >= 4) {
    const std::uint32_t n = codec::wire::load_u32(data, pos);
    if (data.size() - pos - 4 < n) {
      ++bad;  // cut short by a crash
      break;
    }
    std::uint64_t snapshot_id = 0;
    auto r = decode(std::span(data).subspan(pos + 4, n), snapshot_id);
    pos += 4 + n;
    if (!r) {
      ++bad;
      continue;
    }
    if (r->type == exporters::RecordType::RibSnapshot) {
      std::lock_guard lock(mutex_);
      auto it = snapshots_.find(snapshot_id);
      if (it == snapshots_.end()) {
        continue;  // from an earlier run: the tables it viewed are gone
      }
      r->snapshot = std::move(it->second);
      snapshots_.erase(it);
    }
    if (r->peer) {
      auto& known = peers[r->peer->id];
      if (known && *known == *r->peer) {
        r->peer = known;
      } else {
        known = r->peer;
      }
    }
    out.push_back(std::move(*r));
  }
  std::remove(path.c_str());
  return bad;
}

bool Spool::empty() const {
  std::lock_guard lock(mutex_);
  return sealed_.empty() && (current_ == nullptr || current_bytes_ == 0);
}

std::uint64_t Spool::bytes() const {
  std::lock_guard lock(mutex_);
  return total_bytes_;
}

}  // namespace bgpscribe::collector
