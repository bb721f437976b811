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
